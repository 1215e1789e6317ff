#!/usr/bin/env bash
# Run the whole suite against a real Asterisk ("test" instance, its own ports) started by the session fixture.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
mkdir -p artefacts
start=$(date +%s)
"$VENV/bin/python" -m pytest -q -p no:cacheprovider --junitxml=artefacts/junit.xml "$@"
rc=$?
echo "[test] suite took $(( $(date +%s) - start )) s (exit $rc)"
if [ "$rc" -eq 5 ]; then
  echo "[test] no tests were collected" >&2
fi
exit $rc

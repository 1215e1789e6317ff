#!/usr/bin/env bash
# Run the whole suite against a real Asterisk started by the session fixtures, in two pytest-xdist workers by
# default: each a session of its own on its own slot (tests/slot.py: "test" and "test1", their own ports,
# PostgreSQL and controller), each test file whole on one worker (--dist loadfile): about 760 s instead of
# ~1,350 s in one process (P112_TEST_WORKERS=0).
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
mkdir -p artefacts
start=$(date +%s)
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -n "${P112_TEST_WORKERS:-2}" --dist loadfile \
  --junitxml=artefacts/junit.xml "$@"
rc=$?
echo "[test] suite took $(( $(date +%s) - start )) s (exit $rc)"
if [ "$rc" -eq 5 ]; then
  echo "[test] no tests were collected" >&2
fi
exit $rc

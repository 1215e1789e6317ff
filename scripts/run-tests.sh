#!/usr/bin/env bash
# Run the whole suite against real Asterisk instances started by the session fixtures: two pytest-xdist workers,
# each a session of its own on its own slot (tests/slot.py: "test" and "test1", their own ports, PostgreSQL and
# controller), each test file whole on one worker (its tests share set-up and order). P112_TEST_WORKERS=1: one.
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

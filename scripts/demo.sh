#!/usr/bin/env bash
# The live demo: Asterisk, controller + console, simulated softphones and a trickle of citizens' calls.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
P="$VENV/bin/padang112"
RATE=${RATE:-6}
pids=()
cleanup() {
  echo "[demo] stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$P" asterisk stop || true
}
trap cleanup EXIT
trap "exit 130" INT TERM

"$P" asterisk start
"$P" serve &
pids+=($!)
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:${PADANG112_WEB__PORT:-8080}/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
echo "[demo] console: http://127.0.0.1:${PADANG112_WEB__PORT:-8080}/"
"$P" simulate --rate "$RATE" &
pids+=($!)
wait -n "${pids[@]}"

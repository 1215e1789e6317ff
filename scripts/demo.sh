#!/usr/bin/env bash
# The live demo: Asterisk, controller + console, simulated softphones, a trickle of citizens' calls (now and then
# a few at once, some of them impatient), simulated call takers and agency operators at the console, demo cameras.
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

# The console over HTTPS with the self-signed certificate made at install (scripts/setup.sh): the browser warns
# once; production uses the city's certificate ([web] tls_cert / tls_key).
"$P" tls selfsigned >/dev/null
TLS_DIR=${PADANG112_STATE_DIR:-/var/lib/padang112}/tls
export PADANG112_WEB__TLS_CERT=${PADANG112_WEB__TLS_CERT:-$TLS_DIR/console.crt}
export PADANG112_WEB__TLS_KEY=${PADANG112_WEB__TLS_KEY:-$TLS_DIR/console.key}

# Demo console accounts: created once with generated passwords, kept (0600) and printed at each start.
ACCOUNTS=${DEMO_ACCOUNTS:-/var/lib/padang112/demo-accounts.txt}
if [ ! -s "$ACCOUNTS" ]; then
  (umask 077; : > "$ACCOUNTS")
  for spec in "joni supervisor" "rina call_taker" "bpbd agency bpbd" "admin admin" "layar wall"; do
    set -- $spec
    pw=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(12))')
    agency=()
    [ -n "${3:-}" ] && agency=(--agency "$3")
    printf '%s\n' "$pw" | "$P" user add "$1" --role "$2" "${agency[@]}" --password-stdin >/dev/null 2>&1 \
      || printf '%s\n' "$pw" | "$P" user passwd "$1" --password-stdin >/dev/null
    printf '%-8s %-11s %s\n' "$1" "$2" "$pw" >> "$ACCOUNTS"
  done
fi
"$P" serve &
pids+=($!)
for _ in $(seq 1 50); do
  curl -fsS --cacert "$PADANG112_WEB__TLS_CERT" "https://127.0.0.1:${PADANG112_WEB__PORT:-8080}/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
echo "[demo] console: https://127.0.0.1:${PADANG112_WEB__PORT:-8080}/  (self-signed certificate; accounts: user, role, password)"
sed 's/^/[demo]   /' "$ACCOUNTS"
"$P" simulate --rate "$RATE" --room --impatient 0.3 --burst 8 &
pids+=($!)
wait -n "${pids[@]}"

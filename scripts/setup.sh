#!/usr/bin/env bash
# Install everything padang112 needs on a Debian 12 machine, as root. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
say() { printf '[setup] %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (it installs Debian packages and builds the Asterisk chroot)" >&2
  exit 1
fi

APT_PACKAGES="python3 python3-venv python3-dev debootstrap sip-tester tcpdump espeak-ng sox iproute2 ca-certificates
  chromium fonts-dejavu-core ffmpeg systemd prometheus logrotate openssl postgresql-15 kamailio"  # ffmpeg: RTSP cameras, test
  # cameras; systemd: systemd-analyze verify; prometheus: promtool checks ops/prometheus/ (make lint), the live metrics
  # test runs the real server; logrotate: ops/logrotate/ rotates the Asterisk logs (tested on the live switch)
  # openssl: the demo's self-signed console certificate; tcpdump: bench/load.py's INVITE timestamps on loopback
  # postgresql-15: the storage tests run on a throwaway PostgreSQL 15 server besides SQLite (tests/fixtures/postgres.py),
  # pg_dump/pg_restore back up a PostgreSQL database_url; the Debian package also starts a cluster of its own (5432)
  # kamailio: the SIP edge of the redundant deployment ([edge], padang112/edge; tests/fixtures/edge.py): its base
  # package has every module the edge loads (dispatcher, pike, registrar, usrloc, auth, htable, ctl)
missing=""
for p in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  say "installing Debian packages:$missing"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi
# Debian's own Kamailio service would listen on every address at 5060 (Asterisk's port): padang112 runs its edge
# itself (`padang112 edge run`), never that one
if [ -e /etc/systemd/system/multi-user.target.wants/kamailio.service ]; then
  systemctl disable kamailio.service >/dev/null 2>&1 || rm -f /etc/systemd/system/multi-user.target.wants/kamailio.service
fi

# Accounts (docs/SECURITY.md): the console/controller runs as padang112; ffmpeg/ffprobe, which parse untrusted
# camera streams, as padang112-media. Neither can log in; root is needed only for installing.
# padang112 gets id 1120 when free, the id the controller's image uses (Dockerfile): one owner on both sides.
for account in padang112 padang112-media; do
  if ! id -u "$account" >/dev/null 2>&1; then
    say "creating the system account $account"
    ids=()
    if [ "$account" = padang112 ] && ! getent passwd 1120 >/dev/null && ! getent group 1120 >/dev/null; then
      groupadd --system --gid 1120 padang112 && ids=(--uid 1120 --gid padang112)
    else
      ids=(--user-group)
    fi
    useradd --system "${ids[@]}" --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$account"
  fi
done
# The state directory holds the Asterisk chroot, from which root runs programs: root keeps it, the service account
# may add its own files (group, sticky: never rename or replace root's), nobody else may enter (privileges.py).
install -d -m 1770 -o root -g padang112 /var/lib/padang112

if [ ! -x "$VENV/bin/python" ]; then
  say "creating the Python environment in $VENV"
  python3 -m venv "$VENV"
fi
stamp="$VENV/.installed-$(cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)"
if [ ! -e "$stamp" ]; then
  say "installing Python packages (aiohttp, SQLAlchemy, panoramisk, pjsua2, pytest, ...)"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -c constraints.txt -e ".[sim,test,bench]"  # the tested versions
  touch "$stamp"
fi

say "console certificate (self-signed, for the demo): $("$VENV/bin/padang112" tls selfsigned | head -1)"

say "Asterisk (Debian sid chroot)"
"$VENV/bin/padang112" asterisk install
say "done"

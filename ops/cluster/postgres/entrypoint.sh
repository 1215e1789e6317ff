#!/bin/sh
# The cluster's PostgreSQL in its container (ops/cluster/postgres/Dockerfile): what `padang112 cluster up` does
# with pg_ctl (padang112/cluster/postgres.py), then the server in the foreground as the container's process.
#
#   1. initdb into $PGROOT/data once, with $INITDB_OPTIONS (docker-compose.yml: Server.initdb_options());
#   2. the role and database $ROLE, the role's password from $POSTGRES_PASSWORD_FILE (written by `padang112 cluster
#      render` from secrets.toml), set on every start: the secrets file is the truth. Over the socket, while the
#      server listens on no TCP address; the password is read by psql itself, never on a command line;
#   3. `postgres -D $PGROOT/data "$@"`: the arguments are the server's options (Server.options(): 127.0.0.1 only).
set -eu
bin=/usr/lib/postgresql/15/bin
data="$PGROOT/data"
: "${ROLE:?}" "${POSTGRES_PASSWORD_FILE:?}" "${INITDB_OPTIONS:?}"
test -r "$POSTGRES_PASSWORD_FILE" && test -s "$POSTGRES_PASSWORD_FILE" || {
    echo "padang112-postgres: no password in $POSTGRES_PASSWORD_FILE: run \`padang112 cluster render\`" >&2
    exit 1
}
umask 077
if [ ! -s "$data/PG_VERSION" ]; then
    # shellcheck disable=SC2086  # INITDB_OPTIONS is a list of options
    "$bin/initdb" --pgdata "$data" $INITDB_OPTIONS >/dev/null
fi
"$bin/pg_ctl" -D "$data" -w -o "-c listen_addresses='' -c unix_socket_directories='$PGROOT'" start
"$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGROOT" -U postgres -d postgres \
    -v role="$ROLE" -v password_file="$POSTGRES_PASSWORD_FILE" <<'SQL'
\set password `cat :'password_file'`
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')
\gexec
ALTER ROLE :"role" LOGIN PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I TEMPLATE template0', :'role', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'role')
\gexec
SQL
"$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
exec "$bin/postgres" -D "$data" "$@"

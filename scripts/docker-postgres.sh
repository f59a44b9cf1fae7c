#!/usr/bin/env bash
# Entrypoint of the `postgres` image (Dockerfile): the first start creates the cluster in
# $PGDATA with the role and database the studio uses (VCS_DB_USER / VCS_DB_PASSWORD / VCS_DB_NAME,
# password auth over the network), then PostgreSQL runs in the foreground.
set -euo pipefail
PGDATA=${PGDATA:-/var/lib/postgresql/data}
bin=/usr/lib/postgresql/15/bin
user=${VCS_DB_USER:-vcs} name=${VCS_DB_NAME:-studio}
: "${VCS_DB_PASSWORD:?set VCS_DB_PASSWORD}"
if [ ! -f "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp); printf '%s\n' "$VCS_DB_PASSWORD" >"$pwfile"
  "$bin/initdb" -D "$PGDATA" -U "$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 -E UTF8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  "$bin/pg_ctl" -D "$PGDATA" -o "-c listen_addresses='' -k /tmp" -w start >/dev/null
  "$bin/createdb" -h /tmp -U "$user" "$name"
  "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec "$bin/postgres" -D "$PGDATA" -c listen_addresses='*' -k /tmp -c max_connections=${VCS_DB_MAX_CONNECTIONS:-200}

#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server in a folder, for tests and local trials (Debian's postgresql
# package; nothing is installed as a service).
#
#   scripts/pg-tmp.sh start DIR [PORT]   initdb (first time) + pg_ctl start on a unix socket in DIR
#                                        (no TCP); prints the admin url on stdout
#   scripts/pg-tmp.sh stop DIR           pg_ctl stop -m immediate
#   scripts/pg-tmp.sh url DIR [DB]       the url of database DB (default postgres)
#
# PostgreSQL refuses to run as root: as root the server runs as the `postgres` system user
# (created by the package), which then owns DIR/pgdata. The role in the url is `vcs`, a superuser
# made at initdb time, so tests can CREATE DATABASE.
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|url DIR [PORT|DB]" >&2; exit 2; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -x "$bin/initdb" ] || { echo "$0: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 3; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
port_of() { cat "$dir/port" 2>/dev/null || echo 5432; }
url_of() { echo "postgresql://vcs@/${1:-postgres}?host=$dir&port=$(port_of)"; }

case "$cmd" in
  start)
    port=${3:-$(( 20000 + RANDOM % 20000 ))}
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/pgdata/PG_VERSION" ]; then
      as_pg "$bin/initdb" -D "$dir/pgdata" -U vcs --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    echo "$port" | as_pg tee "$dir/port" >/dev/null
    as_pg "$bin/pg_ctl" -D "$dir/pgdata" -l "$dir/server.log" -w -t 30 \
      -o "-k $dir -p $port -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c max_connections=200" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    url_of ;;
  stop)
    [ -f "$dir/pgdata/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir/pgdata" -m immediate stop >/dev/null 2>&1 || true ;;
  url) url_of "${3:-}" ;;
  *) echo "usage: $0 start|stop|url DIR [PORT|DB]" >&2; exit 2 ;;
esac

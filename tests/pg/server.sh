#!/bin/bash
# A throwaway PostgreSQL 15 cluster on loopback for the tests (a CTest fixture:
# `server.sh start DIR` before the tests that need it, `server.sh stop DIR`
# after). DIR/url is the server's base URL, postgresql://postgres@127.0.0.1:PORT;
# tests make a database of their own on it. Trust authentication on 127.0.0.1
# only; fsync off (a test cluster dies with its folder).
set -euo pipefail
cmd=${1:?start|stop}; DIR=$(realpath -m "${2:?folder}")
PGBIN=/usr/lib/postgresql/15/bin
AS=()
[ "$(id -u)" = 0 ] && AS=(runuser -u postgres --)

case $cmd in
start)
  if [ ! -x "$PGBIN/initdb" ]; then
    echo "PostgreSQL 15 is not installed: apt-get install postgresql-15 (scripts/install-deps.sh does)" >&2
    exit 1
  fi
  "$0" stop "$DIR" 2>/dev/null || true
  rm -rf "$DIR"; mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
  "${AS[@]}" "$PGBIN/initdb" -D "$DIR/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync > "$DIR/initdb.log"
  # A free port below 32768 (the tests' rule), tried until the server binds it.
  for _ in 1 2 3 4 5 6 7 8; do
    PORT=$(( 20000 + RANDOM % 12000 ))
    if "${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
        -o "-k $DIR -p $PORT -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200" \
        start > /dev/null; then
      echo "postgresql://postgres@127.0.0.1:$PORT" > "$DIR/url"
      exit 0
    fi
  done
  echo "PostgreSQL did not start; see $DIR/server.log" >&2
  tail -5 "$DIR/server.log" >&2 || true
  exit 1 ;;
stop)
  [ -f "$DIR/data/postmaster.pid" ] || exit 0
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w stop > /dev/null
  rm -rf "$DIR" ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac

#!/bin/sh
# The `postgres` image's entrypoint contract, for a stand-in built from Debian's PostgreSQL 17: started as root,
# it prepares PGDATA and re-executes itself as the unprivileged `postgres` user (initdb and postgres refuse root);
# on an empty PGDATA it runs initdb for POSTGRES_USER with POSTGRES_PASSWORD (scram-sha-256 over TCP) and creates
# POSTGRES_DB; then it execs `postgres` with the arguments it was given (`postgres -c name=value ...`).
set -eu
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
export PGDATA
case "${1:-postgres}" in -*) set -- postgres "$@" ;; esac
[ "$#" -gt 0 ] || set -- postgres

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set (this image refuses to start a server without one)}"
  user="${POSTGRES_USER:-postgres}"
  db="${POSTGRES_DB:-$user}"
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [ "$db" != postgres ]; then
    postgres --single -D "$PGDATA" -j postgres <<SQL >/dev/null
CREATE DATABASE "$db";
SQL
  fi
  echo "database initialised: user $user, database $db"
fi
exec "$@"

#!/bin/sh
# The PgBouncer image's contract (the environment variables the compose file sets), for a stand-in built from
# Debian's pgbouncer: writes pgbouncer.ini and the user list from the environment, then runs PgBouncer as the
# unprivileged `postgres` user (it refuses root). Variables: DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD,
# AUTH_TYPE, LISTEN_ADDR, LISTEN_PORT, POOL_MODE, DEFAULT_POOL_SIZE, MIN_POOL_SIZE, RESERVE_POOL_SIZE,
# MAX_CLIENT_CONN, MAX_DB_CONNECTIONS, SERVER_IDLE_TIMEOUT, SERVER_LIFETIME, IGNORE_STARTUP_PARAMETERS.
set -eu
dir=/etc/pgbouncer
: "${DB_HOST:?DB_HOST must be set}" "${DB_USER:?DB_USER must be set}" "${DB_PASSWORD:?DB_PASSWORD must be set}"
mkdir -p "$dir" /var/run/pgbouncer
umask 077
printf '"%s" "%s"\n' "$DB_USER" "$DB_PASSWORD" >"$dir/userlist.txt"
cat >"$dir/pgbouncer.ini" <<INI
[databases]
${DB_NAME:-*} = host=$DB_HOST port=${DB_PORT:-5432}${DB_NAME:+ dbname=$DB_NAME}

[pgbouncer]
listen_addr = ${LISTEN_ADDR:-0.0.0.0}
listen_port = ${LISTEN_PORT:-5432}
unix_socket_dir =
auth_type = ${AUTH_TYPE:-md5}
auth_file = $dir/userlist.txt
pool_mode = ${POOL_MODE:-session}
default_pool_size = ${DEFAULT_POOL_SIZE:-20}
min_pool_size = ${MIN_POOL_SIZE:-0}
reserve_pool_size = ${RESERVE_POOL_SIZE:-0}
max_client_conn = ${MAX_CLIENT_CONN:-100}
max_db_connections = ${MAX_DB_CONNECTIONS:-0}
server_idle_timeout = ${SERVER_IDLE_TIMEOUT:-600}
server_lifetime = ${SERVER_LIFETIME:-3600}
ignore_startup_parameters = ${IGNORE_STARTUP_PARAMETERS:-extra_float_digits}
INI
chown -R postgres:postgres "$dir" /var/run/pgbouncer
exec setpriv --reuid=postgres --regid=postgres --init-groups pgbouncer "$dir/pgbouncer.ini"

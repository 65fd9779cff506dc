#!/usr/bin/env bash
# A Docker engine for the Docker path: the one DOCKER_HOST (or the default socket) names, or, as root on Debian
# where none answers, one this script installs (docker.io, iptables) and starts itself, with its state in the
# machine-wide cache so that images built once serve every clone. Only an engine this script started is stopped.
# It also makes sure `docker compose` (v2) is there, installing the plugin as root on Debian when it is not.
# DOCKER_ENGINE_INSTALL=0 forbids installing anything: an engine that answers, or an installed dockerd, or none.
#
#   scripts/docker/engine.sh start   # prints `export DOCKER_HOST=...` for the caller to eval (and
#                                    # `export DOCKER_ENGINE_STARTED=1` when it started the engine); exit 3: no engine
#   scripts/docker/engine.sh stop    # stops the engine `start` started (no-op otherwise)
set -euo pipefail

CACHE="${SERVERLESS_SQLALCHEMY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/serverless-sqlalchemy}"
STATE="$CACHE/dockerd"
SOCK="$STATE/docker.sock"
PIDFILE="$STATE/dockerd.pid"

# Compose v2 (`docker compose`, which the README uses): Debian ships it as the docker-compose package from trixie
# on; on an older release the plugin binary is taken from trixie's package (a Go binary needing only libc) and
# put where the docker client looks for plugins.
ensure_compose() {
  docker compose version >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1 || [ "${DOCKER_ENGINE_INSTALL:-1}" = 0 ]; then
    echo "docker compose (v2, the compose plugin) is missing: install it (Docker's docker-compose-plugin," \
         "or Debian's docker-compose from trixie on)" >&2
    return 3
  fi
  echo "==> installing the docker compose plugin" >&2
  if apt-cache policy docker-compose 2>/dev/null | grep -qE 'Candidate: 2\.'; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
      docker-compose >>"$CACHE.apt.log" 2>&1 && return 0
  fi
  local apt="$CACHE/apt-trixie" uri
  uri="$(grep -hoE '^(deb|URIs:) +(\[[^]]*\] +)?[a-z]+://[^ ]+/debian/?( |$)' /etc/apt/sources.list \
           /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
         grep -oE '[a-z]+://[^ ]+' | head -1)"
  if [ -z "$uri" ]; then echo "no Debian archive in the apt sources: install docker compose v2 yourself" >&2; return 3; fi
  mkdir -p "$apt/lists/partial" "$apt/cache"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main" >"$apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o Dir::State::status=/dev/null
              -o APT::Sandbox::User=root)
  if ! (apt-get "${opts[@]}" update -qq && cd "$apt" && rm -f docker-compose_*.deb &&
        apt-get "${opts[@]}" download docker-compose && rm -rf x && dpkg-deb -x docker-compose_*.deb x) \
        >>"$CACHE.apt.log" 2>&1; then
    echo "could not fetch trixie's docker-compose package (see $CACHE.apt.log)" >&2; return 3
  fi
  install -D -m 755 "$apt/x/usr/libexec/docker/cli-plugins/docker-compose" \
    /usr/local/lib/docker/cli-plugins/docker-compose
  docker compose version >/dev/null
}

engine_answers() { DOCKER_HOST="$1" timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# Prints the DOCKER_HOST of an engine that answers, starting one if need be.
find_engine() {
  if [ -n "${DOCKER_HOST:-}" ]; then   # the engine the user named, or none: never another one behind their back
    if engine_answers "$DOCKER_HOST"; then echo "$DOCKER_HOST"; return 0; fi
    echo "no Docker engine answers at DOCKER_HOST=$DOCKER_HOST (unset it to use the default socket," \
         "or to let this script start one as root)" >&2
    return 3
  fi
  if engine_answers "unix:///var/run/docker.sock"; then
    echo "unix:///var/run/docker.sock"; return 0
  fi
  if [ -S "$SOCK" ] && engine_answers "unix://$SOCK"; then   # ours, left by an earlier run that was killed
    echo "unix://$SOCK"; return 0
  fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "no Docker engine answers (DOCKER_HOST unset, /var/run/docker.sock): start Docker, or run" \
         "this as root on Debian/Ubuntu so that it can install and start one" >&2
    return 3
  fi
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v iptables >/dev/null 2>&1; then
    if [ "${DOCKER_ENGINE_INSTALL:-1}" = 0 ]; then   # the caller may start an installed engine, not install one
      echo "no Docker engine answers and none is installed here (DOCKER_ENGINE_INSTALL=0: nothing is installed)" >&2
      return 3
    fi
    echo "==> installing docker.io and iptables (apt-get)" >&2
    (apt-get -o DPkg::Lock::Timeout=300 update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
        docker.io iptables) >"$CACHE.apt.log" 2>&1 || {
      echo "apt-get could not install docker.io (see $CACHE.apt.log)" >&2; return 3; }
  fi
  mkdir -p "$STATE"
  echo "==> starting dockerd (state in $STATE)" >&2
  nohup dockerd --data-root "$STATE/data" --exec-root "$STATE/exec" --pidfile "$PIDFILE" -H "unix://$SOCK" \
    >"$STATE/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    if engine_answers "unix://$SOCK"; then echo "unix://$SOCK"; : >"$STATE/started"; return 0; fi
    sleep 0.5
  done
  echo "dockerd did not answer within 60 s; its log: $STATE/dockerd.log" >&2
  tail -20 "$STATE/dockerd.log" >&2 || true
  return 3
}

start() {
  local host
  mkdir -p "$CACHE" "$STATE"
  rm -f "$STATE/started"
  host="$(find_engine)" || return 3
  ensure_compose || return 3
  echo "export DOCKER_HOST=$host"
  if [ -f "$STATE/started" ]; then rm -f "$STATE/started"; echo "export DOCKER_ENGINE_STARTED=1"; fi
}

stop() {
  [ -f "$PIDFILE" ] || return 0
  local pid; pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

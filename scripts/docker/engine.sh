#!/usr/bin/env bash
# A Docker engine for the Docker path: the one DOCKER_HOST (or the default socket) names, or, as root on Debian
# where none answers, one this script installs (docker.io, iptables) and starts itself, with its state in the
# machine-wide cache so that images built once serve every clone. Only an engine this script started is stopped.
#
#   scripts/docker/engine.sh start   # prints `export DOCKER_HOST=...` for the caller to eval; exit 3: no engine
#   scripts/docker/engine.sh stop    # stops the engine `start` started (no-op otherwise)
set -euo pipefail

CACHE="${SERVERLESS_SQLALCHEMY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/serverless-sqlalchemy}"
STATE="$CACHE/dockerd"
SOCK="$STATE/docker.sock"
PIDFILE="$STATE/dockerd.pid"

engine_answers() { DOCKER_HOST="$1" timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start() {
  if [ -n "${DOCKER_HOST:-}" ] && engine_answers "$DOCKER_HOST"; then
    echo "export DOCKER_HOST=$DOCKER_HOST"; return 0
  fi
  if [ -z "${DOCKER_HOST:-}" ] && engine_answers "unix:///var/run/docker.sock"; then
    echo "export DOCKER_HOST=unix:///var/run/docker.sock"; return 0
  fi
  if [ -S "$SOCK" ] && engine_answers "unix://$SOCK"; then   # ours, left by an earlier run that was killed
    echo "export DOCKER_HOST=unix://$SOCK"; return 0
  fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-unset}, /var/run/docker.sock): start Docker, or run" \
         "this as root on Debian/Ubuntu so that it can install and start one" >&2
    return 3
  fi
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v iptables >/dev/null 2>&1; then
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
    if engine_answers "unix://$SOCK"; then echo "export DOCKER_HOST=unix://$SOCK"; return 0; fi
    sleep 0.5
  done
  echo "dockerd did not answer within 60 s; its log: $STATE/dockerd.log" >&2
  tail -20 "$STATE/dockerd.log" >&2 || true
  return 3
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

#!/usr/bin/env bash
# make docker-check: the Docker path a user takes, run for real and checked. A Docker engine (found, or started as
# root on Debian), the images (pulled, or built offline as stand-ins), then what the README tells a Docker user:
# `docker compose up -d --wait`, `sam build`, `sam local invoke --config-env local` of every event file,
# `sam local start-api` and `sam local start-lambda` (tests/docker drives and checks them). Everything it started
# is stopped at the end: the compose services, and the engine if it started one.
#
#   scripts/docker/check.sh                 # exit 3 when no Docker engine can be had, 1 when a check fails
#   scripts/docker/check.sh --if-possible   # for make test: where no engine can be had, one SKIPPED line, exit 0
#   PYTEST_ARGS="-k invoke" scripts/docker/check.sh   # a part of it
set -euo pipefail
cd "$(dirname "$0")/../.."

CACHE="${SERVERLESS_SQLALCHEMY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/serverless-sqlalchemy}"
PIDFILE="$CACHE/dockerd/dockerd.pid"
SAM=.venv-sam/bin/sam
mkdir -p "$CACHE"
started=$(date +%s)

# One run at a time on a machine: they would share the compose project, its ports and the engine.
exec 9>"$CACHE/docker-check.lock"
flock 9

engine_was_running=no
[ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && engine_was_running=yes
if ! engine_env="$(bash scripts/docker/engine.sh start 2>"$CACHE/engine.err")"; then
  if [ "${1:-}" = --if-possible ]; then
    echo "SKIPPED docker-check: $(grep -v '^==>' "$CACHE/engine.err" | tail -1)"
    exit 0
  fi
  cat "$CACHE/engine.err" >&2
  exit 3
fi
grep '^==>' "$CACHE/engine.err" >&2 || true
eval "$engine_env"

workdir="$(mktemp -d)"
cleanup() {
  local status=$?
  echo "==> tearing down (docker compose down)" >&2
  docker compose down --volumes --remove-orphans --timeout 10 >/dev/null 2>&1 || true
  # Containers sam local left behind if it was interrupted (it labels the ones it runs).
  docker ps -aq --filter label=sam.cli.container.type=lambda | xargs -r docker rm -f >/dev/null 2>&1 || true
  rm -rf "$workdir"
  if [ "$engine_was_running" = no ] && [ -f "$PIDFILE" ]; then
    echo "==> stopping the Docker engine this run started" >&2
    bash scripts/docker/engine.sh stop
  fi
  echo "==> docker-check took $(($(date +%s) - started)) s" >&2
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The functions run in the host's architecture by default. The template's arm64 on an x86 host runs under qemu,
# where importing SQLAlchemy, pydantic and Powertools alone takes about 20 s (measured on 2 cores), past the
# functions' 15 s timeout: every invoke would time out. DOCKER_CHECK_ARCH=arm64 runs them as the template says.
template_arch="$(grep -m1 -E '^\s+Architectures:' template.yaml | grep -oE 'arm64|x86_64')"
case "$(uname -m)" in aarch64 | arm64) host_arch=arm64 ;; *) host_arch=x86_64 ;; esac
export LAMBDA_ARCH="${DOCKER_CHECK_ARCH:-$host_arch}"
template=template.yaml
if [ "$LAMBDA_ARCH" != "$template_arch" ]; then
  echo "==> building the functions for $LAMBDA_ARCH (the host's; the template says $template_arch)" >&2
  template="$workdir/template.yaml"
  sed -E "/(Architectures|BuildArchitecture)/s/$template_arch/$LAMBDA_ARCH/" template.yaml >"$template"
fi

bash scripts/sam-venv.sh
bash scripts/docker/images.sh

echo "==> docker compose up -d --wait" >&2
POSTGRES_PASSWORD="$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))')"
export POSTGRES_PASSWORD
docker compose up -d --wait --quiet-pull

# The README's env.local.json, written elsewhere so that a user's own file is left alone.
cat >"$workdir/env.local.json" <<JSON
{"Parameters": {"DATABASE_URL": "postgresql://app:${POSTGRES_PASSWORD}@postgres:5432/app",
                "DB_SECRET_ARN": "", "DB_SSLMODE": "disable"}}
JSON

export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export SAM_CLI_TELEMETRY=0 SAM_CLI_DISABLE_UPDATE_CHECK=1
unset AWS_PROFILE
if ! python_dir="$(bash scripts/python313.sh)"; then
  echo "docker-check needs Python 3.13 (the template's runtime) for sam build: none on PATH or in pyenv" >&2
  exit 3
fi
echo "==> sam build" >&2
PATH="$python_dir:$PATH" "$SAM" build --template-file "$template" --base-dir . >"$workdir/sam-build.log" 2>&1 || { cat "$workdir/sam-build.log" >&2; exit 1; }
# The build compiled, with the runtime's Python, at the paths the container sees (/var/task, /opt): an arm64
# function runs under qemu here, where a cold start compiling SQLAlchemy, pydantic and Powertools takes minutes.
for built in .aws-sam/build/*/; do
  case "$built" in */DbLayer/) inside=/opt ;; *) inside=/var/task ;; esac
  "$python_dir/python3.13" -m compileall -q -f -j 0 -s "$built" -p "$inside" "$built" >/dev/null
done
# SAM CLI reuses the image it built with the layer while its tag (the layer's name) is unchanged, even after the
# layer's code changed: removed, so that this run's first invoke builds it from this build.
docker images -q samcli/lambda-python | sort -u | xargs -r docker image rm -f >/dev/null 2>&1 || true

echo "==> pytest tests/docker (sam local invoke, start-api, start-lambda, harness compare --target)" >&2
DOCKER_CHECK_ENV_VARS="$workdir/env.local.json" DOCKER_CHECK_DATABASE_URL="postgresql://app:${POSTGRES_PASSWORD}@127.0.0.1:5432/app" \
  .venv/bin/pytest tests/docker -p no:cacheprovider --tb=short ${PYTEST_ARGS:-}

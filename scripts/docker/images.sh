#!/usr/bin/env bash
# The images the Docker path needs: the Lambda Python 3.13 base image SAM CLI builds on (in the template's
# architecture), and the two images docker-compose.yml names (Postgres 17, PgBouncer). Each is pulled where a
# registry answers; where none does, a local stand-in is built from Debian trixie's packages (debootstrap), under
# the same tag and honouring the same contract (docker/<image>/ holds the entrypoints that carry the contract).
# A stand-in says so in its labels (io.serverless-sqlalchemy.stand-in=true). Nothing is rebuilt while its tag
# exists; the root filesystems stay cached under the machine-wide cache directory.
#
#   scripts/docker/images.sh            # DOCKER_HOST must name a running engine (see scripts/docker/engine.sh)
#   scripts/docker/images.sh --list     # print the tags and exit
#   scripts/docker/images.sh --compose  # only the compose file's images (harness compare --postgres docker)
set -euo pipefail
cd "$(dirname "$0")/../.."

CACHE="${SERVERLESS_SQLALCHEMY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/serverless-sqlalchemy}"
ROOTFS="$CACHE/rootfs"
SUITE=trixie
LABEL_KEY=io.serverless-sqlalchemy

# The template's architecture (Globals.Function.Architectures): x86_64 or arm64, as SAM CLI names them; LAMBDA_ARCH
# overrides it (scripts/docker/check.sh runs the functions in the host's architecture: see there why).
LAMBDA_ARCH="${LAMBDA_ARCH:-$(grep -m1 -E '^\s+Architectures:' template.yaml | grep -oE 'arm64|x86_64')}"
LAMBDA_TAG="public.ecr.aws/lambda/python:3.13-$LAMBDA_ARCH"
POSTGRES_TAG="$(awk '/^  postgres:/{f=1} f && /image:/{print $2; exit}' docker-compose.yml)"
PGBOUNCER_TAG="$(awk '/^  pgbouncer:/{f=1} f && /image:/{print $2; exit}' docker-compose.yml)"

if [ "${1:-}" = --list ]; then printf '%s\n' "$LAMBDA_TAG" "$POSTGRES_TAG" "$PGBOUNCER_TAG"; exit 0; fi

debian_arch() { case "$1" in x86_64 | amd64) echo amd64 ;; arm64 | aarch64) echo arm64 ;; *) return 1 ;; esac; }
HOST_ARCH="$(debian_arch "$(uname -m)")"

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# A registry that answers wins: the real image beats a stand-in.
try_pull() {
  echo "==> $1: not present; trying to pull it" >&2
  if timeout 120 docker pull --quiet --platform "linux/$2" "$1" >/dev/null 2>&1; then return 0; fi
  echo "    no registry answered: building an offline stand-in from Debian $SUITE packages" >&2
  return 1
}

need_root_tools() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "building the offline stand-ins needs root on Debian/Ubuntu (debootstrap); or make $* available to the engine" >&2
    exit 3
  fi
  if ! command -v debootstrap >/dev/null 2>&1; then
    echo "==> installing debootstrap (apt-get)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
      debootstrap >/dev/null
  fi
}

# Run binaries of another architecture (arm64 on an x86 host) through qemu: register it with the kernel's
# binfmt_misc, with the fix-binary flag, so that it works inside containers too.
ensure_emulation() {
  local arch="$1" qemu
  [ "$arch" = "$HOST_ARCH" ] && return 0
  qemu="qemu-$(case "$arch" in arm64) echo aarch64 ;; amd64) echo x86_64 ;; esac)"
  [ -f "/proc/sys/fs/binfmt_misc/$qemu" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "running $arch binaries here needs qemu-user-static registered in binfmt_misc (as root:" \
         "apt-get install qemu-user-static); it is not" >&2
    exit 3
  fi
  if [ ! -f "/usr/lib/binfmt.d/$qemu.conf" ]; then
    echo "==> installing qemu-user-static (apt-get), to run $arch containers on this $HOST_ARCH host" >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
      qemu-user-static >/dev/null
  fi
  [ -f /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  [ -f "/proc/sys/fs/binfmt_misc/$qemu" ] || cat "/usr/lib/binfmt.d/$qemu.conf" >/proc/sys/fs/binfmt_misc/register
}

# A Debian root filesystem with the given packages, built once: its stamp records what it was built with.
rootfs() {
  local name="$1" arch="$2" packages="$3" dir="$ROOTFS/$1-$2"
  local stamp="$SUITE $packages"
  if [ -f "$dir/.stand-in-rootfs" ] && [ "$(cat "$dir/.stand-in-rootfs")" = "$stamp" ]; then
    echo "$dir"; return 0
  fi
  ensure_emulation "$arch"
  echo "==> debootstrap --variant=minbase --arch $arch $SUITE ($packages) -> $dir (a few minutes)" >&2
  rm -rf "$dir.tmp" "$dir"
  mkdir -p "$ROOTFS"
  if ! debootstrap --variant=minbase --arch "$arch" --include="$packages" "$SUITE" "$dir.tmp" \
      >"$dir.log" 2>&1; then
    echo "debootstrap failed; its log: $dir.log" >&2; tail -5 "$dir.log" >&2; exit 1
  fi
  rm -rf "$dir.tmp"/var/cache/apt/archives/*.deb "$dir.tmp"/var/lib/apt/lists/*
  echo "$stamp" >"$dir.tmp/.stand-in-rootfs"
  mv "$dir.tmp" "$dir"
  echo "$dir"
}

# docker import of a root filesystem, with the image's configuration and the stand-in labels.
import_rootfs() {
  local dir="$1" tag="$2" arch="$3"; shift 3
  echo "==> docker import $tag (linux/$arch stand-in)" >&2
  tar -C "$dir" --sort=name --numeric-owner --exclude=./.stand-in-rootfs -c . |
    docker import --platform "linux/$arch" \
      --change "LABEL $LABEL_KEY.stand-in=true" \
      --change "LABEL $LABEL_KEY.stands-in-for=$tag" \
      --change "LABEL org.opencontainers.image.description=\"Offline stand-in for $tag, built from Debian $SUITE packages by scripts/docker/images.sh; not the upstream image\"" \
      "$@" - "$tag" >/dev/null
  if [ "$(docker image inspect "$tag" -f '{{.Architecture}}')" != "$arch" ]; then
    python3 scripts/docker/set_image_arch.py "$tag" "$arch"   # an engine that ignored --platform
  fi
}

# The Lambda Python 3.13 base image's contract, as SAM CLI relies on it: python3.13 at /var/lang/bin,
# awslambdaric and boto3 in /var/runtime, /var/runtime/bootstrap, /var/task the working directory, /opt for
# layers. SAM CLI adds the Runtime Interface Emulator at /var/rapid itself (it ships one in its wheel).
build_lambda_python() {
  local arch dir pip_python awslambdaric boto3 platform
  arch="$(debian_arch "$LAMBDA_ARCH")"
  dir="$(rootfs lambda-python "$arch" python3.13,ca-certificates)"
  pip_python="${PIP_PYTHON:-$(command -v .venv/bin/python || command -v python3)}"
  awslambdaric="$(grep -m1 '^awslambdaric==' requirements/constraints.txt)"
  boto3="$(grep -m1 '^boto3==' layers/requirements.txt)"
  platform="manylinux2014_$(case "$arch" in arm64) echo aarch64 ;; amd64) echo x86_64 ;; esac)"
  if [ "$(cat "$dir/var/runtime/.installed" 2>/dev/null)" != "$awslambdaric $boto3" ]; then
    echo "==> pip install $awslambdaric $boto3 into /var/runtime ($platform wheels)" >&2
    rm -rf "$dir/var/runtime"
    "$pip_python" -m pip install --quiet --disable-pip-version-check --no-compile --target "$dir/var/runtime" \
      --platform "$platform" --python-version 3.13 --implementation cp --only-binary=:all: \
      "$awslambdaric" "$boto3" 2>&1 | grep -v '^WARNING: Location' >&2 || true
    [ -d "$dir/var/runtime/awslambdaric" ] || { echo "pip could not install awslambdaric into the image" >&2; exit 1; }
    # Compiled here, once: under qemu a cold start that compiles botocore itself takes minutes.
    if python313="$(bash scripts/python313.sh)/python3.13"; then
      "$python313" -m compileall -q -f -j 0 -s "$dir" -p / "$dir/var/runtime" >/dev/null
    fi
    echo "$awslambdaric $boto3" >"$dir/var/runtime/.installed"
  fi
  mkdir -p "$dir/var/lang/bin" "$dir/var/task" "$dir/opt"
  ln -sfn /usr/bin/python3.13 "$dir/var/lang/bin/python3.13"
  ln -sfn python3.13 "$dir/var/lang/bin/python3"
  ln -sfn python3.13 "$dir/var/lang/bin/python"
  install -m 755 docker/lambda-python/bootstrap "$dir/var/runtime/bootstrap"
  install -m 755 docker/lambda-python/lambda-entrypoint.sh "$dir/lambda-entrypoint.sh"
  import_rootfs "$dir" "$LAMBDA_TAG" "$arch" \
    --change "ENV LANG=en_US.UTF-8 TZ=:/etc/localtime PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin" \
    --change "ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib" \
    --change "ENV LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime" \
    --change "WORKDIR /var/task" \
    --change 'ENTRYPOINT ["/lambda-entrypoint.sh"]'
  # SAM CLI's images built on an earlier base would hide this one.
  docker images -q samcli/lambda-python | sort -u | xargs -r docker image rm -f >/dev/null 2>&1 || true
}

# One Debian root filesystem for both database images: PostgreSQL 17 and PgBouncer.
postgres_rootfs() {
  local dir
  dir="$(rootfs postgres "$HOST_ARCH" postgresql-17,pgbouncer,util-linux)"
  # The package's post-install made a cluster the image does not use: the entrypoint makes its own in PGDATA.
  rm -rf "$dir/var/lib/postgresql/17" "$dir/etc/postgresql/17"
  install -m 755 docker/postgres/docker-entrypoint.sh "$dir/usr/local/bin/docker-entrypoint.sh"
  install -m 755 docker/pgbouncer/entrypoint.sh "$dir/usr/local/bin/pgbouncer-entrypoint.sh"
  echo "$dir"
}

build_postgres() {
  import_rootfs "$(postgres_rootfs)" "$POSTGRES_TAG" "$HOST_ARCH" \
    --change "ENV PATH=/usr/lib/postgresql/17/bin:/usr/local/bin:/usr/bin:/bin PGDATA=/var/lib/postgresql/data LANG=C.UTF-8" \
    --change "EXPOSE 5432" \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
    --change 'CMD ["postgres"]'
}

build_pgbouncer() {
  import_rootfs "$(postgres_rootfs)" "$PGBOUNCER_TAG" "$HOST_ARCH" \
    --change "ENV PATH=/usr/sbin:/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8" \
    --change "EXPOSE 5432" \
    --change 'ENTRYPOINT ["/usr/local/bin/pgbouncer-entrypoint.sh"]'
}

ensure() {
  local tag="$1" arch="$2" builder="$3"
  if have_image "$tag"; then echo "==> $tag: present" >&2; return 0; fi
  try_pull "$tag" "$arch" && return 0
  need_root_tools "$tag"
  "$builder"
}

if [ "${1:-}" != --compose ]; then
  ensure "$LAMBDA_TAG" "$(debian_arch "$LAMBDA_ARCH")" build_lambda_python
  ensure_emulation "$(debian_arch "$LAMBDA_ARCH")"   # the functions' containers run in it, pulled or built
fi
ensure "$POSTGRES_TAG" "$HOST_ARCH" build_postgres
ensure "$PGBOUNCER_TAG" "$HOST_ARCH" build_pgbouncer

#!/usr/bin/env bash
# PgBouncer is the local stand-in for RDS Proxy. It is not on PyPI, so it comes from the OS packages.
# Installs it when we can (root on Debian/Ubuntu); otherwise says how, and carries on: tests that need it skip.
set -u
if command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || [ -n "${PGBOUNCER:-}" ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing pgbouncer (apt-get)"
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbouncer) >/tmp/pgbouncer-install.log 2>&1; then
    exit 0
  fi
  echo "note: apt-get could not install pgbouncer (see /tmp/pgbouncer-install.log); PgBouncer rows and tests will be skipped"
  exit 0
fi
echo "note: pgbouncer is not installed; PgBouncer rows and tests will be skipped. Install it with: sudo apt-get install -y pgbouncer"

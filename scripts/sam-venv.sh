#!/usr/bin/env bash
# SAM CLI pins its own boto3 and cfn-lint, so it lives in its own venv (.venv-sam, from requirements/sam.txt).
# Creates or refreshes it; used by scripts/sam-check.sh and by the deploy rehearsal in the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV=.venv-sam
STAMP="$VENV/.installed"

if [ ! -f "$STAMP" ] || [ requirements/sam.txt -nt "$STAMP" ]; then
  echo "==> creating $VENV (SAM CLI and cfn-lint-serverless, pinned in requirements/sam.txt)"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements/sam.txt; then
    echo "FAILED to install requirements/sam.txt into $VENV (see pip's message above); delete $VENV and retry" >&2
    exit 1
  fi
  touch "$STAMP"
fi

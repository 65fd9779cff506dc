#!/usr/bin/env bash
# The template's checks, offline: `sam validate --lint`, cfn-lint with the serverless rules, and `sam build`.
# SAM CLI lives in its own venv (.venv-sam), which scripts/sam-venv.sh creates or refreshes.
# No AWS account is needed: a dummy region and credentials keep the tools from looking for one.
# `sam build` needs python3.13 (the template's runtime) on PATH; when none is found it is skipped with a note,
# and the script still fails on any real failure of the other checks.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-sam
bash scripts/sam-venv.sh

export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export SAM_CLI_TELEMETRY=0 SAM_CLI_DISABLE_UPDATE_CHECK=1
unset AWS_PROFILE

echo "==> sam validate --lint"
"$VENV/bin/sam" validate --lint --template-file template.yaml

echo "==> cfn-lint template.yaml -a cfn_lint_serverless.rules"
"$VENV/bin/cfn-lint" template.yaml -a cfn_lint_serverless.rules

if python_dir="$(bash scripts/python313.sh)"; then
  echo "==> sam build (python3.13 from $python_dir)"
  PATH="$python_dir:$PATH" "$VENV/bin/sam" build --template-file template.yaml
else
  echo "SKIPPED sam build: it needs Python 3.13 (the template's runtime) and none was found on PATH or in pyenv."
  echo "        Install one (e.g. 'pyenv install 3.13', or your OS package python3.13) and run this script again."
fi
echo "==> SAM checks passed"

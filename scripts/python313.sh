#!/usr/bin/env bash
# Prints the directory of a Python 3.13 (the template's runtime, which `sam build` needs on PATH), found the way a
# user's machine may have one: on PATH, or installed (not selected) by pyenv. Exit 1, printing nothing, if none is.
set -euo pipefail
candidate="$(command -v python3.13 || true)"
if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
  dirname "$candidate"
  exit 0
fi
if command -v pyenv >/dev/null 2>&1; then
  for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.13(\.[0-9]+)?$' | sort -rV); do
    prefix="$(pyenv prefix "$version" 2>/dev/null || true)"
    if [ -x "$prefix/bin/python3.13" ]; then
      echo "$prefix/bin"
      exit 0
    fi
  done
fi
exit 1

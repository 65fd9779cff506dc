#!/bin/sh
# The base image's entrypoint: with no Runtime API around (a plain `docker run IMAGE app.handler`), start the
# Runtime Interface Emulator if one is in the image; SAM CLI replaces this entrypoint with its own emulator.
export _HANDLER="${1:-$_HANDLER}"
if [ -z "${AWS_LAMBDA_RUNTIME_API:-}" ] && [ -x /usr/local/bin/aws-lambda-rie ]; then
  exec /usr/local/bin/aws-lambda-rie /var/runtime/bootstrap "$_HANDLER"
fi
exec /var/runtime/bootstrap "$_HANDLER"

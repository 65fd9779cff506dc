"""The names of the environment variables the layer reads: one constant each, and :data:`ENV_VARS`, all of them.

:mod:`lambda_db.config` reads them (its docstring says what each one means); import the names from here (or from
``lambda_db.config``) rather than spelling them, e.g. in a template check or a test.
"""

from __future__ import annotations

__all__ = [
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_REGION",
    "DATABASE_URL",
    "DB_APPLICATION_NAME",
    "DB_CONNECT_RETRY_MAX_S",
    "DB_CONNECT_TIMEOUT_S",
    "DB_DEFER_BEGIN",
    "DB_FORK_GUARD",
    "DB_IAM_AUTH",
    "DB_KEEPALIVES_IDLE_S",
    "DB_MAX_OVERFLOW",
    "DB_METRICS",
    "DB_PING_AFTER_IDLE_S",
    "DB_POOL_MODE",
    "DB_POOL_RECYCLE_S",
    "DB_POOL_SIZE",
    "DB_POOL_TIMEOUT_S",
    "DB_SECRET_ARN",
    "DB_SECRET_MAX_AGE_S",
    "DB_SIGTERM_DISPOSE",
    "DB_SSLMODE",
    "DB_SSLROOTCERT",
    "DB_STATEMENT_TIMEOUT_MS",
    "ENV_VARS",
]

DATABASE_URL = "DATABASE_URL"
DB_SECRET_ARN = "DB_SECRET_ARN"  # noqa: S105 - a variable name, not a secret
DB_POOL_MODE = "DB_POOL_MODE"
DB_POOL_SIZE = "DB_POOL_SIZE"
DB_MAX_OVERFLOW = "DB_MAX_OVERFLOW"
DB_POOL_TIMEOUT_S = "DB_POOL_TIMEOUT_S"
DB_POOL_RECYCLE_S = "DB_POOL_RECYCLE_S"
DB_CONNECT_TIMEOUT_S = "DB_CONNECT_TIMEOUT_S"
DB_STATEMENT_TIMEOUT_MS = "DB_STATEMENT_TIMEOUT_MS"
DB_KEEPALIVES_IDLE_S = "DB_KEEPALIVES_IDLE_S"
DB_SSLMODE = "DB_SSLMODE"
DB_SSLROOTCERT = "DB_SSLROOTCERT"
DB_IAM_AUTH = "DB_IAM_AUTH"
DB_PING_AFTER_IDLE_S = "DB_PING_AFTER_IDLE_S"
DB_FORK_GUARD = "DB_FORK_GUARD"
DB_CONNECT_RETRY_MAX_S = "DB_CONNECT_RETRY_MAX_S"
DB_SECRET_MAX_AGE_S = "DB_SECRET_MAX_AGE_S"  # noqa: S105 - a variable name
DB_APPLICATION_NAME = "DB_APPLICATION_NAME"
DB_SIGTERM_DISPOSE = "DB_SIGTERM_DISPOSE"
DB_METRICS = "DB_METRICS"
DB_DEFER_BEGIN = "DB_DEFER_BEGIN"
ENV_VARS: tuple[str, ...] = (
    DATABASE_URL,
    DB_SECRET_ARN,
    DB_POOL_MODE,
    DB_POOL_SIZE,
    DB_MAX_OVERFLOW,
    DB_POOL_TIMEOUT_S,
    DB_POOL_RECYCLE_S,
    DB_CONNECT_TIMEOUT_S,
    DB_STATEMENT_TIMEOUT_MS,
    DB_KEEPALIVES_IDLE_S,
    DB_SSLMODE,
    DB_SSLROOTCERT,
    DB_IAM_AUTH,
    DB_PING_AFTER_IDLE_S,
    DB_FORK_GUARD,
    DB_CONNECT_RETRY_MAX_S,
    DB_SECRET_MAX_AGE_S,
    DB_APPLICATION_NAME,
    DB_SIGTERM_DISPOSE,
    DB_METRICS,
    DB_DEFER_BEGIN,
)  # every variable the layer reads, in the order the module docstring lists them
# Set by the Lambda runtime; read only to name connections and to detect that we run under Lambda.
AWS_LAMBDA_FUNCTION_NAME = "AWS_LAMBDA_FUNCTION_NAME"
AWS_LAMBDA_LOG_STREAM_NAME = "AWS_LAMBDA_LOG_STREAM_NAME"
AWS_REGION = "AWS_REGION"

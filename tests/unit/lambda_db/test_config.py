"""DatabaseConfig: every invalid value fails at construction with a message naming the variable, value and choices."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lambda_db import ConfigurationError, DatabaseConfig
from lambda_db.config import default_application_name

URL = "postgresql+psycopg2://app:s3cret-pw@db.example:5432/app"


def from_env(**env: str) -> DatabaseConfig:
    return DatabaseConfig.from_env({"DATABASE_URL": URL, **env})


def test_defaults_are_single_mode_with_a_fail_fast_pool() -> None:
    config = from_env()
    assert config.pool_mode == "single"
    assert config.pool_size is None
    assert config.ping_after_idle_s == 1.0
    assert config.fork_guard is True


def test_explicit_arguments_override_the_environment() -> None:
    config = DatabaseConfig.from_env({"DATABASE_URL": URL, "DB_POOL_MODE": "queue"}, pool_mode="null")
    assert config.pool_mode == "null"


def test_empty_values_count_as_unset() -> None:
    config = DatabaseConfig.from_env({"DATABASE_URL": URL, "DB_SECRET_ARN": "", "DB_POOL_MODE": ""})
    assert (config.secret_arn, config.pool_mode) == (None, "single")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DB_POOL_MODE": "pooled"}, "DB_POOL_MODE='pooled' is not allowed: expected one of 'single', 'null'"),
        ({"DB_POOL_MODE": "null", "DB_POOL_SIZE": "5"}, "DB_POOL_SIZE=5 is not allowed with DB_POOL_MODE=null"),
        ({"DB_POOL_MODE": "null", "DB_MAX_OVERFLOW": "2"}, "DB_MAX_OVERFLOW=2 is not allowed with DB_POOL_MODE=null"),
        (
            {"DB_POOL_MODE": "null", "DB_POOL_TIMEOUT_S": "3"},
            "DB_POOL_TIMEOUT_S=3.0 is not allowed with DB_POOL_MODE=null",
        ),
        (
            {"DB_POOL_MODE": "null", "DB_POOL_RECYCLE_S": "60"},
            "DB_POOL_RECYCLE_S=60.0 is not allowed with DB_POOL_MODE=null",
        ),
        ({"DB_POOL_SIZE": "3"}, "DB_POOL_SIZE=3 is not allowed with DB_POOL_MODE=single"),
        ({"DB_POOL_MODE": "queue", "DB_POOL_SIZE": "0"}, "DB_POOL_SIZE=0 is not allowed: expected >= 1"),
        (
            {"DB_POOL_MODE": "queue", "DB_POOL_SIZE": "five"},
            "DB_POOL_SIZE='five' is not allowed: expected a whole number",
        ),
        ({"DB_POOL_MODE": "queue", "DB_MAX_OVERFLOW": "-1"}, "DB_MAX_OVERFLOW=-1 is not allowed: expected >= 0"),
        ({"DB_POOL_TIMEOUT_S": "0"}, "DB_POOL_TIMEOUT_S=0.0 is not allowed: expected > 0 seconds"),
        ({"DB_POOL_RECYCLE_S": "-5"}, "DB_POOL_RECYCLE_S=-5.0 is not allowed: expected > 0 seconds"),
        ({"DB_CONNECT_TIMEOUT_S": "0"}, "DB_CONNECT_TIMEOUT_S=0 is not allowed: expected 1 to 300 seconds"),
        ({"DB_CONNECT_TIMEOUT_S": "2.5"}, "DB_CONNECT_TIMEOUT_S='2.5' is not allowed: expected a whole number"),
        ({"DB_STATEMENT_TIMEOUT_MS": "-1"}, "DB_STATEMENT_TIMEOUT_MS=-1 is not allowed: expected >= 0"),
        ({"DB_KEEPALIVES_IDLE_S": "-1"}, "DB_KEEPALIVES_IDLE_S=-1 is not allowed: expected >= 0"),
        ({"DB_SSLMODE": "on"}, "DB_SSLMODE='on' is not allowed: expected one of 'disable', 'allow', 'prefer'"),
        ({"DB_IAM_AUTH": "maybe"}, "DB_IAM_AUTH='maybe' is not allowed: expected true or false"),
        ({"DB_IAM_AUTH": "true"}, "DB_IAM_AUTH=true needs TLS: DB_SSLMODE='prefer' is not allowed"),
        (
            {"DB_SSLMODE": "require", "DB_SSLROOTCERT": "/opt/python/certs/global-bundle.pem"},
            "DB_SSLROOTCERT is set but DB_SSLMODE='require' does not verify the server: use DB_SSLMODE='verify-full'",
        ),
        (
            {"DB_SSLMODE": "verify-full", "DB_SSLROOTCERT": "/opt/python/certs/missing.pem"},
            "DB_SSLROOTCERT='/opt/python/certs/missing.pem' is not a file: ship the CA certificates with the function",
        ),
        (
            {"DB_SSLMODE": "verify-ca", "DB_SSLROOTCERT": "system"},
            "DB_SSLROOTCERT='system' needs DB_SSLMODE='verify-full', not 'verify-ca'",
        ),
        ({"DB_PING_AFTER_IDLE_S": "-0.5"}, "DB_PING_AFTER_IDLE_S=-0.5 is not allowed: expected >= 0 seconds"),
        ({"DB_PING_AFTER_IDLE_S": "soon"}, "DB_PING_AFTER_IDLE_S='soon' is not allowed: expected a number"),
        ({"DB_FORK_GUARD": "nope"}, "DB_FORK_GUARD='nope' is not allowed: expected true or false"),
        ({"DB_CONNECT_RETRY_MAX_S": "-1"}, "DB_CONNECT_RETRY_MAX_S=-1.0 is not allowed: expected >= 0"),
        ({"DB_SECRET_MAX_AGE_S": "-1"}, "DB_SECRET_MAX_AGE_S=-1 is not allowed: expected >= 0 seconds"),
        ({"DB_APPLICATION_NAME": "x" * 64}, "DB_APPLICATION_NAME='xxxx"),
        ({"DB_SIGTERM_DISPOSE": "2"}, "DB_SIGTERM_DISPOSE='2' is not allowed: expected true or false"),
        ({"DB_METRICS": "on"}, "DB_METRICS='on' is not allowed: expected one of 'per_invocation', 'off'"),
        ({"DB_SECRET_ARN": "arn:aws:secretsmanager:x"}, "set DATABASE_URL or DB_SECRET_ARN, not both"),
        ({"DATABASE_URL": "mysql://u:p@h/db"}, "DATABASE_URL uses driver 'mysql'; allowed: 'postgresql+psycopg2'"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL is not a URL SQLAlchemy can parse"),
    ],
)
def test_invalid_values_name_the_variable_value_and_what_is_allowed(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        from_env(**env)
    assert message in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_missing_database_says_which_variables_to_set() -> None:
    with pytest.raises(ConfigurationError, match=r"set DATABASE_URL .* or DB_SECRET_ARN"):
        DatabaseConfig.from_env({})


def test_unknown_override_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="unknown DatabaseConfig option"):
        DatabaseConfig.from_env({"DATABASE_URL": URL}, pool_sise=3)


def test_direct_construction_validates_too() -> None:
    with pytest.raises(ConfigurationError, match="DB_POOL_SIZE=5 is not allowed with DB_POOL_MODE=null"):
        DatabaseConfig(url=URL, pool_mode="null", pool_size=5)


def test_queue_mode_accepts_pool_size() -> None:
    assert from_env(DB_POOL_MODE="queue", DB_POOL_SIZE="2", DB_MAX_OVERFLOW="0").pool_size == 2


def test_repr_and_str_hide_the_password() -> None:
    config = from_env()
    assert "s3cret-pw" not in repr(config)
    assert "s3cret-pw" not in str(config)
    assert "app:***@db.example" in repr(config)


def test_bad_url_error_does_not_echo_the_password() -> None:
    with pytest.raises(ConfigurationError) as raised:
        from_env(DATABASE_URL="postgresql+psycopg2://app:s3cret-pw@host:port/db")
    assert "s3cret-pw" not in str(raised.value)


def test_application_name_is_function_and_environment_id() -> None:
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": "items",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/24/[$LATEST]0123456789abcdef0123456789abcdef",
    }
    assert default_application_name(env) == "items:0123456789ab"


def test_application_name_fits_postgres_limit_for_long_function_names() -> None:
    name = default_application_name({"AWS_LAMBDA_FUNCTION_NAME": "f" * 140})
    assert len(name) <= 63
    assert name.startswith("fff")


def test_sigterm_dispose_defaults_on_only_under_lambda() -> None:
    assert from_env().sigterm_dispose is False
    assert from_env(AWS_LAMBDA_FUNCTION_NAME="items").sigterm_dispose is True
    assert from_env(AWS_LAMBDA_FUNCTION_NAME="items", DB_SIGTERM_DISPOSE="false").sigterm_dispose is False


def test_metrics_are_per_invocation_unless_turned_off() -> None:
    assert from_env().metrics == "per_invocation"
    assert from_env(DB_METRICS="OFF").metrics == "off"


@pytest.mark.parametrize("variable", ["DB_POOL_TIMEOUT_S", "DB_PING_AFTER_IDLE_S", "DB_CONNECT_RETRY_MAX_S"])
def test_an_infinite_number_of_seconds_is_refused(variable: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"^{variable}=inf is not allowed: expected a finite number"):
        from_env(**{variable: "inf"})


def test_a_ca_file_or_the_system_store_is_accepted_with_verify_full(tmp_path: Path) -> None:
    bundle = tmp_path / "global-bundle.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")  # read by libpq when it connects, not here
    config = from_env(DB_SSLMODE="verify-full", DB_SSLROOTCERT=str(bundle))
    assert (config.sslmode, config.sslrootcert) == ("verify-full", str(bundle))
    assert from_env(DB_SSLMODE="verify-full", DB_SSLROOTCERT="system").sslrootcert == "system"


def test_every_variable_the_docstring_lists_is_an_exported_name() -> None:
    import lambda_db
    from lambda_db import config, variables

    listed = re.findall(r"^``([A-Z_]+)``", config.__doc__ or "", re.MULTILINE)
    assert list(lambda_db.ENV_VARS) == listed
    assert all(getattr(variables, name) == name and name in variables.__all__ for name in listed)

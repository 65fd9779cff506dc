"""Property: any bad value of any ``DB_*`` variable the layer reads fails at init with a ConfigurationError naming
the variable, the bad value and what is allowed (the layer's own tests hold one example of each; these try many)."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambda_db import ConfigurationError, DatabaseConfig

URL = "postgresql+psycopg2://app@127.0.0.1:5432/app"
# every numeric variable, with the pool mode that allows it and the parser it must survive
WHOLE = ["DB_CONNECT_TIMEOUT_S", "DB_STATEMENT_TIMEOUT_MS", "DB_KEEPALIVES_IDLE_S", "DB_SECRET_MAX_AGE_S"]
WHOLE_QUEUE = ["DB_POOL_SIZE", "DB_MAX_OVERFLOW"]
DECIMAL = ["DB_POOL_TIMEOUT_S", "DB_POOL_RECYCLE_S", "DB_PING_AFTER_IDLE_S", "DB_CONNECT_RETRY_MAX_S"]
CHOICES = {"DB_POOL_MODE": ("single", "null", "queue", "per_invocation"), "DB_SSLMODE": ("disable", "allow", "prefer")}
FLAGS = ["DB_IAM_AUTH", "DB_FORK_GUARD", "DB_SIGTERM_DISPOSE", "DB_DEFER_BEGIN"]
FLAG_WORDS = {"1", "true", "yes", "on", "0", "false", "no", "off"}
SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
values = st.text(min_size=1, max_size=30).filter(lambda text: text.strip() != "")


def _config(variable: str, value: str) -> DatabaseConfig:
    mode = "queue" if variable in WHOLE_QUEUE else "single"
    return DatabaseConfig.from_env({"DATABASE_URL": URL, "DB_POOL_MODE": mode, variable: value})


def _parses(kind: type[int] | type[float], text: str) -> bool:
    try:
        kind(text)
    except ValueError:
        return False
    return True


@settings(max_examples=100, deadline=None)
@given(variable=st.sampled_from(WHOLE + WHOLE_QUEUE + DECIMAL), value=values)
def test_a_value_that_is_not_a_number_names_the_variable_the_value_and_the_kind(variable: str, value: str) -> None:
    kind = float if variable in DECIMAL else int
    if _parses(kind, value.strip()):
        return  # a number: range checks are the next test's business
    with pytest.raises(ConfigurationError) as raised:
        _config(variable, value)
    expected = "a number" if kind is float else "a whole number"
    assert str(raised.value) == f"{variable}={value.strip()!r} is not allowed: expected {expected}"


@settings(max_examples=100, deadline=None)
@given(variable=st.sampled_from(WHOLE + WHOLE_QUEUE + DECIMAL), value=st.integers(-(10**6), -1) | st.just(0))
def test_a_negative_or_zero_number_is_refused_where_it_makes_no_sense(variable: str, value: int) -> None:
    allowed_zero = {"DB_STATEMENT_TIMEOUT_MS", "DB_KEEPALIVES_IDLE_S", "DB_SECRET_MAX_AGE_S", "DB_MAX_OVERFLOW"}
    allowed_zero |= {"DB_PING_AFTER_IDLE_S", "DB_CONNECT_RETRY_MAX_S"}
    if value == 0 and variable in allowed_zero:
        assert _config(variable, "0") is not None
        return
    with pytest.raises(ConfigurationError, match=rf"^{variable}=-?[\d.]+ is not allowed: expected "):
        _config(variable, str(value))


@settings(max_examples=60, deadline=None)
@given(variable=st.sampled_from(sorted(CHOICES) + FLAGS), value=values)
def test_a_word_outside_the_choices_names_the_variable_and_the_choices(variable: str, value: str) -> None:
    allowed = FLAG_WORDS if variable in FLAGS else (SSL_MODES if variable == "DB_SSLMODE" else set(CHOICES[variable]))
    if value.strip().lower() in allowed:
        return
    with pytest.raises(ConfigurationError) as raised:
        _config(variable, value)
    message = str(raised.value)
    assert message.startswith(f"{variable}={value.strip()!r} is not allowed: expected ")
    assert ("true or false" in message) if variable in FLAGS else all(repr(c) in message for c in CHOICES[variable])


def test_an_infinite_pool_timeout_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"^DB_POOL_TIMEOUT_S="):
        _config("DB_POOL_TIMEOUT_S", "inf")


@pytest.mark.parametrize("variable", DECIMAL)
def test_nan_is_refused_for_every_decimal_variable(variable: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"^{variable}=nan is not allowed: expected "):
        _config(variable, "nan")


@settings(max_examples=100, deadline=None)
@given(value=values, sslmode=st.sampled_from(sorted(SSL_MODES)))
def test_a_root_certificate_that_is_no_file_or_under_a_weak_mode_names_the_variable(value: str, sslmode: str) -> None:
    """Whatever the text, ``DB_SSLROOTCERT`` is accepted only as an existing file or ``system``, with a mode that
    verifies; anything else is a ConfigurationError that names it (never another exception)."""
    environment = {"DATABASE_URL": URL, "DB_SSLMODE": sslmode, "DB_SSLROOTCERT": value}
    root = value.strip()
    accepted = (root == "system" and sslmode == "verify-full") or (
        root != "system" and os.path.isfile(root) and sslmode in ("verify-ca", "verify-full")
    )
    if accepted:
        assert DatabaseConfig.from_env(environment).sslrootcert == root
    else:
        with pytest.raises(ConfigurationError, match="DB_SSLROOTCERT"):
            DatabaseConfig.from_env(environment)

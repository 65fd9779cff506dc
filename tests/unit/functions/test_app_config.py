"""The application's settings: read from the environment, validated at init, explicit arguments first. Pure."""

from __future__ import annotations

import pytest

from app_model import AppConfig, ConfigurationError
from app_model.config import DEFAULT_IDEMPOTENCY_TTL_S, IDEMPOTENCY_TTL_S, MIN_IDEMPOTENCY_TTL_S


def test_idempotency_keys_are_kept_24_hours_when_nothing_is_set() -> None:
    assert AppConfig.from_env({}).idempotency_ttl_s == DEFAULT_IDEMPOTENCY_TTL_S == 86400
    assert AppConfig.from_env({IDEMPOTENCY_TTL_S: ""}).idempotency_ttl_s == 86400  # empty is unset (CloudFormation)


@pytest.mark.parametrize(("raw", "ttl_s"), [("3600", 3600), (" 60 ", MIN_IDEMPOTENCY_TTL_S), ("2592000", 2592000)])
def test_a_whole_number_of_seconds_from_a_minute_up_is_the_ttl(raw: str, ttl_s: int) -> None:
    assert AppConfig.from_env({IDEMPOTENCY_TTL_S: raw}).idempotency_ttl_s == ttl_s


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("59", "59"),  # a number out of range is shown as the number, as lambda_db shows it
        ("0", "0"),
        ("-3600", "-3600"),
        ("1.5", "'1.5'"),  # text that is no whole number is shown quoted
        ("3600.0", "'3600.0'"),
        ("24h", "'24h'"),
        ("inf", "'inf'"),
        ("nan", "'nan'"),
        ("true", "'true'"),
    ],
)
def test_a_bad_ttl_fails_at_init_naming_the_variable_the_value_and_what_is_allowed(raw: str, shown: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        AppConfig.from_env({IDEMPOTENCY_TTL_S: raw})

    assert str(caught.value) == (
        f"IDEMPOTENCY_TTL_S={shown} is not allowed: expected a whole number of seconds >= 60 (default 86400: 24 hours)"
    )
    assert isinstance(caught.value, ValueError)


def test_an_explicit_argument_beats_the_environment_and_is_validated_the_same() -> None:
    assert AppConfig.from_env({IDEMPOTENCY_TTL_S: "3600"}, idempotency_ttl_s=600).idempotency_ttl_s == 600
    with pytest.raises(ConfigurationError, match=r"IDEMPOTENCY_TTL_S=30 is not allowed"):
        AppConfig(idempotency_ttl_s=30)
    with pytest.raises(ConfigurationError, match=r"IDEMPOTENCY_TTL_S=True is not allowed"):
        AppConfig(idempotency_ttl_s=True)
    with pytest.raises(ConfigurationError, match="unknown AppConfig option"):
        AppConfig.from_env({}, ttl=600)

"""Connect retry timing with an injected clock: no sleeping."""

from __future__ import annotations

import random

import psycopg2
import pytest

from lambda_db.retry import ConnectRetry, is_auth_failure, is_retryable_connect_error


def test_delays_grow_exponentially_within_the_jitter_band() -> None:
    retry = ConnectRetry(deadline=100.0, rng=random.Random(7))
    delays = [retry.next_delay(now=0.0) for _ in range(4)]
    for attempt, delay in enumerate(delays):
        base = ConnectRetry.INITIAL_DELAY * ConnectRetry.DELAY_BACKOFF**attempt
        assert delay is not None
        assert base * (1 - ConnectRetry.DELAY_JITTER) <= delay <= base * (1 + ConnectRetry.DELAY_JITTER)


def test_delay_is_capped() -> None:
    retry = ConnectRetry(deadline=1000.0, rng=random.Random(1))
    delays = [retry.next_delay(now=0.0) for _ in range(20)]
    assert max(d for d in delays if d is not None) <= ConnectRetry.MAX_DELAY * (1 + ConnectRetry.DELAY_JITTER)


def test_gives_up_when_the_next_attempt_would_start_after_the_deadline() -> None:
    retry = ConnectRetry(deadline=10.0, rng=random.Random(3))
    now, attempts = 0.0, 0
    while (delay := retry.next_delay(now)) is not None:
        now += delay
        attempts += 1
    assert now < 10.0
    assert attempts == retry.attempts > 5


def test_no_retry_at_all_when_the_deadline_has_passed() -> None:
    assert ConnectRetry(deadline=5.0).next_delay(now=5.0) is None


def test_jitter_spreads_simultaneous_clients() -> None:
    first = [ConnectRetry(deadline=100.0, rng=random.Random(seed)).next_delay(0.0) for seed in range(20)]
    assert len(set(first)) == 20


@pytest.mark.parametrize(
    "message",
    [
        "FATAL:  sorry, too many clients already",
        "FATAL:  remaining connection slots are reserved for roles with the SUPERUSER attribute",
        "FATAL:  the database system is starting up",
        "FATAL:  the database system is shutting down",
        'connection to server at "127.0.0.1", port 5 failed: Connection refused',
    ],
)
def test_storm_and_restart_errors_are_retryable(message: str) -> None:
    assert is_retryable_connect_error(psycopg2.OperationalError(message))


@pytest.mark.parametrize(
    "message",
    ['FATAL:  password authentication failed for user "app"', 'FATAL:  database "nope" does not exist'],
)
def test_other_connect_errors_are_not_retried(message: str) -> None:
    assert not is_retryable_connect_error(psycopg2.OperationalError(message))


def test_password_failure_is_an_auth_failure() -> None:
    assert is_auth_failure(psycopg2.OperationalError('FATAL:  password authentication failed for user "app"'))
    assert not is_auth_failure(psycopg2.OperationalError("FATAL:  sorry, too many clients already"))

"""When and how long to retry a refused connect: jittered exponential backoff bounded by a deadline.

Only opening a connection is retried. Once a statement may have run, an error goes to the caller: replaying it
could apply a write twice. The timing is a tiny class whose methods take ``now`` (psycopg_pool's style), so tests
drive it with a fake clock instead of sleeping.

psycopg2 gives no SQLSTATE for errors raised while connecting (libpq reports them as text), so the classifiers
look at ``pgcode`` when there is one and at the server's message otherwise.
"""

from __future__ import annotations

import random

__all__ = ["ConnectRetry", "is_auth_failure", "is_retryable_connect_error"]

# SQLSTATEs worth another try a moment later: the server is full or not accepting connections yet.
TOO_MANY_CONNECTIONS = "53300"
CANNOT_CONNECT_NOW = "57P03"
INVALID_PASSWORD = "28P01"  # noqa: S105 - a SQLSTATE, not a password
RETRYABLE_SQLSTATES = frozenset({TOO_MANY_CONNECTIONS, CANNOT_CONNECT_NOW})
RETRYABLE_MESSAGES = (
    "too many clients already",  # 53300
    "remaining connection slots are reserved",  # 53300, for non-superusers
    "too many connections for role",  # 53300, the role's CONNECTION LIMIT
    "the database system is starting up",  # 57P03
    "the database system is shutting down",  # 57P03
    "the database system is in recovery mode",  # 57P03
    "the database system is not yet accepting connections",  # 57P03
    "connection refused",  # nothing listens (yet): a restart, a failover
    "connection reset",
    "server closed the connection unexpectedly",
)
AUTH_FAILURE_MESSAGES = ("password authentication failed", "pam authentication failed")


def _message(exc: BaseException) -> str:
    return str(exc).lower()


def is_retryable_connect_error(exc: BaseException) -> bool:
    """True for refusals that may succeed a moment later (server full, starting, restarting, refused, reset)."""
    code = getattr(exc, "pgcode", None)
    if code in RETRYABLE_SQLSTATES:
        return True
    message = _message(exc)
    return any(pattern in message for pattern in RETRYABLE_MESSAGES)


def is_auth_failure(exc: BaseException) -> bool:
    """True when the server refused the password: after a rotation the cached secret is stale."""
    return getattr(exc, "pgcode", None) == INVALID_PASSWORD or any(
        pattern in _message(exc) for pattern in AUTH_FAILURE_MESSAGES
    )


class ConnectRetry:
    """Delays between connect attempts: exponential, jittered, never past ``deadline``.

    The jitter spreads a storm: when a burst of cold starts all find the server full, equal delays would bring
    them back at the same instant. Times are ``time.monotonic()`` seconds.

    Parameters
    ----------
    deadline:
        The monotonic time after which no attempt may start (from the invocation's remaining time).
    rng:
        The source of jitter; tests pass a seeded one.
    """

    INITIAL_DELAY = 0.05
    DELAY_JITTER = 0.5  # each delay is scaled by a factor in [1 - jitter, 1 + jitter]
    DELAY_BACKOFF = 2.0
    MAX_DELAY = 1.0

    def __init__(self, *, deadline: float, rng: random.Random | None = None) -> None:
        self.deadline = deadline
        self.attempts = 0
        self._base = self.INITIAL_DELAY
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography

    def next_delay(self, now: float) -> float | None:
        """Seconds to wait before the next attempt, or None when the next one would start after the deadline."""
        jitter = 1.0 + self._rng.uniform(-self.DELAY_JITTER, self.DELAY_JITTER)
        delay = min(self._base, self.MAX_DELAY) * jitter
        if now + delay >= self.deadline:
            return None
        self._base *= self.DELAY_BACKOFF
        self.attempts += 1
        return delay

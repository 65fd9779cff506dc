"""The application's own settings (the database's are ``lambda_db``'s): read from the environment once, validated.

Variables (an empty value counts as unset, because CloudFormation cannot omit a variable conditionally):

===============================  ===================================================================================
``IDEMPOTENCY_TTL_S``            how long an ``Idempotency-Key`` is kept, in whole seconds (default 86400, 24 hours;
                                 >= 60): a retry within it replays the first answer, a reuse after it is a new request
``ROLE_IDLE_SESSION_TIMEOUT_S``  the ``idle_session_timeout`` the migration sets for the role it connects as, in its
                                 database, in whole seconds (default 300; 0 to 86400, 0 = leave the server's own):
                                 the server closes connections that frozen or vanished environments left idle
===============================  ===================================================================================

Example
-------
>>> config = AppConfig.from_env(idempotency_ttl_s=3600)  # explicit arguments beat the environment
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app_model.errors import ConfigurationError

__all__ = [
    "DEFAULT_IDEMPOTENCY_TTL_S",
    "DEFAULT_ROLE_IDLE_SESSION_TIMEOUT_S",
    "IDEMPOTENCY_TTL_S",
    "MAX_ROLE_IDLE_SESSION_TIMEOUT_S",
    "MIN_IDEMPOTENCY_TTL_S",
    "ROLE_IDLE_SESSION_TIMEOUT_S",
    "AppConfig",
]

IDEMPOTENCY_TTL_S = "IDEMPOTENCY_TTL_S"
ROLE_IDLE_SESSION_TIMEOUT_S = "ROLE_IDLE_SESSION_TIMEOUT_S"

DEFAULT_IDEMPOTENCY_TTL_S = 24 * 60 * 60  # what Stripe-style APIs promise: a client retries within a day
# A key must outlive every retry of its request: a client's backoff, a Lambda retry and a queue redelivery take
# seconds to minutes, so a TTL shorter than a minute would let a retry write twice.
MIN_IDEMPOTENCY_TTL_S = 60
_TTL_ALLOWED = f"a whole number of seconds >= {MIN_IDEMPOTENCY_TTL_S} (default {DEFAULT_IDEMPOTENCY_TTL_S}: 24 hours)"

MAX_NUMBER_LENGTH = 12

# Longer than any freeze a warm environment comes back from in practice, short enough that the connections of
# environments Lambda reclaimed without a word stop holding slots within minutes. A live environment whose
# connection was closed gets a new one from the layer's idle check, so the only cost of a short value is a reconnect.
DEFAULT_ROLE_IDLE_SESSION_TIMEOUT_S = 300
MAX_ROLE_IDLE_SESSION_TIMEOUT_S = 24 * 60 * 60
_IDLE_ALLOWED = (
    f"a whole number of seconds from 0 to {MAX_ROLE_IDLE_SESSION_TIMEOUT_S} (0 leaves the server's own setting; "
    f"default {DEFAULT_ROLE_IDLE_SESSION_TIMEOUT_S})"
)


@dataclass(frozen=True, kw_only=True)
class AppConfig:
    """The application's settings; validated at construction (see the module docstring)."""

    idempotency_ttl_s: int = DEFAULT_IDEMPOTENCY_TTL_S
    role_idle_session_timeout_s: int = DEFAULT_ROLE_IDLE_SESSION_TIMEOUT_S

    def __post_init__(self) -> None:
        ttl = self.idempotency_ttl_s
        if not _is_whole(ttl) or ttl < MIN_IDEMPOTENCY_TTL_S:
            raise _refused(IDEMPOTENCY_TTL_S, ttl, _TTL_ALLOWED)
        idle = self.role_idle_session_timeout_s
        if not _is_whole(idle) or not 0 <= idle <= MAX_ROLE_IDLE_SESSION_TIMEOUT_S:
            raise _refused(ROLE_IDLE_SESSION_TIMEOUT_S, idle, _IDLE_ALLOWED)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> AppConfig:
        """Read the variables listed in the module docstring; keyword arguments override them."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field_name, variable, allowed in (
            ("idempotency_ttl_s", IDEMPOTENCY_TTL_S, _TTL_ALLOWED),
            ("role_idle_session_timeout_s", ROLE_IDLE_SESSION_TIMEOUT_S, _IDLE_ALLOWED),
        ):
            raw = env.get(variable, "").strip()
            if not raw:
                continue
            if len(raw) > MAX_NUMBER_LENGTH:  # int() of thousands of digits raises, and no setting needs them
                raise _refused(variable, f"{raw[:20]}...", allowed)
            try:
                values[field_name] = int(raw)
            except ValueError as exc:
                raise _refused(variable, raw, allowed) from exc
        unknown = set(overrides) - {field.name for field in dataclasses.fields(cls)}
        if unknown:
            raise ConfigurationError(f"unknown AppConfig option(s): {', '.join(sorted(unknown))}")
        values.update(overrides)
        return cls(**values)


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _refused(variable: str, value: object, allowed: str) -> ConfigurationError:
    return ConfigurationError(f"{variable}={value!r} is not allowed: expected {allowed}")

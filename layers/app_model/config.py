"""The application's own settings (the database's are ``lambda_db``'s): read from the environment once, validated.

Variables (an empty value counts as unset, because CloudFormation cannot omit a variable conditionally):

=======================  ===========================================================================================
``IDEMPOTENCY_TTL_S``    how long an ``Idempotency-Key`` is kept, in whole seconds (default 86400, 24 hours; >= 60):
                         a retry within it replays the first answer, a reuse after it is a new request
=======================  ===========================================================================================

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

__all__ = ["DEFAULT_IDEMPOTENCY_TTL_S", "IDEMPOTENCY_TTL_S", "MIN_IDEMPOTENCY_TTL_S", "AppConfig"]

IDEMPOTENCY_TTL_S = "IDEMPOTENCY_TTL_S"

DEFAULT_IDEMPOTENCY_TTL_S = 24 * 60 * 60  # what Stripe-style APIs promise: a client retries within a day
# A key must outlive every retry of its request: a client's backoff, a Lambda retry and a queue redelivery take
# seconds to minutes, so a TTL shorter than a minute would let a retry write twice.
MIN_IDEMPOTENCY_TTL_S = 60
_TTL_ALLOWED = f"a whole number of seconds >= {MIN_IDEMPOTENCY_TTL_S} (default {DEFAULT_IDEMPOTENCY_TTL_S}: 24 hours)"


@dataclass(frozen=True, kw_only=True)
class AppConfig:
    """The application's settings; validated at construction (see the module docstring)."""

    idempotency_ttl_s: int = DEFAULT_IDEMPOTENCY_TTL_S

    def __post_init__(self) -> None:
        ttl = self.idempotency_ttl_s
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < MIN_IDEMPOTENCY_TTL_S:
            raise _refused(IDEMPOTENCY_TTL_S, ttl, _TTL_ALLOWED)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> AppConfig:
        """Read the variables listed in the module docstring; keyword arguments override them."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        raw_ttl = env.get(IDEMPOTENCY_TTL_S, "").strip()
        if raw_ttl:
            try:
                values["idempotency_ttl_s"] = int(raw_ttl)
            except ValueError as exc:
                raise _refused(IDEMPOTENCY_TTL_S, raw_ttl, _TTL_ALLOWED) from exc
        unknown = set(overrides) - {field.name for field in dataclasses.fields(cls)}
        if unknown:
            raise ConfigurationError(f"unknown AppConfig option(s): {', '.join(sorted(unknown))}")
        values.update(overrides)
        return cls(**values)


def _refused(variable: str, value: object, allowed: str) -> ConfigurationError:
    return ConfigurationError(f"{variable}={value!r} is not allowed: expected {allowed}")

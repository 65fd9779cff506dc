"""Typed reads of environment variables for :mod:`lambda_db.config`: an empty value is unset, a bad one is named.

Every refusal is a :class:`~lambda_db.errors.ConfigurationError` whose message holds the variable, the value and
what is allowed, so a cold start that fails says how to fix it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TypeVar

from lambda_db.errors import ConfigurationError

__all__ = ["EnvReader", "check", "one_of"]

T = TypeVar("T")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def one_of(choices: tuple[str, ...]) -> str:
    return ", ".join(repr(choice) for choice in choices)


def check(ok: bool, variable: str, value: object, allowed: str) -> None:
    if not ok:
        raise ConfigurationError(f"{variable}={value!r} is not allowed: expected {allowed}")


class EnvReader:
    """Reads typed values from an environment; an empty value is unset; a bad value names its variable."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._env = environ

    def text(self, name: str) -> str | None:
        value = self._env.get(name, "").strip()
        return value or None

    def choice(self, name: str, choices: tuple[str, ...]) -> str | None:
        value = self.text(name)
        if value is not None and value.lower() not in choices:
            raise ConfigurationError(f"{name}={value!r} is not allowed: expected one of {one_of(choices)}")
        return None if value is None else value.lower()

    def flag(self, name: str) -> bool | None:
        value = self.text(name)
        if value is None:
            return None
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ConfigurationError(f"{name}={value!r} is not allowed: expected true or false")

    def number(self, name: str, kind: Callable[[str], T]) -> T | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = kind(value)
        except ValueError as exc:
            expected = "a whole number" if kind is int else "a number"
            raise ConfigurationError(f"{name}={value!r} is not allowed: expected {expected}") from exc
        if isinstance(number, float) and not math.isfinite(number):
            # inf passes every "> 0" check, and a pool wait of inf seconds ends in OverflowError, not a timeout.
            raise ConfigurationError(f"{name}={number!r} is not allowed: expected a finite number")
        return number

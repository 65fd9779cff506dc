"""The one check that a payload is JSON as Lambda reads it, for every way an event enters the emulator.

Python's ``json`` is laxer than Lambda's parser in two ways: it accepts ``NaN``, ``Infinity`` and ``-Infinity``
(not JSON; Lambda answers ``InvalidRequestContentException``), and it raises ``RecursionError``, not a
``ValueError``, on nesting deeper than the interpreter's recursion limit (about 1,000, the depth Lambda's own
parser also stops at). The Invoke API, ``LocalLambda.invoke`` and ``harness invoke -e`` all check through here, so
an event one of them refuses is refused by the others with the same words.
"""

from __future__ import annotations

import json

from harness.emulator.errors import InvalidRequestContentError

__all__ = ["NOT_JSON_PREFIX", "check_json"]

NOT_JSON_PREFIX = "Could not parse request body into json: "  # Lambda's words


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def check_json(payload: bytes | str) -> None:
    """Raise :class:`InvalidRequestContentError` unless ``payload`` is strict JSON, as Lambda's parser wants it."""
    try:
        json.loads(payload, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise InvalidRequestContentError(f"{NOT_JSON_PREFIX}nesting too deep") from exc
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InvalidRequestContentError(f"{NOT_JSON_PREFIX}{exc}") from exc

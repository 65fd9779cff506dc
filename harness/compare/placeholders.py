"""Placeholders in event files, filled afresh for every invocation so writes do not collide on unique keys.

A placeholder is ``{{...}}`` anywhere inside a string of the event (a header, a path, the JSON text of a body):

``{{unique}}``
    A value no other invocation of the run gets (``<run token>-<counter>``): idempotency keys, unique names.
``{{int:LO:HI}}``
    A random whole number from LO to HI, both included (the same seeded sequence for every strategy).
``{{row:TABLE.COLUMN}}``
    A value of COLUMN from a row the setup created (``--setup`` / ``--setup-sql``), read once per fresh database
    after the setup ran; ``schema.table.column`` works too. It fails (exit 2) when the table has no rows.

One value per placeholder per invocation: the same placeholder written twice in one event gets the same value, so
a ``rawPath`` and its ``pathParameters`` agree. Values are written as text, as API Gateway sends path parameters and
headers (inside a body's JSON text, ``"quantity": {{int:0:9}}`` is a JSON number).

Example
-------
>>> filler = Filler({RowRef("items", "id"): [41]})
>>> filler.fill({"rawPath": "/items/{{row:items.id}}", "pathParameters": {"id": "{{row:items.id}}"}})
{'rawPath': '/items/41', 'pathParameters': {'id': '41'}}
"""

from __future__ import annotations

import itertools
import random
import re
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Filler", "IntRange", "PlaceholderError", "RowRef", "Unique", "find_placeholders", "parse_placeholder"]

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_INT = re.compile(r"int:(-?\d+):(-?\d+)")
_ROW = re.compile(rf"row:((?:{_IDENT}\.)?{_IDENT})\.({_IDENT})")
SYNTAX = "{{unique}}, {{int:LO:HI}} or {{row:TABLE.COLUMN}}"


class PlaceholderError(ValueError):
    """A placeholder that is not one of the known forms, or one that cannot be filled (no rows to pick from)."""


@dataclass(frozen=True, slots=True)
class Unique:
    """``{{unique}}``: a value no other invocation of the run gets."""


@dataclass(frozen=True, slots=True)
class IntRange:
    """``{{int:LO:HI}}``: a random whole number, both ends included."""

    low: int
    high: int


@dataclass(frozen=True, slots=True)
class RowRef:
    """``{{row:TABLE.COLUMN}}``: a value of a column in a table the setup filled."""

    table: str
    column: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column}"


Placeholder = Unique | IntRange | RowRef


def parse_placeholder(text: str) -> Placeholder:
    """The placeholder that ``{{text}}`` names; PlaceholderError says which forms exist."""
    if text == "unique":
        return Unique()
    if match := _INT.fullmatch(text):
        low, high = int(match.group(1)), int(match.group(2))
        if low > high:
            raise PlaceholderError(f"{{{{{text}}}}}: LO must not be greater than HI")
        return IntRange(low, high)
    if match := _ROW.fullmatch(text):
        return RowRef(match.group(1), match.group(2))
    raise PlaceholderError(f"{{{{{text}}}}} is not a placeholder this lab fills (use {SYNTAX})")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def find_placeholders(event: Any) -> list[Placeholder]:
    """Every placeholder in the strings of ``event``, parsed (so a typo fails before anything runs)."""
    return [parse_placeholder(m.group(1)) for text in _strings(event) for m in _PLACEHOLDER.finditer(text)]


class Filler:
    """Fills the placeholders of an event; thread-safe, one per fresh database (its rows are that database's).

    Parameters
    ----------
    rows:
        The values each ``{{row:...}}`` picks among (read after the setup ran).
    seed:
        Seed of the random choices, so every strategy gets the same sequence.
    """

    def __init__(self, rows: Mapping[RowRef, Sequence[Any]] | None = None, *, seed: int = 7) -> None:
        self.rows = dict(rows or {})
        self._random = random.Random(seed)  # noqa: S311 - a request mix, not a secret
        self._token = uuid.uuid4().hex[:8]  # unique across runs too, for a database that outlives the run
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def value(self, placeholder: Placeholder) -> Any:
        with self._lock:
            if isinstance(placeholder, Unique):
                return f"{self._token}-{next(self._counter)}"
            if isinstance(placeholder, IntRange):
                return self._random.randint(placeholder.low, placeholder.high)
            values = self.rows.get(placeholder)
            if not values:
                raise PlaceholderError(f"{{{{row:{placeholder}}}}}: the setup created no rows in {placeholder.table}")
            return self._random.choice(values)

    def fill(self, event: Any) -> Any:
        """A copy of ``event`` with every placeholder replaced by this invocation's value for it."""
        chosen: dict[str, Any] = {}

        def value_of(text: str) -> Any:
            if text not in chosen:
                chosen[text] = self.value(parse_placeholder(text))
            return chosen[text]

        def walk(item: Any) -> Any:
            if isinstance(item, str):
                return _PLACEHOLDER.sub(lambda m: str(value_of(m.group(1))), item)
            if isinstance(item, Mapping):
                return {key: walk(value) for key, value in item.items()}
            if isinstance(item, list):
                return [walk(value) for value in item]
            return item

        return walk(event)

"""What the comparison sends, and to which function: ``--function``, ``--event FILE[:WEIGHT]``, ``--setup(-sql)``.

Parsed once, before anything starts, so a typo exits 2 naming its option instead of failing minutes into a run.
The default ``make compare`` is one such spec (:func:`default_spec`): the items function, 4 reads of a seeded row
for each create, the template's migration function and a seed file as setup; there is no other workload.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.compare.placeholders import PlaceholderError, RowRef, find_placeholders

__all__ = [
    "DEFAULT_EVENTS",
    "EventFile",
    "SetupCall",
    "SpecError",
    "WorkloadSpec",
    "default_spec",
    "parse_event",
    "parse_setup",
    "parse_setup_sql",
]

# The default workload, relative to the template's directory: what `make compare` runs with no --function.
DEFAULT_FUNCTION = "ItemsFunction"
DEFAULT_EVENTS = (("events/compare/items_get_seeded.json", 4.0), ("events/compare/items_create_unique.json", 1.0))
DEFAULT_SETUP = ("MigrateFunction", None)
DEFAULT_SETUP_SQL = "events/compare/items_seed.sql"
MAX_WEIGHT = 1_000_000.0


class SpecError(ValueError):
    """A workload option that cannot be used; ``option`` is the flag to name in the message (exit 2)."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option


@dataclass(frozen=True, slots=True)
class EventFile:
    """One event of the mix: the file, its share of the invocations (a weight), and its parsed JSON."""

    path: Path
    weight: float
    event: Any


@dataclass(frozen=True, slots=True)
class SetupCall:
    """One invocation run once per fresh database before a scenario's traffic (a migration, a seeder)."""

    function: str
    path: Path | None
    event: Any


@dataclass(frozen=True, slots=True)
class WorkloadSpec:
    """The function under comparison and everything it is sent."""

    function: str
    events: tuple[EventFile, ...]
    setup: tuple[SetupCall, ...] = ()
    setup_sql: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        if not self.events:
            raise SpecError("--event", f"give at least one event file for --function {self.function}")

    @property
    def row_refs(self) -> list[RowRef]:
        """The ``{{row:...}}`` placeholders of the events: the columns to read after the setup ran."""
        refs = (p for e in self.events for p in find_placeholders(e.event) if isinstance(p, RowRef))
        return list(dict.fromkeys(refs))

    def as_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "events": [{"file": str(e.path), "weight": e.weight} for e in self.events],
            "setup": [f"{s.function}:{s.path}" if s.path else s.function for s in self.setup],
            "setup_sql": [str(path) for path in self.setup_sql],
        }


def _load_json(path: Path, option: str) -> Any:
    if not path.is_file():
        raise SpecError(option, f"{path} does not exist")
    try:
        return json.loads(path.read_text())
    except RecursionError as exc:  # deeper than the interpreter's recursion limit: not a ValueError
        raise SpecError(option, f"{path} is nested too deep to read (over about 1,000 levels)") from exc
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise SpecError(option, f"{path} is not JSON: {exc}") from exc


def parse_event(text: str, base: Path = Path()) -> EventFile:
    """``FILE[:WEIGHT]`` (weight 1 when left out) into an event whose placeholders are known to be well formed."""
    path_text, weight = text, 1.0
    head, sep, tail = text.rpartition(":")
    if sep and head and not Path(text).is_file():
        path_text = head
        try:
            weight = float(tail)
        except ValueError:
            raise SpecError("--event", f"{text}: WEIGHT must be a number, got {tail!r}") from None
        if not 0 < weight <= MAX_WEIGHT:
            raise SpecError("--event", f"{text}: WEIGHT must be greater than 0 and at most {MAX_WEIGHT:g}")
    path = base / path_text
    event = _load_json(path, "--event")
    try:
        find_placeholders(event)
    except PlaceholderError as exc:
        raise SpecError("--event", f"{path}: {exc}") from exc
    return EventFile(path, weight, event)


def parse_setup(text: str, base: Path = Path()) -> SetupCall:
    """``FUNCTION[:EVENT]``: invoke FUNCTION with the JSON in EVENT (``{}`` when left out)."""
    function, sep, event_path = text.partition(":")
    if not function:
        raise SpecError("--setup", f"{text!r}: expected FUNCTION or FUNCTION:EVENT_FILE")
    if not sep:
        return SetupCall(function, None, {})
    path = base / event_path
    return SetupCall(function, path, _load_json(path, "--setup"))


def parse_setup_sql(text: str, base: Path = Path()) -> Path:
    path = base / text
    if not path.is_file():
        raise SpecError("--setup-sql", f"{path} does not exist")
    return path


def default_spec(base: Path) -> WorkloadSpec:
    """What ``make compare`` runs: the items function's own event files, relative to ``base`` (the template's dir)."""
    return WorkloadSpec(
        function=DEFAULT_FUNCTION,
        events=tuple(parse_event(f"{path}:{weight:g}", base) for path, weight in DEFAULT_EVENTS),
        setup=(SetupCall(DEFAULT_SETUP[0], None, {}),),
        setup_sql=(parse_setup_sql(DEFAULT_SETUP_SQL, base),),
    )

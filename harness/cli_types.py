"""argparse types shared by the ``harness`` subcommands: a bad value exits 2 with a message naming the option."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["bounded", "count_list", "positive", "unwritable_dir", "unwritable_file"]


def bounded(kind: Callable[[str], float], low: float, high: float, option: str) -> Callable[[str], float]:
    """A number of ``kind`` (int or float) between ``low`` and ``high``, both included."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option}: expected a number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{option} must be between {low:g} and {high:g}, got {value}")
        return value

    return parse


def positive(kind: type[float] | type[int], high: float) -> Callable[[str], float]:
    """A number of ``kind`` above 0 and at most ``high`` ("nan" and "inf" parse as floats; neither is usable).

    Unlike :func:`bounded` the low end is open: any positive float, however small, is a value.
    """

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from exc
        if not 0 < value <= high:
            limit = f"{int(high):,}" if float(high).is_integer() else f"{high:g}"
            span = f"from 1 to {limit}" if kind is int else f"above 0 and at most {limit}"
            raise argparse.ArgumentTypeError(f"must be {span}, got {text}")
        return value

    return parse


def count_list(maximum: int, option: str) -> Callable[[str], tuple[int, ...]]:
    """Comma-separated whole numbers from 1 to ``maximum``, e.g. ``1,8,32,64``."""

    def parse(text: str) -> tuple[int, ...]:
        try:
            values = tuple(int(part) for part in text.split(",") if part.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{option}: expected comma-separated whole numbers like 1,8,32, got {text!r}"
            ) from None
        if not values or not 1 <= min(values) <= max(values) <= maximum:
            raise argparse.ArgumentTypeError(f"{option}: every count must be between 1 and {maximum}, got {text!r}")
        return values

    return parse


# Output paths are checked when the command starts, not when its results are ready (a run can take minutes), and
# without making anything: a command refused later for another reason leaves no directory or empty file behind.
def _unwritable_place(path: Path) -> str | None:
    """Why nothing can be made at ``path`` (a missing path: its first existing parent must take a new file)."""
    parent = next(p for p in [path, *path.parents] if p.exists())
    if not parent.is_dir():
        return f"cannot be made: {parent} is a file; pass a path you can write"
    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        return f"cannot be written ({exc.strerror or exc}); pass a path you can write"
    return None


def unwritable_dir(path: Path) -> str | None:
    """Why results cannot be written into the directory ``path`` (made later if missing), or None when they can."""
    if path.exists() and not path.is_dir():
        return "is a file; give a directory for the results"
    return _unwritable_place(path)


def unwritable_file(path: Path) -> str | None:
    """Why the file ``path`` cannot be written (its directory made later if missing), or None when it can."""
    if path.is_dir():
        return "is a directory; name the file to write"
    if path.exists():
        try:
            with path.open("a"):  # opened, not written: the page stays as it is until the results replace it
                pass
        except OSError as exc:
            return f"cannot be written ({exc.strerror or exc}); pass a path you can write"
        return None
    return _unwritable_place(path.parent)

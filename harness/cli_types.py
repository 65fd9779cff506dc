"""argparse types shared by the ``harness`` subcommands: a bad value exits 2 with a message naming the option."""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["bounded", "count_list"]


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


def count_list(text: str) -> tuple[int, ...]:
    """Comma-separated whole numbers >= 1, e.g. ``1,8,32,64``."""
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers like 1,8,32, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"every count must be at least 1, got {text!r}")
    return values

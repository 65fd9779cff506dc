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

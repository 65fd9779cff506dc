"""Numbers formatted for reading: the same rules in the terminal, the HTML page and the chart labels."""

from __future__ import annotations

__all__ = ["fmt_count", "fmt_mib", "fmt_ms", "fmt_rate"]

MISSING = "-"


def fmt_ms(value: float | None) -> str:
    """Milliseconds: one decimal under 100 (where a tenth matters), whole numbers above (where it is noise)."""
    if value is None:
        return MISSING
    return f"{value:.1f}" if abs(value) < 100 else f"{value:,.0f}"


def fmt_rate(value: float | None) -> str:
    """Requests per second, with the same precision rule as milliseconds."""
    return fmt_ms(value)


def fmt_count(value: int | None) -> str:
    """Whole numbers with thousands separators (1,976 reads faster than 1976 in a column of them)."""
    return MISSING if value is None else f"{value:,}"


def fmt_mib(kib: int | None) -> str:
    """Backend memory is measured in KiB; MiB with one decimal is what a reader compares."""
    return MISSING if kib is None else f"{kib / 1024:.1f}"

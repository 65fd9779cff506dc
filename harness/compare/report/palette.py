"""One colour per strategy, the same in every chart and page, so a reader learns it once.

The six known strategies get fixed colours from the Okabe-Ito palette (distinguishable with the common forms of
colour blindness); any other name gets a stable colour derived from the name, never from its position, so adding or
removing a strategy does not repaint the others.
"""

from __future__ import annotations

import zlib

__all__ = ["STRATEGY_COLOURS", "colour_for"]

STRATEGY_COLOURS: dict[str, str] = {
    "per_invocation": "#D55E00",
    "queue": "#E69F00",
    "single": "#0072B2",
    "null": "#009E73",
    "null_pgbouncer": "#56B4E9",
    "single_pgbouncer": "#CC79A7",
}

_SPARE = ("#7F7F7F", "#8C564B", "#BCBD22", "#17BECF", "#393B79", "#AD494A")


def colour_for(strategy: str) -> str:
    """Hex colour (``#RRGGBB``) of a strategy; unknown names hash to a spare colour (stable across runs)."""
    known = STRATEGY_COLOURS.get(strategy)
    if known is not None:
        return known
    return _SPARE[zlib.crc32(strategy.encode()) % len(_SPARE)]

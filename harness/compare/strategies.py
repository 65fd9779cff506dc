"""The connection strategies under comparison: one row each in every table of the report.

A strategy is configuration only — the same functions, the same layer — which is the point: the template chooses
between them with a parameter, never with a copy of the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["STRATEGIES", "Strategy", "strategy_names"]

PoolMode = Literal["single", "null", "queue", "per_invocation"]


@dataclass(frozen=True, slots=True)
class Strategy:
    name: str
    pool_mode: PoolMode
    via_pgbouncer: bool
    capped: bool  # the template's connection budget applies (ReservedConcurrentExecutions)
    summary: str


STRATEGIES: tuple[Strategy, ...] = (
    Strategy(
        "per_invocation",
        "per_invocation",
        False,
        False,
        "baseline: an engine built and disposed inside every invocation (never for production)",
    ),
    Strategy("queue", "queue", False, False, "SQLAlchemy's defaults (pool_size=5, max_overflow=10) per environment"),
    Strategy(
        "single",
        "single",
        False,
        True,
        "the template's default: pool_size=1, max_overflow=0, engine at module scope, budget-capped concurrency",
    ),
    Strategy("null", "null", False, False, "NullPool straight to Postgres: one connection per invocation"),
    Strategy(
        "null_pgbouncer",
        "null",
        True,
        False,
        "NullPool through PgBouncer in transaction mode (the local stand-in for RDS Proxy)",
    ),
    Strategy("single_pgbouncer", "single", True, True, "pool_size=1 per environment, through PgBouncer"),
)


def strategy_names() -> list[str]:
    return [strategy.name for strategy in STRATEGIES]

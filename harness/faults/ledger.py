"""The write ledger: what every client was told, checked against what the table holds.

Each write has a unique idempotency key, and the item's name is that key, so the table can be asked for exactly the
rows one write produced. An acknowledged write must be there exactly once with the fields that were sent; a write that
never got an answer may be there once or not at all, never twice.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from harness.postgres import PostgresServer

__all__ = ["LedgerVerdict", "WriteLedger"]


@dataclass(frozen=True, slots=True)
class Write:
    key: str
    description: str
    quantity: int
    acknowledged: bool
    item_id: int | None


@dataclass(frozen=True, slots=True)
class LedgerVerdict:
    acknowledged: int
    unacknowledged: int
    missing: list[str] = field(default_factory=list)  # acknowledged but absent: a lost write
    doubled: list[str] = field(default_factory=list)  # more than one row for one key
    altered: list[str] = field(default_factory=list)  # a row whose fields differ from what was sent (half-written)
    unacknowledged_applied: int = 0  # no answer reached the client, but the write happened (allowed, once)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.doubled or self.altered)

    def line(self) -> str:
        if self.ok:
            return (
                f"ledger ok: {self.acknowledged} acknowledged writes all present once; "
                f"{self.unacknowledged} unanswered ({self.unacknowledged_applied} applied once, rest absent)"
            )
        return (
            f"LEDGER BROKEN: {len(self.missing)} lost, {len(self.doubled)} doubled, "
            f"{len(self.altered)} altered of {self.acknowledged} acknowledged"
        )


class WriteLedger:
    """Thread-safe record of every write's final outcome, as its client saw it."""

    def __init__(self) -> None:
        self._writes: list[Write] = []
        self._lock = threading.Lock()

    def record(self, key: str, *, description: str, quantity: int, acknowledged: bool, item_id: int | None) -> None:
        with self._lock:
            self._writes.append(Write(key, description, quantity, acknowledged, item_id))

    def __len__(self) -> int:
        return len(self._writes)

    def verify(self, server: PostgresServer, database: str) -> LedgerVerdict:
        """Compare the ledger with the ``items`` table of ``database`` (read as the superuser)."""
        rows = server.execute("SELECT name, description, quantity FROM items", database=database)
        counts = Counter(str(name) for name, _, _ in rows)
        fields: dict[str, tuple[Any, Any]] = {str(name): (desc, qty) for name, desc, qty in rows}
        acknowledged = [w for w in self._writes if w.acknowledged]
        unanswered = [w for w in self._writes if not w.acknowledged]
        return LedgerVerdict(
            acknowledged=len(acknowledged),
            unacknowledged=len(unanswered),
            missing=[w.key for w in acknowledged if counts[w.key] == 0],
            doubled=[w.key for w in self._writes if counts[w.key] > 1],
            altered=[
                w.key for w in self._writes if counts[w.key] == 1 and fields[w.key] != (w.description, w.quantity)
            ],
            unacknowledged_applied=sum(1 for w in unanswered if counts[w.key] == 1),
        )

"""Prepare a fresh database for a workload: the ``--setup`` invocations, then the ``--setup-sql`` files, then read the
rows the events' ``{{row:...}}`` placeholders pick from.

Run once per fresh database (every strategy of every scenario gets its own), always on a direct connection as the
application role, so what the setup creates belongs to the role the function connects as.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from harness.compare.judge import judge
from harness.compare.placeholders import Filler, RowRef
from harness.compare.workload_spec import SetupCall, SpecError, WorkloadSpec
from harness.kit.outcomes import InvokeResultLike

__all__ = ["MAX_ROWS", "prepare_database", "read_rows"]

MAX_ROWS = 10_000  # values kept per {{row:...}}: plenty to spread reads, bounded memory


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _run_setup_call(invoke: Callable[[str, Any], InvokeResultLike], call: SetupCall) -> None:
    ok, _status, error, _rule = judge(invoke(call.function, call.event))
    if not ok:
        named = f"{call.function}:{call.path}" if call.path else call.function
        raise SpecError("--setup", f"{named} failed: {error}")


def _run_sql(engine: sa.Engine, path: Path) -> None:
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(path.read_text())
    except SQLAlchemyError as exc:
        raise SpecError("--setup-sql", f"{path}: {_first_line(exc)}") from exc


def read_rows(engine: sa.Engine, refs: Sequence[RowRef]) -> dict[RowRef, list[Any]]:
    """Up to MAX_ROWS values of each referenced column; SpecError naming ``--event`` for a missing table or column."""
    quote = engine.dialect.identifier_preparer.quote
    rows: dict[RowRef, list[Any]] = {}
    for ref in refs:
        table = ".".join(quote(part) for part in ref.table.split("."))
        query = f"SELECT {quote(ref.column)} FROM {table} ORDER BY 1 LIMIT {MAX_ROWS}"
        try:
            with engine.connect() as conn:
                values = [row[0] for row in conn.exec_driver_sql(query)]
        except SQLAlchemyError as exc:
            raise SpecError("--event", f"{{{{row:{ref}}}}} cannot be filled: {_first_line(exc)}") from exc
        if not values:
            raise SpecError("--event", f"{{{{row:{ref}}}}} cannot be filled: the setup created no rows in {ref.table}")
        rows[ref] = values
    return rows


def prepare_database(
    invoke: Callable[[str, Any], InvokeResultLike], spec: WorkloadSpec, database_url: str, *, seed: int = 7
) -> Filler:
    """Run the setup against ``database_url`` (a direct URL) and return the filler for this database's events."""
    for call in spec.setup:
        _run_setup_call(invoke, call)
    url = sa.engine.make_url(database_url)
    if url.drivername == "postgresql":  # SQLAlchemy 2.1's default driver is psycopg 3; the project ships psycopg2
        url = url.set(drivername="postgresql+psycopg2")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        for path in spec.setup_sql:
            _run_sql(engine, path)
        return Filler(read_rows(engine, spec.row_refs), seed=seed)
    finally:
        engine.dispose()

"""``harness bench --only layer``: what the layer costs per request, per pool mode, against a raw psycopg2 floor.

Method: one embedded Postgres; a table of 1,000 rows. The floor is one persistent psycopg2 connection doing the
same work by hand: a primary-key SELECT in autocommit (what ``db.read()`` sends), and an INSERT + COMMIT (what
``db.connect()`` sends). Each pool mode runs the same work through ``@db.handler`` (stats, leak guard and the
per-invocation EMF + log line included, written to /dev/null) and, separately, through the scope alone. Variants
are interleaved in rounds so that the machine's noise hits all of them alike; a figure is the median over rounds
of the mean time per request in that round, and ratios divide by the floor measured in the same rounds.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg2
from sqlalchemy import create_engine, text

from harness.postgres import EmbeddedPostgres
from lambda_db import Database, DatabaseConfig, PoolMode
from lambda_db.metrics import layer_logger

TITLE = "Layer: per-request cost of each pool mode vs a raw psycopg2 connection"

ROLE, PASSWORD, DBNAME = "bench", "bench-pw", "bench"
ROWS = 1000
MODES: tuple[PoolMode, ...] = ("single", "null", "queue", "per_invocation")
CONNECTING_MODES = ("null", "per_invocation")  # open a server connection per request: fewer requests per round
PLAIN = "plain SQLAlchemy QueuePool(1, 0)"
READ_TARGET = 2.0  # single mode, warm read, times the floor
WRITE_TARGET = 1.3  # single mode, warm write, times the floor

SELECT_SQL = "SELECT id, name FROM items WHERE id = %(id)s"
INSERT_SQL = "INSERT INTO writes (payload) VALUES (%(payload)s)"


@dataclass
class Context:
    """The three things the handler decorator reads from Lambda's context object."""

    function_name: str = "bench"
    aws_request_id: str = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class Series:
    """Per-round mean microseconds per request for one variant."""

    name: str
    per_round_us: list[float] = field(default_factory=list)
    cpu_per_round_us: list[float] = field(default_factory=list)  # this thread's CPU time: robust to other load

    @property
    def median_us(self) -> float:
        return statistics.median(self.per_round_us)

    @property
    def best_us(self) -> float:
        """The fastest round: on a shared, noisy machine the closest figure to the code's own cost."""
        return min(self.per_round_us)

    @property
    def cpu_us(self) -> float:
        return statistics.median(self.cpu_per_round_us)

    def add(self, timing: tuple[float, float]) -> None:
        self.per_round_us.append(timing[0])
        self.cpu_per_round_us.append(timing[1])


def _prepare(pg: EmbeddedPostgres) -> str:
    pg.create_role(ROLE, PASSWORD)
    pg.create_database(DBNAME, owner=ROLE)
    conn = psycopg2.connect(host=pg.host, port=pg.port, user=ROLE, password=PASSWORD, dbname=DBNAME)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)")
        cur.execute("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, %s) g", (ROWS,))
        cur.execute("CREATE TABLE writes (id bigserial PRIMARY KEY, payload text NOT NULL)")
    conn.close()
    return pg.url(DBNAME, user=ROLE, password=PASSWORD)


def _raw_work(pg: EmbeddedPostgres) -> tuple[Callable[[int], None], Callable[[int], None], Callable[[], None]]:
    read_conn = psycopg2.connect(host=pg.host, port=pg.port, user=ROLE, password=PASSWORD, dbname=DBNAME)
    read_conn.autocommit = True
    write_conn = psycopg2.connect(host=pg.host, port=pg.port, user=ROLE, password=PASSWORD, dbname=DBNAME)

    def read(i: int) -> None:
        with read_conn.cursor() as cur:
            cur.execute(SELECT_SQL, {"id": i % ROWS + 1})
            cur.fetchone()

    def write(i: int) -> None:
        with write_conn.cursor() as cur:
            cur.execute(INSERT_SQL, {"payload": f"raw {i}"})
        write_conn.commit()

    def close() -> None:
        read_conn.close()
        write_conn.close()

    return read, write, close


def _plain_sqlalchemy_work(url: str) -> tuple[Callable[[int], None], Callable[[int], None], Callable[[], None]]:
    """What most handlers write: a module-scope engine, QueuePool(1, 0), ``engine.connect()`` / ``engine.begin()``."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    select, insert = text(SELECT_SQL.replace("%(id)s", ":id")), text(INSERT_SQL.replace("%(payload)s", ":payload"))

    def read(i: int) -> None:
        with engine.connect() as conn:  # psycopg2 sends BEGIN before the SELECT, SQLAlchemy ROLLBACK on return
            conn.execute(select, {"id": i % ROWS + 1}).one()

    def write(i: int) -> None:
        with engine.begin() as conn:
            conn.execute(insert, {"payload": f"plain {i}"})

    return read, write, engine.dispose


def _layer_work(db: Database, *, through_handler: bool) -> tuple[Callable[[int], None], Callable[[int], None]]:
    select, insert = text(SELECT_SQL.replace("%(id)s", ":id")), text(INSERT_SQL.replace("%(payload)s", ":payload"))

    def read_once(event: Any, context: Any) -> None:
        with db.read() as conn:
            conn.execute(select, {"id": event % ROWS + 1}).one()

    def write_once(event: Any, context: Any) -> None:
        with db.connect() as conn:
            conn.execute(insert, {"payload": f"layer {event}"})

    if through_handler:
        read_handler, write_handler = db.handler(read_once), db.handler(write_once)
        context = Context()
        return (lambda i: read_handler(i, context)), (lambda i: write_handler(i, context))
    return (lambda i: read_once(i, None)), (lambda i: write_once(i, None))


def _time_round(work: Callable[[int], None], requests: int) -> tuple[float, float]:
    """Wall and client-CPU microseconds per request over one round."""
    start, cpu_start = time.perf_counter(), time.thread_time()
    for i in range(requests):
        work(i)
    return (time.perf_counter() - start) / requests * 1e6, (time.thread_time() - cpu_start) / requests * 1e6


@contextlib.contextmanager
def _reports_to_devnull() -> Iterator[None]:
    """The handler's per-invocation log line and EMF document go to /dev/null, still serialised and written."""
    with open(os.devnull, "w") as devnull:
        handler = layer_logger().registered_handler
        previous = handler.setStream(devnull)  # type: ignore[attr-defined]
        saved_stdout, sys.stdout = sys.stdout, devnull
        try:
            yield
        finally:
            sys.stdout = saved_stdout
            handler.setStream(previous)  # type: ignore[attr-defined]


def run(quick: bool) -> str:
    rounds, requests = (6, 50) if quick else (40, 50)
    load_before = os.getloadavg()[0]
    series: dict[str, Series] = {}
    opened: dict[str, float] = {}
    pinged: dict[str, float] = {}
    with EmbeddedPostgres(max_connections=60, log_connections=False) as pg, _reports_to_devnull():
        url = _prepare(pg)
        raw_read, raw_write, raw_close = _raw_work(pg)
        variants: dict[str, tuple[Callable[[int], None], Callable[[int], None], int]] = {
            "psycopg2 (floor)": (raw_read, raw_write, requests)
        }
        plain_read, plain_write, plain_close = _plain_sqlalchemy_work(url)
        plain_read(0), plain_write(0)
        variants[PLAIN] = (plain_read, plain_write, requests)
        databases: dict[str, Database] = {}
        for mode in MODES:
            n = requests // 10 if mode in CONNECTING_MODES else requests
            for through_handler in (True, False):
                if mode == "per_invocation" and not through_handler:
                    continue  # the engine lives per invocation: only meaningful through the handler
                name = f"{mode} {'@db.handler' if through_handler else 'scope only'}"
                db = Database(DatabaseConfig(url=url, pool_mode=mode, application_name=f"bench-{mode}"))
                databases[name] = db
                read, write = _layer_work(db, through_handler=through_handler)
                read(0), write(0)  # warm: engine built, first connect and dialect initialisation done
                db.pop_stats()
                variants[name] = (read, write, n)
        for _ in range(rounds):
            for name, (read, write, n) in variants.items():
                series.setdefault(f"{name}|read", Series(name)).add(_time_round(read, n))
                series.setdefault(f"{name}|write", Series(name)).add(_time_round(write, n))
        for name, db in databases.items():
            if name.endswith("scope only"):
                stats = db.pop_stats()
                opened[name] = stats["connections_opened_num"] / (2 * rounds * variants[name][2])
                pinged[name] = stats["pings_num"] / (2 * rounds * variants[name][2])
            db.dispose()
        raw_close()
        plain_close()
    load = (load_before, os.getloadavg()[0])
    return _render(series, opened, pinged, rounds=rounds, requests=requests, load=load)


def _render(
    series: dict[str, Series],
    opened: dict[str, float],
    pinged: dict[str, float],
    *,
    rounds: int,
    requests: int,
    load: tuple[float, float],
) -> str:
    floor = {kind: series[f"psycopg2 (floor)|{kind}"] for kind in ("read", "write")}

    def ratio(name: str, kind: str, best: bool = False) -> float:
        if best:
            return series[f"{name}|{kind}"].best_us / floor[kind].best_us
        return series[f"{name}|{kind}"].median_us / floor[kind].median_us

    lines = [
        f"{rounds} interleaved rounds; {requests} requests per round per variant ({requests // 10} for the modes "
        "that connect per request). Figures are the median over rounds of the mean per request; the ratio in "
        "brackets compares the fastest rounds (the machine is shared, and noise only ever adds time). "
        f"1-minute load average {load[0]:.1f} at the start, {load[1]:.1f} at the end, on {os.cpu_count()} CPUs.",
        "",
        "| variant | warm read (µs) | x floor | warm write (µs) | x floor | new connections / req. | pings / req. |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    names = list(dict.fromkeys(key.split("|")[0] for key in series))
    for name in names:
        read, write = series[f"{name}|read"].median_us, series[f"{name}|write"].median_us
        new = opened.get(name.replace("@db.handler", "scope only"))
        pings = pinged.get(name.replace("@db.handler", "scope only"))
        lines.append(
            f"| {name} | {read:.0f} | {ratio(name, 'read'):.2f} ({ratio(name, 'read', True):.2f}) | {write:.0f} | "
            f"{ratio(name, 'write'):.2f} ({ratio(name, 'write', True):.2f}) | "
            f"{'' if new is None else f'{new:.2f}'} | {'' if pings is None else f'{pings:.3f}'} |"
        )
    single_new = opened.get("single scope only", 0.0)
    lines += [
        "",
        "Client CPU per request (this process's CPU time, median over rounds; what the Python code costs, "
        "whatever else the machine is doing):",
        "",
        "| variant | read CPU (µs) | write CPU (µs) |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {name} | {series[f'{name}|read'].cpu_us:.0f} | {series[f'{name}|write'].cpu_us:.0f} |" for name in names
    ]
    lines += [
        "",
        "Targets for the default `single` mode (judged on the medians):",
        "",
        _verdict("warm read", ratio("single @db.handler", "read"), ratio("single scope only", "read"), READ_TARGET),
        _verdict("warm write", ratio("single @db.handler", "write"), ratio("single scope only", "write"), WRITE_TARGET),
        f"- new server connections per warm request: {single_new:.2f} (target 0): "
        f"{'met' if single_new == 0 else 'MISSED'}",
        f"- for scale, plain SQLAlchemy without the layer: read {ratio(PLAIN, 'read'):.2f}x, "
        f"write {ratio(PLAIN, 'write'):.2f}x the floor",
        "",
        "`@db.handler` rows include the per-invocation reporting (one JSON log line and one EMF document, "
        "serialised and written to /dev/null); `scope only` rows are `db.read()` / `db.connect()` alone. "
        "`plain SQLAlchemy` is the usual handler code without the layer (its reads send BEGIN and ROLLBACK "
        "around the SELECT). On Lambda the floor itself is larger (a VPC round trip to RDS rather than loopback), "
        "so the same absolute overhead makes smaller ratios there.",
    ]
    return "\n".join(lines)


def _verdict(what: str, through_handler: float, scope_only: float, target: float) -> str:
    verdict = "met" if through_handler <= target else ("met by the scope alone" if scope_only <= target else "MISSED")
    return (
        f"- {what}: {through_handler:.2f}x the floor through `@db.handler`, {scope_only:.2f}x for the scope alone "
        f"(target <= {target}x): {verdict}"
    )


if __name__ == "__main__":  # pragma: no cover - `harness bench --only layer` is the way in
    print(run(quick="--quick" in sys.argv))

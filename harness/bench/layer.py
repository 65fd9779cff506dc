"""``harness bench --only layer``: what the layer costs per request, per pool mode, against a raw psycopg2 floor.

Method: one embedded Postgres; a table of 1,000 rows. The floor is one persistent psycopg2 connection doing the
same work by hand (:mod:`harness.bench.layer_work`): a primary-key SELECT in autocommit, and an INSERT in a
transaction with psycopg2's defaults (BEGIN, INSERT, COMMIT: three round trips). Each pool mode runs the same work
through ``@db.handler`` (stats, leak guard and the per-invocation EMF + log line included, written to /dev/null):
what a handler pays. ``single`` also runs with ``DB_METRICS=off``, with ``DB_DEFER_BEGIN=false`` and through the
scope alone, to show what the reporting, the deferred BEGIN and the scope each cost or save. Variants are
interleaved in rounds so that the machine's noise hits all of them alike; a time is the median over rounds of the
mean time per request in that round, and a ratio is the median over rounds of that round's time divided by the
floor's in the same round (p25-p75 of those per-round ratios show the spread). Round trips per request are counted
from the server's statement log in a pass of their own (:mod:`harness.bench.round_trips`): exact, whatever the noise.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from harness.bench import layer_work
from harness.bench.layer_stages import measure_stages, render_stages
from harness.bench.layer_work import Closer, Work
from harness.bench.round_trips import count_round_trips
from harness.bench.timing import Timings, run_rounds
from harness.postgres import EmbeddedPostgres
from lambda_db import Database, DatabaseConfig, MetricsMode, PoolMode
from lambda_db.metrics import layer_logger

TITLE = "Layer: per-request cost of each pool mode vs a raw psycopg2 connection"

MODES: tuple[PoolMode, ...] = ("single", "null", "queue", "per_invocation")
FLOOR = "psycopg2 (floor)"
FLOOR_BEGIN = "psycopg2, BEGIN sent with the INSERT (by hand, as the layer does)"
HANDLER = "single, @db.handler + db.run_read / db.run_transaction (what the functions run)"
METRICS_OFF = "single, through @db.handler, DB_METRICS=off"
DEFER_OFF = "single, through @db.handler, DB_DEFER_BEGIN=false"
SCOPE = "single, scope only (no @db.handler)"
CONNECTING_MODES = ("null", "per_invocation")  # open a server connection per request: fewer requests per round
PLAIN = "plain SQLAlchemy QueuePool(1, 0)"
HELD = "SQLAlchemy Connection held open (no pool, no layer)"
# The targets, single mode, warm, judged on HANDLER (the path the functions run).
READ_TARGET = 2.2  # read, times the floor
READ_OVER_HELD_TARGET = 1.3  # read, times SQLAlchemy's execute on a connection held open
WRITE_TARGET = 2.0  # write, times the floor
WRITE_OVER_PLAIN_TARGET = 0.75  # write, times plain SQLAlchemy QueuePool(1, 0) engine.begin()
CPU_OVER_HELD_TARGET_US = 40.0  # client CPU per read over SQLAlchemy's held execute


@contextlib.contextmanager
def reports_to_devnull() -> Iterator[None]:
    """The handler's per-invocation line (log and EMF in one) goes to /dev/null, still serialised and written."""
    with open(os.devnull, "w") as devnull:
        handler: Any = layer_logger().registered_handler
        # Swapped, not setStream: that flushes the stream it replaces, which may be an earlier caller's stdout that
        # is closed by now (the logger is made once per process, on whatever sys.stdout was then).
        previous, handler.stream = handler.stream, devnull
        saved_stdout, sys.stdout = sys.stdout, devnull
        try:
            yield
        finally:
            sys.stdout = saved_stdout
            handler.stream = previous


def _layer_variants(url: str) -> dict[str, tuple[Database, bool]]:
    """Row name -> (a warm Database, through the handler or the scope alone), in table order."""
    wanted: list[tuple[str, PoolMode, bool, MetricsMode, bool]] = [
        (HANDLER, "single", True, "per_invocation", True),
        (METRICS_OFF, "single", True, "off", True),
        (DEFER_OFF, "single", True, "per_invocation", False),
        (SCOPE, "single", False, "per_invocation", True),
    ]
    for mode in MODES[1:]:
        wanted.append((f"{mode}, through @db.handler", mode, True, "per_invocation", True))
        if mode != "per_invocation":  # the engine lives per invocation: only meaningful through the handler
            wanted.append((f"{mode}, scope only", mode, False, "per_invocation", True))
    made = {}
    for index, (name, mode, through_handler, metrics, defer_begin) in enumerate(wanted):
        config = DatabaseConfig(
            url=url, pool_mode=mode, metrics=metrics, defer_begin=defer_begin, application_name=f"bench-{index}"
        )
        made[name] = (Database(config), through_handler)
    return made


def run(quick: bool) -> str:
    rounds, requests = (6, 50) if quick else (40, 50)
    load_before = os.getloadavg()[0]
    opened: dict[str, float] = {}
    pinged: dict[str, float] = {}
    with EmbeddedPostgres(max_connections=60, log_connections=False) as pg, reports_to_devnull():
        url = layer_work.prepare(pg)
        variants: dict[str, tuple[Work, Work, int]] = {}
        closers: list[Closer] = []
        unpooled = {
            FLOOR: layer_work.raw_work(pg),
            FLOOR_BEGIN: layer_work.raw_work(pg, begin_with_insert=True),
            PLAIN: layer_work.plain_sqlalchemy_work(url),
            HELD: layer_work.held_connection_work(url),
        }
        for name, (read, write, close) in unpooled.items():
            read(0), write(0)
            variants[name] = (read, write, requests)
            closers.append(close)
        databases = _layer_variants(url)
        warm: dict[str, dict[str, float]] = {}
        for name, (db, through_handler) in databases.items():
            n = requests // 10 if db.config.pool_mode in CONNECTING_MODES else requests
            read, write = layer_work.layer_work(db, through_handler=through_handler)
            read(0), write(0)  # warm: engine built, first connect and dialect initialisation done
            warm[name] = db.lifetime_stats()
            variants[name] = (read, write, n)
        timings = run_rounds(variants, rounds=rounds, floor=FLOOR)
        for name, (db, _) in databases.items():
            after, requests_made = db.lifetime_stats(), 2 * rounds * variants[name][2]
            opened[name] = (after["connections_opened_num"] - warm[name]["connections_opened_num"]) / requests_made
            pinged[name] = (after["pings_num"] - warm[name]["pings_num"]) / requests_made
        trips = count_round_trips(pg, {name: (read, write) for name, (read, write, _) in variants.items()})
        stages = measure_stages(databases[HANDLER][0], databases[METRICS_OFF][0], url, quick=quick)
        for db, _ in databases.values():
            db.dispose()
        for close in closers:
            close()
    load = (load_before, os.getloadavg()[0])
    return "\n".join(
        [_render(timings, opened, pinged, trips, rounds=rounds, requests=requests, load=load), *render_stages(stages)]
    )


def _render(
    timings: Timings,
    opened: dict[str, float],
    pinged: dict[str, float],
    trips: dict[str, tuple[float, float]],
    *,
    rounds: int,
    requests: int,
    load: tuple[float, float],
) -> str:
    ratio, spread = timings.ratio, timings.spread
    lines = [
        f"{rounds} interleaved rounds; {requests} requests per round per variant ({requests // 10} for the modes "
        "that connect per request). Times are the median over rounds of the mean per request; `x floor` is the "
        "median over rounds of the ratio to the floor measured in the same round, with its p25-p75 in brackets. "
        f"1-minute load average {load[0]:.1f} at the start, {load[1]:.1f} at the end, on {os.cpu_count()} CPUs.",
        "",
        "| variant | warm read (µs) | x floor | warm write (µs) | x floor | query round trips (read / write) "
        "| new connections / req. | pings / req. |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    names = timings.names()
    for name in names:
        read, write = timings.get(name, "read").median_us, timings.get(name, "write").median_us
        new, pings = opened.get(name), pinged.get(name)
        shown = f"**{name}**" if name == HANDLER else name
        lines.append(
            f"| {shown} | {read:.0f} | {spread(name, 'read')} | {write:.0f} | {spread(name, 'write')} | "
            f"{trips[name][0]:g} / {trips[name][1]:g} | {'' if new is None else f'{new:.2f}'} | "
            f"{'' if pings is None else f'{pings:.3f}'} |"
        )
    lines += [
        "",
        "Client CPU per request (this process's CPU time, median over rounds; what the Python code costs, "
        "whatever else the machine is doing):",
        "",
        "| variant | read CPU (µs) | write CPU (µs) |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {name} | {timings.get(name, 'read').cpu_us:.0f} | {timings.get(name, 'write').cpu_us:.0f} |"
        for name in names
    ]
    new_connections = opened.get(HANDLER, 0.0)
    cpu_over_held = timings.get(HANDLER, "read").cpu_us - timings.get(HELD, "read").cpu_us
    lines += [
        "",
        f"Targets for the default `single` mode, judged on the row `{HANDLER}`:",
        "",
        "| target | measured | limit | verdict |",
        "|---|---:|---:|---|",
        target_row("warm read, x floor", ratio(HANDLER, "read"), READ_TARGET, spread(HANDLER, "read")),
        target_row(
            "warm read, x SQLAlchemy Connection held open",
            ratio(HANDLER, "read", HELD),
            READ_OVER_HELD_TARGET,
            spread(HANDLER, "read", HELD),
        ),
        target_row("warm write, x floor", ratio(HANDLER, "write"), WRITE_TARGET, spread(HANDLER, "write")),
        target_row(
            "warm write, x plain SQLAlchemy QueuePool(1, 0)",
            ratio(HANDLER, "write", PLAIN),
            WRITE_OVER_PLAIN_TARGET,
            spread(HANDLER, "write", PLAIN),
        ),
        target_row(
            "client CPU per warm read over the held execute (µs)",
            cpu_over_held,
            CPU_OVER_HELD_TARGET_US,
            f"{cpu_over_held:.0f}",
        ),
        target_row("new server connections per warm request", new_connections, 0.0, f"{new_connections:.2f}"),
        target_row("pings per warm request", pinged.get(HANDLER, 0.0), 0.0, f"{pinged.get(HANDLER, 0.0):.3f}"),
        _round_trips_row("read", trips[HANDLER][0], trips[FLOOR][0]),
        _round_trips_row("write", trips[HANDLER][1], trips[FLOOR][1]),
        "",
        f"For scale: without the per-invocation report (`DB_METRICS=off`) read {ratio(METRICS_OFF, 'read'):.2f}x, "
        f"write {ratio(METRICS_OFF, 'write'):.2f}x; the scope alone read {ratio(SCOPE, 'read'):.2f}x, write "
        f"{ratio(SCOPE, 'write'):.2f}x; plain SQLAlchemy without the layer read {ratio(PLAIN, 'read'):.2f}x, write "
        f"{ratio(PLAIN, 'write'):.2f}x; SQLAlchemy's own execute on a connection held open read "
        f"{ratio(HELD, 'read'):.2f}x, write {ratio(HELD, 'write'):.2f}x the floor. The deferred BEGIN "
        f"(`DB_DEFER_BEGIN=false` turns it off) takes the write from {ratio(DEFER_OFF, 'write'):.2f}x to "
        f"{ratio(HANDLER, 'write'):.2f}x; psycopg2 sending BEGIN with the INSERT by hand is "
        f"{ratio(FLOOR_BEGIN, 'write'):.2f}x.",
        "",
        "`@db.handler` rows run what the items function runs: `db.run_read` for the read and `db.run_transaction` "
        "(an ORM session) for the write, inside the handler, with the per-invocation report (one JSON line, both the "
        "log line and the EMF document, serialised and written to /dev/null); `scope only` rows are `db.read()` / "
        "`db.connect()` alone. "
        "`plain SQLAlchemy` is the usual handler code without the layer (its reads send BEGIN and ROLLBACK "
        "around the SELECT). The read is the Core `select()` the items function sends. The floor's write is "
        "psycopg2's default, three round trips (BEGIN, INSERT, COMMIT); the layer sends the same statements in two "
        "(`BEGIN;INSERT`, then COMMIT), a round trip fewer than the floor; the `BEGIN sent with the INSERT` row "
        "is what psycopg2 by hand does that way. On Lambda a round trip crosses the VPC to RDS rather than "
        "loopback, so the round trip saved is worth more there and the same Python overhead makes smaller ratios: "
        "the network section below measures the same variants with dearer round trips. `query round trips` are "
        "the query messages the server logged per request; opening a connection (TCP, TLS, authentication) takes "
        "round trips of its own, which the `new connections / req.` column stands for.",
    ]
    return "\n".join(lines)


def _round_trips_row(kind: str, layer: float, floor: float) -> str:
    """The target row for round trips: none beyond the floor's."""
    extra = layer - floor
    shown = f"{extra:+g} ({layer:g} vs {floor:g})"
    return target_row(f"round trips per warm {kind}, over the floor's", extra, 0.0, shown)


def target_row(what: str, measured: float, limit: float, shown: str) -> str:
    return f"| {what} | {shown} | <= {limit:g} | {'met' if measured <= limit else 'MISSED'} |"


if __name__ == "__main__":  # pragma: no cover - `harness bench --only layer` is the way in
    print(run(quick="--quick" in sys.argv))

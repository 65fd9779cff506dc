"""``harness bench --only network``: the layer's per-request cost when each round trip crosses a network.

The layer section measures on loopback, where a round trip costs tens of microseconds and the client's Python
dominates every ratio. A Lambda function reaches its database across a VPC. This section runs the same work with
a delay relay (:mod:`harness.bench.relay`) between every client and the server, so each round trip costs a known,
measured amount more, and compares the same variants with the same floor (raw psycopg2, through the same relay),
in interleaved rounds. The round trip the relay adds is measured in the same run: the floor's read (one round trip)
through the relay minus the same read straight to the server. The loopback verdicts in the layer section stay the
ones the targets are judged by; this one shows what the same code costs once round trips are not nearly free.
"""

from __future__ import annotations

import os
import sys

from sqlalchemy.engine import make_url

from harness.bench import layer_work
from harness.bench.layer import (
    DEFER_OFF,
    FLOOR,
    HANDLER,
    HELD,
    PLAIN,
    reports_to_devnull,
)
from harness.bench.layer_work import Closer, Work
from harness.bench.relay import DelayRelay
from harness.bench.timing import Timings, run_rounds
from harness.postgres import EmbeddedPostgres
from lambda_db import Database, DatabaseConfig

TITLE = "Layer over a network round trip: the same work through a delay relay"

# Held each way by the relay. 0 still adds the relay's own forwarding (a few hundred µs here); sleeps overshoot,
# so what each setting adds to a round trip is measured, not assumed.
DELAYS_US = (0, 250)
RELAY_READ_TARGET, RELAY_WRITE_TARGET = 1.2, 0.8  # times the floor, judged at the relay's ~0.23 ms (0 µs held)
DIRECT = "psycopg2 straight to the server (no relay; to measure what the relay adds)"


def _variants(
    pg: EmbeddedPostgres, relay: DelayRelay, url: str, requests: int
) -> tuple[dict[str, tuple[Work, Work, int]], list[Closer]]:
    """The variants, warm, all through ``relay`` but :data:`DIRECT`; and what closes their connections."""
    relayed = make_url(url).set(host=relay.host, port=relay.port).render_as_string(hide_password=False)
    built: dict[str, tuple[Work, Work, Closer]] = {
        FLOOR: layer_work.raw_work(relay),
        DIRECT: layer_work.raw_work(pg),
        PLAIN: layer_work.plain_sqlalchemy_work(relayed),
        HELD: layer_work.held_connection_work(relayed),
    }
    for index, (name, defer_begin) in enumerate(((HANDLER, True), (DEFER_OFF, False))):
        config = DatabaseConfig(url=relayed, defer_begin=defer_begin, application_name=f"bench-net-{index}")
        db = Database(config)
        read, write = layer_work.layer_work(db, through_handler=True)
        built[name] = (read, write, db.dispose)
    for read, write, _ in built.values():
        read(0), write(0)  # warm: connected, dialect initialised
    variants = {name: (read, write, requests) for name, (read, write, _) in built.items()}
    return variants, [close for *_, close in built.values()]


def run(quick: bool) -> str:
    rounds, requests = (4, 10) if quick else (20, 30)
    load_before = os.getloadavg()[0]
    measured: dict[int, Timings] = {}
    with EmbeddedPostgres(max_connections=30, log_connections=False) as pg, reports_to_devnull():
        url = layer_work.prepare(pg)
        for delay_us in DELAYS_US:
            with DelayRelay(pg.host, pg.port, delay_us=delay_us) as relay:
                variants, closers = _variants(pg, relay, url, requests)
                try:
                    measured[delay_us] = run_rounds(variants, rounds=rounds, floor=FLOOR)
                finally:
                    for close in closers:
                        close()
    load = (load_before, os.getloadavg()[0])
    return _render(measured, rounds=rounds, requests=requests, load=load)


def _added_us(timings: Timings) -> float:
    """What the relay adds to a round trip: the floor's read (one round trip) through it minus straight."""
    return timings.get(FLOOR, "read").median_us - timings.get(DIRECT, "read").median_us


def _render(measured: dict[int, Timings], *, rounds: int, requests: int, load: tuple[float, float]) -> str:
    lines = [
        f"{rounds} interleaved rounds of {requests} requests per variant, for each relay setting. What the relay "
        "adds to a round trip is measured in the same rounds: the floor's read (one round trip) through the relay "
        "minus the same read straight to the server. Ratios are to the floor through the same relay, per round, "
        f"as in the layer section. 1-minute load average {load[0]:.1f} at the start, {load[1]:.1f} at the end.",
        "",
        f"Targets over these round trips (read <= {RELAY_READ_TARGET:g}x, write <= {RELAY_WRITE_TARGET:g}x the floor "
        f"through the same relay, judged at the relay's own ~0.23 ms, the 0 µs row), on the row `{HANDLER}`:",
        "",
        f"| relay holds each chunk | round trip added (measured) | warm read, x floor (limit {RELAY_READ_TARGET:g}) "
        f"| warm write, x floor (limit {RELAY_WRITE_TARGET:g}) |",
        "|---:|---:|---:|---:|",
    ]
    for delay_us, timings in measured.items():
        read, write = timings.ratio(HANDLER, "read"), timings.ratio(HANDLER, "write")
        lines.append(
            f"| {delay_us} µs each way | {_added_us(timings):.0f} µs | {timings.spread(HANDLER, 'read')} "
            f"{_verdict(read, RELAY_READ_TARGET)} | {timings.spread(HANDLER, 'write')} "
            f"{_verdict(write, RELAY_WRITE_TARGET)} |"
        )
    for delay_us, timings in measured.items():
        lines += [
            "",
            f"Relay holding each chunk {delay_us} µs each way (adds {_added_us(timings):.0f} µs per round trip):",
            "",
            "| variant (all through the relay) | warm read (µs) | x floor | warm write (µs) | x floor |",
            "|---|---:|---:|---:|---:|",
        ]
        for name in timings.names():
            if name == DIRECT:
                continue
            read_us, write_us = timings.get(name, "read").median_us, timings.get(name, "write").median_us
            shown = f"**{name}**" if name == HANDLER else name
            lines.append(
                f"| {shown} | {read_us:.0f} | {timings.spread(name, 'read')} | {write_us:.0f} | "
                f"{timings.spread(name, 'write')} |"
            )
    lines += [
        "",
        "The read is one round trip for the floor and for the layer, so the layer's Python is what separates "
        "them, and it weighs less the dearer the round trip. The write is three round trips for the floor and two "
        "for the layer (BEGIN goes with the INSERT), so the layer comes in under the floor once a round trip costs "
        "more than the layer's Python; with `DB_DEFER_BEGIN=false` it sends the floor's three.",
    ]
    return "\n".join(lines)


def _verdict(measured: float, limit: float) -> str:
    return "met" if measured <= limit else "MISSED"


if __name__ == "__main__":  # pragma: no cover - `harness bench --only network` is the way in
    print(run(quick="--quick" in sys.argv))

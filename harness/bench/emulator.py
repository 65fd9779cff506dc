"""``harness bench --only emulator``: what the local Lambda costs, so the lab's figures are about Postgres, not it.

Measures, on a trivial handler: the invocation overhead against calling the handler in-process (p50/p99), and
invocations/s with 1, 8 and 64 warm environments driven by as many client threads; cold and warm start times;
memory per environment (RSS and PSS, through psutil); and how many environments of a realistic function (SQLAlchemy,
psycopg2 and Powertools imported at init, an engine built) this machine holds at once. The functions are written
to a temp dir by this module, so the figures do not depend on the project's own handlers.
"""

from __future__ import annotations

import statistics
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.emulator import FunctionSpec, LocalLambda
from harness.kit.lambda_context import LambdaContext
from harness.kit.memory import available_mib, rss_pss_kib
from harness.kit.percentiles import percentile

__all__ = ["TITLE", "run"]

TITLE = "Local Lambda emulator"
PERCENTILES = (50, 99)
BURST_SLEEP_S = 1.0
CONTEXT = LambdaContext(function_name="Trivial", aws_request_id="in-process")

TRIVIAL = """
def handler(event, context):
    return {"ok": True}
"""
REALISTIC = """
import time

import psycopg2
import sqlalchemy
from aws_lambda_powertools import Logger, Metrics, Tracer
from sqlalchemy import create_engine

logger = Logger(service="bench")
metrics = Metrics(namespace="Bench", service="bench")
tracer = Tracer(service="bench", disabled=True)
ENGINE = create_engine("postgresql+psycopg2://app:secret@127.0.0.1:1/none", pool_size=1, max_overflow=0)


@logger.inject_lambda_context
def handler(event, context):
    time.sleep(event.get("sleep", 0))  # the burst holds every environment busy at once
    return {"ok": True, "sqlalchemy": sqlalchemy.__version__, "psycopg2": psycopg2.__version__.split()[0]}
"""


def _pct(values: list[float], pct: int) -> float:
    """The lab's nearest-rank percentile of samples that are never empty here."""
    value = percentile(values, pct)
    assert value is not None, "a bench section always has samples"
    return value


def _timed(fn: Callable[[], Any], count: int) -> list[float]:
    """Each call's wall time, in ms."""
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _throughput(lam: LocalLambda, function: str, environments: int, seconds: float) -> tuple[float, int]:
    """Invocations/s with ``environments`` warm environments and as many client threads; (rate, cold starts)."""
    lam.reclaim_idle(0)
    lam.prewarm(function, environments)
    counts = [0] * environments
    colds = [0] * environments
    barrier = threading.Barrier(environments + 1)
    stop = time.perf_counter() + seconds + 1e9  # set for real once everyone is ready

    def client(index: int) -> None:
        barrier.wait()
        while time.perf_counter() < stop:
            result = lam.invoke(function, {})
            counts[index] += 1
            colds[index] += result.cold_start

    threads = [threading.Thread(target=client, args=(i,)) for i in range(environments)]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    stop = start + seconds
    barrier.wait()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - start), sum(colds)


def _cold_starts(lam: LocalLambda, function: str, count: int) -> tuple[list[float], list[float]]:
    """(wall ms of a cold invocation, init ms reported) for ``count`` fresh environments."""
    walls, inits = [], []
    for _ in range(count):
        lam.reclaim_idle(0)
        for env in lam.environments(function):
            lam.wait_gone(env.id)
        start = time.perf_counter()
        result = lam.invoke(function, {})
        walls.append((time.perf_counter() - start) * 1000)
        inits.append(result.init_duration_ms or 0.0)
    return walls, inits


def _hold_many(lam: LocalLambda, function: str, count: int) -> dict[str, Any]:
    """Prewarm ``count`` realistic environments, then invoke them all at once; what it took and cost."""
    before = available_mib()
    start = time.perf_counter()
    lam.prewarm(function, count)
    prewarm_s = time.perf_counter() - start
    barrier = threading.Barrier(count)
    results: list[Any] = []
    lock = threading.Lock()

    def client() -> None:
        barrier.wait()
        result = lam.invoke(function, {"sleep": BURST_SLEEP_S})
        with lock:
            results.append(result)

    threads = [threading.Thread(target=client) for _ in range(count)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    burst_s = time.perf_counter() - start
    memory = [rss_pss_kib(env.pid) for env in lam.environments(function)]
    return {
        "count": count,
        "prewarm_s": prewarm_s,
        "burst_s": burst_s,
        "ok": sum(1 for r in results if r.function_error is None and not r.throttled),
        "cold": sum(1 for r in results if r.cold_start),
        "distinct": len({r.environment_id for r in results}),
        "live": len(lam.environments(function)),
        "errors": sorted({str((r.payload or {}).get("errorType", "throttled")) for r in results if r.function_error}),
        "rss_mib": sum(rss for rss, _ in memory) / 1024,
        "pss_mib": sum(pss for _, pss in memory) / 1024,
        "available_drop_mib": before - available_mib(),
    }


def run(quick: bool) -> str:
    calls = 300 if quick else 3000
    seconds = 1.0 if quick else 3.0
    many = 16 if quick else 200
    with tempfile.TemporaryDirectory(prefix="bench-emulator-") as tmp:
        root = Path(tmp)
        for name, code in (("trivial", TRIVIAL), ("realistic", REALISTIC)):
            (root / name).mkdir()
            (root / name / "app.py").write_text(textwrap.dedent(code))
        namespace: dict[str, Any] = {}
        exec(compile(TRIVIAL, "trivial", "exec"), namespace)  # noqa: S102 - our own constant, the in-process baseline
        in_process = _timed(lambda: namespace["handler"]({}, CONTEXT), calls)
        specs = [
            FunctionSpec("Trivial", root / "trivial", "app.handler"),
            FunctionSpec("Realistic", root / "realistic", "app.handler", timeout_s=30, memory_mb=512),
        ]
        with LocalLambda(specs, idle_ttl_s=None, max_environments=max(many, 64) + 8) as lam:
            lam.invoke("Trivial", {})
            emulated = _timed(lambda: lam.invoke("Trivial", {}), calls)
            rates = {n: _throughput(lam, "Trivial", n, seconds) for n in (1, 8, 64)}
            trivial_cold, trivial_init = _cold_starts(lam, "Trivial", 3 if quick else 10)
            lam.reclaim_idle(0)
            lam.prewarm("Trivial", 4)
            trivial_memory = [rss_pss_kib(env.pid) for env in lam.environments("Trivial")]
            lam.reclaim_idle(0)
            real_cold, real_init = _cold_starts(lam, "Realistic", 2 if quick else 5)
            real_warm = _timed(lambda: lam.invoke("Realistic", {}), calls // 3)
            real_memory = [rss_pss_kib(env.pid) for env in lam.environments("Realistic")]
            lam.reclaim_idle(0)
            held = _hold_many(lam, "Realistic", many)
    return _render(
        in_process,
        emulated,
        rates,
        trivial_cold,
        trivial_init,
        trivial_memory,
        real_cold,
        real_init,
        real_warm,
        real_memory,
        held,
        quick,
    )


def _render(
    in_process: list[float],
    emulated: list[float],
    rates: dict[int, tuple[float, int]],
    trivial_cold: list[float],
    trivial_init: list[float],
    trivial_memory: list[tuple[int, int]],
    real_cold: list[float],
    real_init: list[float],
    real_warm: list[float],
    real_memory: list[tuple[int, int]],
    held: dict[str, Any],
    quick: bool,
) -> str:
    p = {pct: (_pct(in_process, pct), _pct(emulated, pct)) for pct in PERCENTILES}
    held_all = held["count"] >= 200 and held["distinct"] == held["ok"] == held["count"]
    overhead_p50 = p[50][1] - p[50][0]
    lines = [
        "Command: `harness bench --only emulator" + (" --quick` (smoke sizes: not figures to quote)" if quick else "`"),
        "",
        "### Invocation overhead (trivial handler, one client thread, warm, frozen between calls)",
        "",
        "| | p50 ms | p99 ms |",
        "|---|---:|---:|",
        f"| handler called in-process | {p[50][0]:.4f} | {p[99][0]:.4f} |",
        f"| through the emulator (`LocalLambda.invoke`) | {p[50][1]:.3f} | {p[99][1]:.3f} |",
        f"| **overhead** | **{overhead_p50:.3f}** | {p[99][1] - p[99][0]:.3f} |",
        "",
        f"Target: overhead p50 at most 1 ms — {'met' if overhead_p50 <= 1.0 else 'MISSED'}. Each call includes "
        "SIGCONT, the Runtime API round trips (GET /next answered, POST /response) and SIGSTOP.",
        "",
        "### Throughput (trivial handler, N warm environments, N client threads)",
        "",
        "| environments | invocations/s | cold starts during the run |",
        "|---:|---:|---:|",
        *[f"| {n} | {rate:,.0f} | {cold} |" for n, (rate, cold) in rates.items()],
        "",
        "### Start times",
        "",
        "| function | cold invoke, median ms | init, median ms | warm invoke p50 ms |",
        "|---|---:|---:|---:|",
        f"| trivial | {statistics.median(trivial_cold):.0f} | {statistics.median(trivial_init):.0f} | {p[50][1]:.3f} |",
        f"| realistic (SQLAlchemy + psycopg2 + Powertools at init) | {statistics.median(real_cold):.0f} | "
        f"{statistics.median(real_init):.0f} | {_pct(real_warm, 50):.3f} |",
        "",
        "### Memory per environment (from /proc; PSS shares the interpreter's pages fairly between processes)",
        "",
        "| function | RSS MiB (median) | PSS MiB (median) |",
        "|---|---:|---:|",
        *[
            f"| {name} | {statistics.median(r for r, _ in mem) / 1024:.1f} | "
            f"{statistics.median(s for _, s in mem) / 1024:.1f} |"
            for name, mem in (("trivial", trivial_memory), ("realistic", real_memory))
            if mem
        ],
        "",
        f"### {held['count']} concurrent environments of the realistic function",
        "",
        f"- prewarmed (init done, frozen) in {held['prewarm_s']:.1f} s (4 inits at a time: more only queue for the "
        "same cores)",
        f"- then {held['count']} simultaneous invocations, each holding its environment {BURST_SLEEP_S:.0f} s: "
        f"{held['ok']} succeeded on {held['distinct']} distinct environments, {held['cold']} cold starts, all done in "
        f"{held['burst_s']:.2f} s; {held['live']} environments still live afterwards"
        + (f"; errors: {', '.join(held['errors'])}" if held["errors"] else ""),
        f"- memory held: {held['rss_mib']:,.0f} MiB RSS summed ({held['pss_mib']:,.0f} MiB PSS); MemAvailable fell "
        f"by {held['available_drop_mib']:,} MiB",
        "",
        "Target: at least 200 environments of a realistic function held — "
        + ("met." if held_all else "not shown by this run."),
    ]
    return "\n".join(lines)

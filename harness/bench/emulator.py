"""``harness bench --only emulator``: what the local Lambda costs, so the lab's figures are about Postgres, not it.

Measures, on a trivial handler: the invocation overhead against calling the handler in-process (p50/p99), and
invocations/s with 1, 8 and 64 warm environments driven by as many client threads; cold and warm start times and
memory per environment (RSS and PSS, through psutil) in both start modes (``fork``: forked from a pre-imported server;
``fresh``: a new interpreter each); and how many environments of a realistic function (SQLAlchemy, psycopg2 and
Powertools imported by its layer and at init, an engine built) this machine holds at once. The functions and the
layer are written to a temp dir by this module, so the figures do not depend on the project's own handlers.
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
from harness.kit.memory import available_mib, private_kib, rss_pss_kib
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
LAYER = """
# What the project's layer imports at module level: the fork server imports these (its default preload).
import psycopg2
import sqlalchemy
from aws_lambda_powertools import Logger, Metrics, Tracer
"""
REALISTIC = """
import time

import benchdb  # the layer
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


def _memory(pid: int) -> tuple[int, int, int]:
    """(RSS, PSS, USS) KiB of one process."""
    return (*rss_pss_kib(pid), private_kib(pid) or 0)


def _server_memory(lam: LocalLambda) -> list[tuple[int, int, int]]:
    return [_memory(server.pid) for server in lam.pool.starters.servers() if server.pid]


def _modes(root: Path, quick: bool) -> dict[str, dict[str, Any]]:
    """Cold starts, warm latency and memory of both functions, per start mode, each in its own LocalLambda."""
    figures: dict[str, dict[str, Any]] = {}
    for mode in ("fresh", "fork"):
        with LocalLambda(_specs(root), idle_ttl_s=None, start_mode=mode) as lam:
            lam.invoke("Trivial", {})
            lam.invoke("Realistic", {})  # the fork server is up, the files are in the page cache
            trivial_cold, trivial_init = _cold_starts(lam, "Trivial", 3 if quick else 10)
            lam.reclaim_idle(0)
            lam.prewarm("Trivial", 4)
            trivial_memory = [_memory(env.pid) for env in lam.environments("Trivial")]
            lam.reclaim_idle(0)
            real_cold, real_init = _cold_starts(lam, "Realistic", 3 if quick else 10)
            real_warm = _timed(lambda: lam.invoke("Realistic", {}), 100 if quick else 1000)
            lam.prewarm("Realistic", 4)
            real_memory = [_memory(env.pid) for env in lam.environments("Realistic")]
            figures[mode] = {
                "trivial_cold": trivial_cold,
                "trivial_init": trivial_init,
                "trivial_memory": trivial_memory,
                "real_cold": real_cold,
                "real_init": real_init,
                "real_warm": real_warm,
                "real_memory": real_memory,
                "server_memory": _server_memory(lam),
            }
    return figures


def _specs(root: Path) -> list[FunctionSpec]:
    return [
        FunctionSpec("Trivial", root / "trivial", "app.handler"),
        FunctionSpec(
            "Realistic", root / "realistic", "app.handler", timeout_s=30, memory_mb=512, layers=(root / "layer",)
        ),
    ]


def run(quick: bool) -> str:
    calls = 300 if quick else 3000
    seconds = 1.0 if quick else 3.0
    many = {"fork": 16 if quick else 1000, "fresh": 8 if quick else 200}
    with tempfile.TemporaryDirectory(prefix="bench-emulator-") as tmp:
        root = Path(tmp)
        for name, code in (("trivial", TRIVIAL), ("realistic", REALISTIC), ("layer/python", None)):
            (root / name).mkdir(parents=True)
            if code is not None:
                (root / name / "app.py").write_text(textwrap.dedent(code))
        (root / "layer" / "python" / "benchdb.py").write_text(textwrap.dedent(LAYER))
        namespace: dict[str, Any] = {}
        exec(compile(TRIVIAL, "trivial", "exec"), namespace)  # noqa: S102 - our own constant, the in-process baseline
        in_process = _timed(lambda: namespace["handler"]({}, CONTEXT), calls)
        with LocalLambda(_specs(root), idle_ttl_s=None, max_environments=72) as lam:
            lam.invoke("Trivial", {})
            emulated = _timed(lambda: lam.invoke("Trivial", {}), calls)
            rates = {n: _throughput(lam, "Trivial", n, seconds) for n in (1, 8, 64)}
        modes = _modes(root, quick)
        held = {}
        for mode in ("fresh", "fork"):
            with LocalLambda(_specs(root), idle_ttl_s=None, max_environments=many[mode] + 8, start_mode=mode) as lam:
                lam.invoke("Realistic", {})
                lam.reclaim_idle(0)
                held[mode] = _hold_many(lam, "Realistic", many[mode])
                held[mode]["server"] = _server_memory(lam)
    return "\n".join(_render(in_process, emulated, rates, modes, held, quick))


def _median_mib(memory: list[tuple[int, int, int]], which: int) -> str:
    return f"{statistics.median(m[which] for m in memory) / 1024:.1f}" if memory else "-"


def _render(
    in_process: list[float],
    emulated: list[float],
    rates: dict[int, tuple[float, int]],
    modes: dict[str, dict[str, Any]],
    held: dict[str, dict[str, Any]],
    quick: bool,
) -> list[str]:
    p = {pct: (_pct(in_process, pct), _pct(emulated, pct)) for pct in PERCENTILES}
    overhead_p50 = p[50][1] - p[50][0]
    fork, fresh, big = modes["fork"], modes["fresh"], held["fork"]
    cold = statistics.median(fork["real_cold"])
    held_pss = big["pss_mib"] / max(1, big["live"])
    held_ok = big["distinct"] == big["ok"] == big["count"] >= 1000
    small = held["fresh"]
    small_pss = small["pss_mib"] / max(1, small["live"])
    lines = [
        *(["Smoke sizes (`--quick`): not figures to quote.", ""] if quick else []),
        "### Targets (issue #19)",
        "",
        "| figure | fresh interpreter (this run) | fork server (this run) | target | |",
        "|---|---:|---:|---:|---|",
        f"| cold start of the realistic function, median | {statistics.median(fresh['real_cold']):.0f} ms | "
        f"{cold:.0f} ms | <= 40 ms | {'met' if cold <= 40 else 'MISSED'} |",
        f"| PSS per warm environment of the realistic function, many held | {small_pss:.1f} MiB "
        f"({small['count']} held) | {held_pss:.1f} MiB ({big['count']} held) | <= 12 MiB | "
        f"{'met' if held_pss <= 12 else 'MISSED'} |",
        f"| environments of the realistic function held | {small['ok']} in {small['prewarm_s']:.1f} s | "
        f"{big['ok']} in {big['prewarm_s']:.1f} s | >= 1,000 in <= 30 s | "
        f"{'met' if held_ok and big['prewarm_s'] <= 30 else 'MISSED'} |",
        "",
        "Start modes: `fork` (the default) forks each environment from one server per interpreter that has imported "
        "the runtime client, what the layers import at module level and what earlier inits imported (never the "
        "function's own code); the function's init (its module import, the engine built at module scope) still runs "
        "once in each environment, and `init` below is measured from the environment's creation to its first "
        "`GET /next`, as before. `fresh` (`--start-mode fresh`, `LOCAL_LAMBDA_START_MODE=fresh`) starts a new "
        "interpreter per environment, as Lambda's own cold start does. Forked environments share the server's "
        "`str` hash seed and address-space layout; PSS per environment is the held environments' PSS summed over "
        "their number (the server's own is listed apart).",
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
        "### Start times, per start mode (init is measured from the environment's creation to its first GET /next)",
        "",
        "| function | start mode | cold invoke, median ms | init, median ms | warm invoke p50 ms |",
        "|---|---|---:|---:|---:|",
    ]
    for name, key in (("trivial", "trivial"), ("realistic (layer: SQLAlchemy + psycopg2 + Powertools)", "real")):
        for mode in ("fresh", "fork"):
            m = modes[mode]
            warm = f"{_pct(m['real_warm'], 50):.3f}" if key == "real" else f"{p[50][1]:.3f}"
            lines.append(
                f"| {name} | {mode} | {statistics.median(m[key + '_cold']):.0f} | "
                f"{statistics.median(m[key + '_init']):.0f} | {warm} |"
            )
    lines += [
        "",
        "### Memory per environment (from /proc; PSS shares pages fairly between the processes that map them)",
        "",
        "| function | start mode | RSS MiB (median) | PSS MiB (median) | private (USS) MiB (median) |",
        "|---|---|---:|---:|---:|",
    ]
    for name, key in (("trivial", "trivial_memory"), ("realistic", "real_memory")):
        for mode in ("fresh", "fork"):
            mem = modes[mode][key]
            lines.append(f"| {name} | {mode} | {_median_mib(mem, 0)} | {_median_mib(mem, 1)} | {_median_mib(mem, 2)} |")
    server = fork["server_memory"]
    lines += [
        f"| the fork server itself (one per interpreter) | fork | {_median_mib(server, 0)} | "
        f"{_median_mib(server, 1)} | {_median_mib(server, 2)} |",
        "",
        "Four environments of each function measured: PSS still splits the fork server's pages between five "
        "processes, so a forked environment's PSS falls toward its private memory as more are held (below).",
    ]
    for mode in ("fresh", "fork"):
        h = held[mode]
        server_pss = sum(pss for _, pss, _ in h["server"]) / 1024
        lines += [
            "",
            f"### {h['count']} concurrent environments of the realistic function, start mode {mode}",
            "",
            f"- prewarmed (init done, frozen) in {h['prewarm_s']:.1f} s (a few inits at a time: more only queue for "
            "the same cores)",
            f"- then {h['count']} simultaneous invocations, each holding its environment {BURST_SLEEP_S:.0f} s: "
            f"{h['ok']} succeeded on {h['distinct']} distinct environments, {h['cold']} cold starts, all done in "
            f"{h['burst_s']:.2f} s; {h['live']} environments still live afterwards"
            + (f"; errors: {', '.join(h['errors'])}" if h["errors"] else ""),
            f"- memory held: {h['rss_mib']:,.0f} MiB RSS summed ({h['pss_mib']:,.0f} MiB PSS, "
            f"{h['pss_mib'] / max(1, h['live']):.1f} MiB per environment"
            + (f", plus {server_pss:.0f} MiB PSS for the fork server" if h["server"] else "")
            + f"); MemAvailable fell by {h['available_drop_mib']:,} MiB",
        ]
    return lines

"""``harness bench --only emulator``: what the local Lambda costs, so the lab's figures are about Postgres, not it.

Measures, on a trivial handler: the invocation overhead against calling the handler in-process (p50/p99), and
invocations/s with 1, 8 and 64 warm environments driven by as many client threads; cold and warm start times and
memory per environment (RSS and PSS, through psutil) in both start modes (``fork``: forked from a pre-imported server;
``fresh``: a new interpreter each); and how many environments of a realistic function (SQLAlchemy, psycopg2 and
Powertools imported by its layer and at init, an engine built) this machine holds at once. The functions and the
layer are written to a temp dir by this module, so the figures do not depend on the project's own handlers. The
page is rendered from the figures by :mod:`harness.bench.emulator_report`.
"""

from __future__ import annotations

import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.bench.emulator_report import render
from harness.emulator import FunctionSpec, LocalLambda
from harness.kit.lambda_context import LambdaContext
from harness.kit.memory import available_mib, private_kib, rss_pss_kib

__all__ = ["TITLE", "run"]

TITLE = "Local Lambda emulator"
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
        "sleep_s": BURST_SLEEP_S,
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
    return "\n".join(render(in_process, emulated, rates, modes, held, quick))

"""``harness bench --only sam_local``: ``sam local start-lambda`` (Docker) next to ``harness emulate``, one run.

Both serve the same template (one Python 3.13 function that sleeps for ``event["sleep"]`` seconds, built for the
host's architecture) and are driven the same way, through boto3's ``invoke``: the first call after start (cold),
sequential warm calls (p50/p99), then rounds of concurrent one-second calls (wall time of the round; each level runs
once to warm up and once measured), and the memory each environment holds (SAM: the container's memory cgroup,
``docker stats``; the emulator: the runtime process's RSS and PSS). ``sam local invoke`` is timed beside
``harness invoke``. SAM runs with warm containers (``LAZY``, as ``samconfig.toml`` sets it), one per function.

Where no Docker engine can run, the section says it was skipped and why.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.bench.lambda_client import lambda_client
from harness.bench.sam_local_servers import (
    FUNCTION,
    HARNESS,
    SAM,
    Docker,
    Server,
    UnavailableError,
    one_shot_ms,
    write_function,
)
from harness.kit.memory import rss_pss_kib
from harness.kit.percentiles import percentile

__all__ = ["TITLE", "run"]

TITLE = "sam local start-lambda (Docker) vs harness emulate"
SAM_LEVELS = (8, 32)
EMULATOR_LEVELS = (8, 32, 64)
SLEEP_S = 1.0


def _invoke_ms(client: Any, event: dict[str, Any]) -> float:
    start = time.perf_counter()
    response = client.invoke(FunctionName=FUNCTION, Payload=json.dumps(event).encode())
    answer = json.loads(response["Payload"].read())
    elapsed = (time.perf_counter() - start) * 1000
    if response.get("FunctionError") or answer != {"ok": True}:
        raise UnavailableError(f"{FUNCTION} did not answer ok: {answer}")
    return elapsed


def _round_s(client: Any, calls: int) -> float:
    """Wall time of ``calls`` one-second invocations sent at once, s."""
    barrier = threading.Barrier(calls + 1)
    failures: list[BaseException] = []

    def call() -> None:
        barrier.wait()
        try:
            _invoke_ms(client, {"sleep": SLEEP_S})
        except Exception as exc:  # noqa: BLE001 - counted and reported, the round goes on
            failures.append(exc)

    threads = [threading.Thread(target=call) for _ in range(calls)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    if failures:
        raise UnavailableError(f"{len(failures)} of {calls} concurrent calls failed: {failures[0]}")
    return time.perf_counter() - start


def _measure(server: Server, *, calls: int, levels: tuple[int, ...]) -> dict[str, Any]:
    client = lambda_client(server.url, server.env, read_timeout_s=300, max_pool_connections=128)
    cold = _invoke_ms(client, {})
    warm = [_invoke_ms(client, {}) for _ in range(calls)]
    rounds = {}
    for level in levels:
        _round_s(client, level)  # the environments this level needs exist afterwards
        rounds[level] = _round_s(client, level)
    return {"cold_ms": cold, "warm": warm, "rounds": rounds}


def _emulator_memory(server: Server) -> list[tuple[int, int]]:
    url = f"{server.url}/_emulator/environments"  # our own loopback http:// URL
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        environments = json.loads(response.read())["environments"]
    return [rss_pss_kib(int(env["pid"])) for env in environments]


def _measure_all(root: Path, quick: bool) -> dict[str, Any]:
    template = write_function(root)
    calls = 30 if quick else 300
    shots = 1 if quick else 3
    with Docker() as docker:
        with Server.sam(template, docker) as sam:
            sam_figures = _measure(sam, calls=calls, levels=SAM_LEVELS)
            sam_memory = docker.container_memory_mib()
        with Server.emulator(template, docker.env) as emulator:
            emu_figures = _measure(emulator, calls=calls, levels=EMULATOR_LEVELS)
            emu_memory = _emulator_memory(emulator)
        event = str(root / "event.json")
        sam_invoke = [
            one_shot_ms(
                [str(SAM), "local", "invoke", FUNCTION, "-t", str(template), "-e", event, "--skip-pull-image"],
                cwd=root,
                env=docker.env,
            )
            for _ in range(shots)
        ]
        harness_invoke = [
            one_shot_ms([str(HARNESS), "invoke", FUNCTION, "-t", str(template), "-e", event], cwd=root, env=docker.env)
            for _ in range(shots)
        ]
    return {
        "sam": sam_figures,
        "emulator": emu_figures,
        "sam_memory_mib": sam_memory,
        "emulator_memory_kib": emu_memory,
        "sam_invoke_ms": sam_invoke,
        "harness_invoke_ms": harness_invoke,
        "calls": calls,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ"),
    }


def run(quick: bool) -> str:
    with tempfile.TemporaryDirectory(prefix="bench-sam-local-") as tmp:
        try:
            figures = _measure_all(Path(tmp), quick)
        except UnavailableError as exc:
            return f"Skipped: {exc}."
    return _render(figures, quick)


def _pct(values: list[float], pct: int) -> float:
    value = percentile(values, pct)
    assert value is not None, "a bench section always has samples"
    return value


def _ratio(sam: float, emulator: float) -> str:
    return f"{sam / emulator:,.1f}x" if emulator > 0 else "-"


def _render(f: dict[str, Any], quick: bool) -> str:
    sam, emu = f["sam"], f["emulator"]
    rows = [
        ("warm invoke p50, ms", _pct(sam["warm"], 50), _pct(emu["warm"], 50), ".2f"),
        ("warm invoke p99, ms", _pct(sam["warm"], 99), _pct(emu["warm"], 99), ".2f"),
        ("cold start (first invoke after start), ms", sam["cold_ms"], emu["cold_ms"], ",.0f"),
        *[
            (f"{n} concurrent one-second invocations, wall s", sam["rounds"][n], emu["rounds"][n], ".2f")
            for n in SAM_LEVELS
        ],
    ]
    emu_rss = statistics.median(rss for rss, _ in f["emulator_memory_kib"]) / 1024 if f["emulator_memory_kib"] else 0
    emu_pss = statistics.median(pss for _, pss in f["emulator_memory_kib"]) / 1024 if f["emulator_memory_kib"] else 0
    sam_mem = statistics.median(f["sam_memory_mib"]) if f["sam_memory_mib"] else 0.0
    sam_invoke, harness_invoke = statistics.median(f["sam_invoke_ms"]), statistics.median(f["harness_invoke_ms"])
    lines = [
        *(["Smoke sizes (`--quick`): not figures to quote.", ""] if quick else []),
        "One function (Python 3.13, sleeps `event.sleep` seconds, the host's architecture) in one template, served "
        "by both and driven through boto3 `invoke`, one after the other in this run. SAM CLI runs with warm "
        "containers (`LAZY`, as samconfig.toml sets it). Warm: "
        f"{f['calls']} sequential calls. Concurrent rounds: each level once to warm up, then once measured.",
        "",
        "| | sam local start-lambda | harness emulate | SAM / emulator |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {s:{fmt}} | {e:{fmt}} | {_ratio(s, e)} |" for name, s, e, fmt in rows],
        f"| 64 concurrent one-second invocations, wall s | - | {emu['rounds'][64]:.2f} | - |",
        f"| memory per environment, MiB | {sam_mem:.1f} (container cgroup, {len(f['sam_memory_mib'])} containers) "
        f"| {emu_rss:.1f} RSS / {emu_pss:.1f} PSS ({len(f['emulator_memory_kib'])} environments) "
        f"| {_ratio(sam_mem, emu_rss)} (vs RSS) |",
        f"| one-shot `sam local invoke` vs `harness invoke`, ms (median of {len(f['sam_invoke_ms'])}) "
        f"| {sam_invoke:,.0f} | {harness_invoke:,.0f} | {_ratio(sam_invoke, harness_invoke)} |",
        "",
        f"Targets (emulator): warm p50 through boto3 at most 1.0 ms — "
        f"{'met' if _pct(emu['warm'], 50) <= 1.0 else 'missed'}; 64 concurrent one-second calls in at most 1.2 s — "
        f"{'met' if emu['rounds'][64] <= 1.2 else 'missed'}. What the client and the runtime client cost beneath the "
        "emulator's warm p50 is measured in the warm_path section.",
    ]
    return "\n".join(lines)

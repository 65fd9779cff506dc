"""``harness bench --only warm_path``: a warm invoke through boto3 against ``harness emulate``, beside its floors.

A warm call's time is the client's (boto3 builds, signs and parses the request), the runtime client's (awslambdaric
reads the event, calls the handler, posts the answer) and the emulator's own (the Invoke API, the pool, the Runtime
API, the freeze and thaw). The first two are measured without the emulator, in the same interleaved rounds
(:mod:`harness.bench.bare_servers`): boto3 against an endpoint that answers at once, and awslambdaric, on the
function's interpreter and ``AWS_EXECUTION_ENV``, against a Runtime API that hands out events as fast as it is asked.
What the emulator adds is the rest. The function is the ``sam_local`` section's (Python 3.13, returns at once for an
empty event); no Docker is needed.

Calls in a loop are the best case. A user's calls come with time between them, and on an idle machine every process
on the path has gone to sleep by then, so two rows are measured again with a pause before each call: what that pause
costs the bare client is the machine's, and the emulator's path has more processes on it that sleep between calls.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.bench.bare_servers import runtime_floor_us
from harness.bench.lambda_client import lambda_client
from harness.bench.sam_local_servers import FUNCTION, HARNESS, Server, UnavailableError, write_function
from harness.emulator import RuntimeInterpreters, load_template
from harness.kit.percentiles import percentile

__all__ = ["TARGET_P50_MS", "TITLE", "render", "run"]

TITLE = "Warm invoke through boto3: harness emulate beside its floors"
TARGET_P50_MS = 1.0  # issue #16: warm p50 through boto3
WARM_UP_CALLS = 100
GAP_S = 0.02  # the pause before each call of the paced rows: longer than the emulator takes to freeze an environment
PORT_WAIT_S = 30.0
_CREDENTIALS = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}


def _calls_us(client: Any, calls: int, gap_s: float = 0.0) -> list[float]:
    """Microseconds per boto3 ``invoke`` (its answer read), ``calls`` times in a row, ``gap_s`` idle before each."""
    times = []
    for _ in range(calls):
        if gap_s:
            time.sleep(gap_s)
        start = time.perf_counter()
        response = client.invoke(FunctionName=FUNCTION, Payload=b"{}")
        answer = response["Payload"].read()
        times.append((time.perf_counter() - start) * 1e6)
        if response.get("FunctionError"):
            raise UnavailableError(f"{FUNCTION} failed: {answer.decode(errors='replace')}")
    return times


@contextmanager
def _bare_endpoint(root: Path) -> Iterator[str]:
    """The bare Invoke endpoint in a process of its own; yields its URL."""
    port_file = root / "bare.port"
    process = subprocess.Popen([sys.executable, "-m", "harness.bench.bare_servers", str(port_file)])
    try:
        deadline = time.monotonic() + PORT_WAIT_S
        while not port_file.is_file() or not port_file.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise UnavailableError("the bare HTTP endpoint did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text()}"
    finally:
        process.kill()
        process.wait()


def _emulator(template: Path, *flags: str) -> Server:
    command = [str(HARNESS), "emulate", "-t", str(template), "--no-view", *flags]
    name = "emulate" + "".join(flags).replace("-", "_")
    return Server(command, cwd=template.parent, env={**os.environ, **_CREDENTIALS}, log=template.parent / f"{name}.log")


def _p(values: list[float], pct: int) -> float:
    value = percentile(values, pct)
    assert value is not None, "every row has samples"
    return value


def _measure(root: Path, rounds: int, calls: int, paced_calls: int) -> dict[str, Any]:
    template = write_function(root)
    (spec,) = load_template(template).functions
    interpreter = RuntimeInterpreters().for_function(spec)
    rows: dict[str, list[list[float]]] = {
        name: [] for name in ("client", "runtime", "emulator", "no_freeze", "client_paced", "emulator_paced")
    }
    with _bare_endpoint(root) as bare_url, _emulator(template) as frozen, _emulator(template, "--no-freeze") as live:
        clients = {
            name: lambda_client(url, _CREDENTIALS)
            for name, url in (("client", bare_url), ("emulator", frozen.url), ("no_freeze", live.url))
        }
        for client in clients.values():
            _calls_us(client, WARM_UP_CALLS)
        for index in range(rounds):
            steps: list[tuple[str, Callable[[], list[float]]]] = [
                *((name, lambda c=client: _calls_us(c, calls)) for name, client in clients.items()),
                *(
                    (f"{name}_paced", lambda c=clients[name]: _calls_us(c, paced_calls, GAP_S))
                    for name in ("client", "emulator")
                ),
                (
                    "runtime",
                    lambda: runtime_floor_us(
                        interpreter.python,
                        interpreter.execution_env,
                        spec.code_uri,
                        spec.handler,
                        WARM_UP_CALLS + calls,
                    )[WARM_UP_CALLS:],
                ),
            ]
            for name, step in steps if index % 2 == 0 else reversed(steps):
                rows[name].append(step())
        thaws, invocations = _thaws(frozen)
    return {
        "rows": rows,
        "python": interpreter.version,
        "execution_env": interpreter.execution_env,
        "calls": calls,
        "paced_calls": paced_calls,
        "thawed_share": thaws / invocations if invocations else 0.0,
    }


def _thaws(server: Server) -> tuple[int, int]:
    """(invocations that found their environment frozen, invocations), summed over the emulator's environments."""
    url = f"{server.url}/_emulator/environments"  # our own loopback http:// URL
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        environments = json.loads(response.read())["environments"]
    return sum(env["thaws"] for env in environments), sum(env["invocations"] for env in environments)


def run(quick: bool) -> str:
    with tempfile.TemporaryDirectory(prefix="bench-warm-path-") as tmp:
        try:
            figures = _measure(
                Path(tmp), rounds=2 if quick else 7, calls=50 if quick else 300, paced_calls=10 if quick else 100
            )
        except UnavailableError as exc:
            return f"Skipped: {exc}."
    return render(figures, quick)


def render(figures: dict[str, Any], quick: bool) -> str:
    """The section's Markdown: per row the median over rounds of each round's p50, and the p99 of all calls."""
    rows = figures["rows"]

    def p50_ms(name: str) -> float:
        return statistics.median(_p(per_round, 50) for per_round in rows[name]) / 1000

    def p99_ms(name: str) -> float:
        return _p([t for per_round in rows[name] for t in per_round], 99) / 1000

    floors = p50_ms("client") + p50_ms("runtime")
    emulator = p50_ms("emulator")
    major, minor = (int(part) for part in figures["python"].split("."))
    threads = "a new thread per event" if (major, minor) >= (3, 12) else "the main thread"
    labels = {
        "client": "boto3 `invoke` against a bare HTTP endpoint that answers at once (the client's floor)",
        "runtime": f"awslambdaric on a bare Runtime API, event written to answer read (Python {figures['python']}, "
        f"`AWS_EXECUTION_ENV={figures['execution_env']}`: it polls from {threads}, as on Lambda)",
        "emulator": "**boto3 `invoke` against `harness emulate`, frozen between calls (the default)**: "
        f"{figures['thawed_share']:.1%} of its calls found the environment frozen (any others reached it before it "
        "asked for its next event, which Lambda hands over without a freeze too)",
        "no_freeze": "boto3 `invoke` against `harness emulate --no-freeze`",
    }
    table = [f"| {labels[name]} | {p50_ms(name):.3f} | {p99_ms(name):.3f} |" for name in labels]
    verdict = "met" if emulator <= TARGET_P50_MS else "missed"
    client_paced, emulator_paced = p50_ms("client_paced"), p50_ms("emulator_paced")
    pause = f"{GAP_S * 1000:.0f} ms"
    return "\n".join(
        [
            *(["Smoke sizes (`--quick`): not figures to quote.", ""] if quick else []),
            f"{len(rows['client'])} interleaved rounds of {figures['calls']} warm calls per row, one client thread; "
            "p50 is the median over rounds of each round's p50, p99 is over every call. The function is the "
            "`sam_local` section's, returning at once.",
            "",
            "| path | p50 ms | p99 ms |",
            "|---|---:|---:|",
            table[0],
            table[1],
            f"| the two floors together (no emulator at all) | {floors:.3f} | |",
            table[2],
            table[3],
            f"| what the emulator adds to a frozen call (its row less the two floors) | {emulator - floors:.3f} | |",
            "",
            f"Target (issue #16): warm p50 through boto3 at most {TARGET_P50_MS} ms — {verdict} ({emulator:.3f} ms). "
            f"The client and the runtime client alone take {floors:.3f} ms here, so an emulator that cost nothing "
            f"would {'meet' if floors <= TARGET_P50_MS else 'still miss'} it on this machine.",
            "",
            f"The same client with {pause} idle before each call ({len(rows['client_paced'])} rounds of "
            f"{figures['paced_calls']} calls per row, in the same interleaving), as a user's calls come:",
            "",
            "| path | p50 ms | p99 ms | x its back-to-back p50 |",
            "|---|---:|---:|---:|",
            f"| boto3 `invoke` against the bare endpoint | {client_paced:.3f} | {p99_ms('client_paced'):.3f} | "
            f"{client_paced / p50_ms('client'):.1f}x |",
            f"| boto3 `invoke` against `harness emulate`, frozen between calls | {emulator_paced:.3f} | "
            f"{p99_ms('emulator_paced'):.3f} | {emulator_paced / emulator:.1f}x |",
            f"| what the emulator adds to a paced call (its row less the bare client's) | "
            f"{emulator_paced - client_paced:.3f} | | |",
            "",
            f"A pause before the call costs the bare client {client_paced - p50_ms('client'):.3f} ms here, with no "
            "emulator on its path, so that much is the machine's (most likely waking sleeping processes again). "
            "The emulator's path has more that sleep between calls (the emulator, which waits for the request and "
            "again for the answer, the function's runtime process, and on Python 3.12 and later its polling thread "
            f"as well as its main one); it adds {emulator_paced - client_paced:.3f} ms to a paced call against "
            f"{emulator - floors:.3f} ms back to back.",
        ]
    )

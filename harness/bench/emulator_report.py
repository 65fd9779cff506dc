"""The emulator section's page: its figures in, Markdown lines out, nothing measured here.

Kept apart from :mod:`harness.bench.emulator`, which starts the emulators and takes the figures, so the tables and
the targets' verdicts can be read, changed and tested on fixed figures without starting a process. The figures are
the plain lists and dicts that module builds: samples in ms, memory as (RSS, PSS, USS) KiB per process, and per
start mode the held environments' counts, times and sums.
"""

from __future__ import annotations

import statistics
from typing import Any

from harness.kit.percentiles import percentile

__all__ = ["render"]

PERCENTILES = (50, 99)


def _pct(values: list[float], pct: int) -> float:
    """The lab's nearest-rank percentile of samples that are never empty here."""
    value = percentile(values, pct)
    assert value is not None, "a bench section always has samples"
    return value


def _median_mib(memory: list[tuple[int, int, int]], which: int) -> str:
    return f"{statistics.median(m[which] for m in memory) / 1024:.1f}" if memory else "-"


def render(
    in_process: list[float],
    emulated: list[float],
    rates: dict[int, tuple[float, int]],
    modes: dict[str, dict[str, Any]],
    held: dict[str, dict[str, Any]],
    quick: bool,
) -> list[str]:
    """The section's lines: the targets, then overhead, throughput, start times, memory and the held environments.

    ``in_process`` and ``emulated`` are per-call ms of the trivial handler; ``rates`` maps a number of environments to
    (invocations/s, cold starts); ``modes`` and ``held`` map ``fresh`` and ``fork`` to what the bench measured.
    """
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
            f"- then {h['count']} simultaneous invocations, each holding its environment {h['sleep_s']:.0f} s: "
            f"{h['ok']} succeeded on {h['distinct']} distinct environments, {h['cold']} cold starts, all done in "
            f"{h['burst_s']:.2f} s; {h['live']} environments still live afterwards"
            + (f"; errors: {', '.join(h['errors'])}" if h["errors"] else ""),
            f"- memory held: {h['rss_mib']:,.0f} MiB RSS summed ({h['pss_mib']:,.0f} MiB PSS, "
            f"{h['pss_mib'] / max(1, h['live']):.1f} MiB per environment"
            + (f", plus {server_pss:.0f} MiB PSS for the fork server" if h["server"] else "")
            + f"); MemAvailable fell by {h['available_drop_mib']:,} MiB",
        ]
    return lines

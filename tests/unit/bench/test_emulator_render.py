"""The emulator section's page: the targets judged on the fork server's figures, the tables filled from the samples."""

from __future__ import annotations

from typing import Any

from harness.bench.emulator_report import render

MIB = 1024  # KiB


def _mode(real_cold: list[float], server: list[tuple[int, int, int]]) -> dict[str, Any]:
    return {
        "trivial_cold": [10.0, 12.0, 14.0],
        "trivial_init": [5.0, 6.0, 7.0],
        "trivial_memory": [(10 * MIB, 5 * MIB, 2 * MIB)] * 4,
        "real_cold": real_cold,
        "real_init": [20.0, 25.0, 30.0],
        "real_warm": [0.7] * 10,
        "real_memory": [(60 * MIB, 12 * MIB, 8 * MIB)] * 4,
        "server_memory": server,
    }


def _held(count: int, ok: int, pss_mib: float, prewarm_s: float, errors: list[str]) -> dict[str, Any]:
    return {
        "count": count,
        "sleep_s": 1.0,
        "prewarm_s": prewarm_s,
        "burst_s": 1.25,
        "ok": ok,
        "cold": 0,
        "distinct": ok,
        "live": count,
        "errors": errors,
        "rss_mib": count * 60.0,
        "pss_mib": pss_mib,
        "available_drop_mib": 9000,
        "server": [(100 * MIB, 50 * MIB, 40 * MIB)],
    }


def _text(fork_cold: list[float], fork_held: dict[str, Any], quick: bool) -> str:
    in_process = [0.002] * 10
    emulated = [0.5] * 9 + [2.0]
    rates = {1: (1500.0, 0), 8: (4200.5, 0), 64: (12345.0, 3)}
    modes = {
        "fresh": _mode([300.0, 320.0, 340.0], []),
        "fork": _mode(fork_cold, [(100 * MIB, 50 * MIB, 40 * MIB)]),
    }
    held = {"fresh": _held(8, 8, 400.0, 4.0, []), "fork": fork_held}
    return "\n".join(render(in_process, emulated, rates, modes, held, quick))


def test_a_fork_server_within_every_target_is_judged_met_and_the_tables_carry_the_samples() -> None:
    text = _text([30.0, 35.0, 50.0], _held(1000, 1000, 11000.0, 25.0, []), quick=False)

    assert "| cold start of the realistic function, median | 320 ms | 35 ms | <= 40 ms | met |" in text
    assert (
        "| PSS per warm environment of the realistic function, many held | 50.0 MiB (8 held) | "
        "11.0 MiB (1000 held) | <= 12 MiB | met |"
    ) in text
    assert (
        "| environments of the realistic function held | 8 in 4.0 s | 1000 in 25.0 s | >= 1,000 in <= 30 s | met |"
        in (text)
    )
    assert "| **overhead** | **0.498** | 1.998 |" in text
    assert "Target: overhead p50 at most 1 ms — met." in text
    assert "| 64 | 12,345 | 3 |" in text
    assert "| realistic (layer: SQLAlchemy + psycopg2 + Powertools) | fork | 35 | 25 | 0.700 |" in text
    assert "| trivial | fresh | 12 | 6 | 0.500 |" in text
    assert "| realistic | fork | 60.0 | 12.0 | 8.0 |" in text
    assert "| the fork server itself (one per interpreter) | fork | 100.0 | 50.0 | 40.0 |" in text
    assert "### 1000 concurrent environments of the realistic function, start mode fork" in text
    assert "each holding its environment 1 s: 1000 succeeded on 1000 distinct environments" in text
    assert "11.0 MiB per environment, plus 50 MiB PSS for the fork server); MemAvailable fell by 9,000 MiB" in text
    assert "MISSED" not in text
    assert "errors:" not in text
    assert text.startswith("### Targets (issue #19)")


def test_a_slow_small_run_misses_its_targets_and_names_its_errors() -> None:
    text = _text([45.0, 50.0, 55.0], _held(16, 15, 320.0, 2.0, ["Runtime.ExitError"]), quick=True)

    assert text.startswith("Smoke sizes (`--quick`): not figures to quote.")
    assert "| cold start of the realistic function, median | 320 ms | 50 ms | <= 40 ms | MISSED |" in text
    assert "| 20.0 MiB (16 held) | <= 12 MiB | MISSED |" in text
    assert "| 15 in 2.0 s | >= 1,000 in <= 30 s | MISSED |" in text
    assert "15 succeeded on 15 distinct environments" in text
    assert "; errors: Runtime.ExitError" in text

"""The warm-path section's verdict: judged on the emulator's own row, and honest about the floors beneath it."""

from __future__ import annotations

from harness.bench.warm_path import render


def _figures(client_us: float, runtime_us: float, emulator_us: float) -> dict:
    rounds = 3
    rows = {
        "client": [[client_us] * 10] * rounds,
        "runtime": [[runtime_us] * 10] * rounds,
        "emulator": [[emulator_us] * 10] * rounds,
        "no_freeze": [[emulator_us] * 10] * rounds,
        "client_paced": [[client_us * 2] * 10] * rounds,
        "emulator_paced": [[emulator_us * 2] * 10] * rounds,
    }
    return {
        "rows": rows,
        "python": "3.13",
        "execution_env": "AWS_Lambda_python3.13",
        "calls": 10,
        "paced_calls": 10,
        "thawed_share": 0.5,
    }


def test_the_floors_are_summed_and_the_emulators_share_is_what_is_left() -> None:
    text = render(_figures(800, 300, 1500), quick=False)

    assert "| the two floors together (no emulator at all) | 1.100 | |" in text
    assert "| what the emulator adds to a frozen call (its row less the two floors) | 0.400 | |" in text
    assert "— missed (1.500 ms)" in text
    assert "would still miss it on this machine" in text
    assert "a new thread per event" in text
    assert "50.0% of its calls found the environment frozen" in text


def test_a_fast_enough_emulator_meets_the_target_and_low_floors_say_so() -> None:
    figures = _figures(500, 200, 900)
    figures["python"], figures["execution_env"] = "3.11", "AWS_Lambda_python3.11"

    text = render(figures, quick=True)

    assert "— met (0.900 ms)" in text
    assert "would meet it on this machine" in text
    assert "the main thread" in text
    assert text.startswith("Smoke sizes")


def test_paced_calls_are_set_beside_their_back_to_back_rows_and_the_bare_clients_own_rise() -> None:
    text = render(_figures(800, 300, 1500), quick=False)

    assert "| boto3 `invoke` against the bare endpoint | 1.600 | 1.600 | 2.0x |" in text
    assert "| boto3 `invoke` against `harness emulate`, frozen between calls | 3.000 | 3.000 | 2.0x |" in text
    assert "| what the emulator adds to a paced call (its row less the bare client's) | 1.400 | | |" in text
    assert "costs the bare client 0.800 ms here" in text
    assert "it adds 1.400 ms to a paced call against 0.400 ms back to back" in text

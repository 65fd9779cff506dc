"""``harness bench --quick`` for the two layer sections: it runs end to end and writes the tables it promises."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main


def test_quick_layer_and_network_sections_write_their_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "benchmarks.md"
    assert main(["bench", "--quick", "--only", "layer", "--only", "network", "--output", str(output)]) == 0
    written = output.read_text()
    assert "## Layer: per-request cost of each pool mode" in written
    assert "## Layer over a network round trip" in written
    # counted, not timed: exact whatever the machine's noise
    floor_row = next(line for line in written.splitlines() if line.startswith("| psycopg2 (floor) | "))
    assert floor_row.endswith("| 1 / 3 |  |  |")
    assert "| round trips per warm read, over the floor's | +0 (1 vs 1) | <= 0 | met |" in written
    assert "| round trips per warm write, over the floor's | -1 (2 vs 3) | <= 0 | met |" in written
    assert written.count("| warm read, x floor |") == 1  # the loopback verdict; the network one is its own table
    assert "| 250 µs each way |" in written
    assert f"wrote {output}" in capsys.readouterr().out


def test_only_one_section_keeps_the_others_as_they_were(tmp_path: Path) -> None:
    output = tmp_path / "benchmarks.md"
    output.write_text(
        "# Benchmarks\n\nold header\n\n## Local Lambda emulator\n\nMeasured long ago.\n\n### Start times\n\n| a | b |\n"
        "\n## Layer: per-request cost of each pool mode vs a raw psycopg2 connection\n\nold layer figures\n"
    )
    assert main(["bench", "--quick", "--only", "layer", "--output", str(output)]) == 0
    written = output.read_text()
    assert "old header" not in written
    assert "old layer figures" not in written
    assert "## Local Lambda emulator\n\nMeasured long ago.\n\n### Start times\n\n| a | b |\n" in written
    layer = written.index("## Layer: per-request cost")
    assert layer < written.index("## Local Lambda emulator")  # the sections' own order, whatever the file had
    measured = written[layer:].split("\n")[2]
    assert measured.startswith("Measured ")
    assert " with `" in measured

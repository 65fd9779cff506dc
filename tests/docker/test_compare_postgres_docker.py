"""``harness compare --postgres docker``: the scenarios against the compose file's Postgres and PgBouncer in containers.

A quick run of two scenarios and two strategies; what it asserts was counted in the containers' ``pg_stat_activity``
and log by the harness's monitor: one connection per warm environment for ``single``, PgBouncer's pool for
``null_pgbouncer``, and the small server of ``over_budget`` (a recreated container) refusing room it does not have.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.docker.conftest import REPO

POOL_SIZE = 5  # the lab's PgBouncer pool (harness.kit.lab.Lab.pgbouncer_pool_size)
SMALL_SERVER_SLOTS = 10 - 3  # --quick's over_budget server: max_connections 10, 3 reserved for superusers


def lab_projects() -> list[str]:
    names = subprocess.run(
        ["docker", "ps", "-a", "--format", '{{.Label "com.docker.compose.project"}}'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return sorted({name for name in names if name.startswith("serverless-sqlalchemy-lab-")})


def step(runs: list[dict[str, Any]], strategy: str, scenario: str, name: str) -> dict[str, Any]:
    (run,) = [r for r in runs if (r["strategy"], r["scenario"], r["step"]) == (strategy, scenario, name)]
    return run


def peak(run: dict[str, Any]) -> int:
    return max(sample["app"] for sample in run["samples"])


@pytest.mark.timeout(1200)
def test_compare_runs_the_scenarios_against_the_compose_postgres_in_containers(tmp_path: Path) -> None:
    command = [str(REPO / ".venv" / "bin" / "harness"), "compare", "--postgres", "docker", "--quick"]
    command += ["--scenario", "burst", "--scenario", "over_budget", "--strategy", "single"]
    command += ["--strategy", "null_pgbouncer", "--output", str(tmp_path)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1200, check=False, env=os.environ)
    print(done.stdout[-6000:])
    assert done.returncode == 0, done.stderr[-3000:]

    (results,) = tmp_path.glob("*/results.json")
    report = json.loads(results.read_text())
    assert report["parameters"]["postgres"] == "docker"
    runs = report["runs"]
    for run in runs:
        # the container's log is read here: connections opened are counted exactly, as on the embedded server
        assert not any("counted from" in note for note in run["notes"]), (run["step"], run["notes"])
        assert run["backend_memory_kib"], run["step"]  # the backends were found among this machine's processes

    # burst: `single` holds one connection per warm environment; through PgBouncer at most its pool reaches Postgres
    single, pooled = step(runs, "single", "burst", "c=8"), step(runs, "null_pgbouncer", "burst", "c=8")
    assert all(request["ok"] for request in single["requests"] + pooled["requests"])
    assert peak(single) == 8
    assert 1 <= peak(pooled) <= POOL_SIZE

    # over_budget: the roomy server holds every environment's connection; the recreated small one has 7 slots, and
    # `single`'s reserved concurrency throttles the excess before the database refuses anyone
    roomy = step(runs, "single", "over_budget", "roomy server")
    small = step(runs, "single", "over_budget", "max_connections=10")
    assert small["parameters"]["max_connections"] == 10
    assert peak(roomy) > SMALL_SERVER_SLOTS
    assert peak(small) <= SMALL_SERVER_SLOTS
    assert any(request["status"] == 429 for request in small["requests"])
    assert small["connections_refused"] == 0

    assert lab_projects() == []  # every stack it started was removed

"""``harness compare --target``: any Invoke API endpoint, driven through the real boto3 client.

Here the endpoint is the lab's own emulator serving Lambda's Invoke API (the same protocol as
``sam local start-lambda`` and AWS), so the test needs neither Docker nor an account.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.emulator import LocalLambda
from harness.kit.lab import LOCAL_PARAMETERS, migrate
from tests.conftest import TestDatabase

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_compare_drives_a_remote_invoke_api_and_counts_its_connections(
    database: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate(database.url)
    stack_env = {"DATABASE_URL": database.url, "DB_SECRET_ARN": "", "DB_SSLMODE": "disable"}
    # The default workload's setup invokes MigrateFunction at the target too, as it would on a deployed stack.
    env = {"ItemsFunction": {**stack_env, "DB_POOL_MODE": "single"}, "MigrateFunction": stack_env}
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "lab")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "lab")
    with LocalLambda.from_template(
        ROOT / "template.yaml", parameter_overrides=LOCAL_PARAMETERS, env_vars=env, serve=True
    ) as lam:
        assert lam.invoke_api_url is not None
        monitor_url = database.server.url(database.name)  # the superuser: sees every backend of the database
        code = main(
            [
                "compare",
                "--target",
                lam.invoke_api_url,
                "--database-url",
                monitor_url,
                "--scenario",
                "burst",
                "--concurrency",
                "1,3",
                "--invocations",
                "4",
                "--label",
                "single",
                "--output",
                str(tmp_path),
            ]
        )
    assert code == 0
    (run_dir,) = tmp_path.iterdir()
    results = json.loads((run_dir / "results.json").read_text())
    runs = results["runs"]
    assert [run["step"] for run in runs] == ["c=1", "c=3"]
    for run in runs:
        assert all(request["ok"] for request in run["requests"])
        # single mode behind the target: never more server connections than concurrent environments
        assert max(sample["app"] for sample in run["samples"]) <= run["parameters"]["clients"]


def test_target_without_database_url_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--target", "http://127.0.0.1:1"]) == 2
    assert "--target needs --database-url" in capsys.readouterr().err


def test_target_with_a_scenario_it_cannot_control_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["compare", "--target", "aws", "--database-url", "postgresql://u@h/d", "--scenario", "freeze_thaw"])
    assert code == 2
    assert "freeze_thaw need environments the lab controls" in capsys.readouterr().err

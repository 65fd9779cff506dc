"""``harness emulate`` option errors exit 2 with a message naming the option; the live view renders plainly."""

from __future__ import annotations

import pytest

from harness.cli import main
from harness.emulator.spec import EnvironmentInfo
from harness.emulator.view import render_environments


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--idle-ttl", "0"], "--idle-ttl"),
        (["--max-environments", "-1"], "--max-environments"),
        (["--port", "http"], "--port"),
    ],
)
def test_bad_options_exit_2_naming_the_option(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["emulate", *argv])

    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_template_and_env_vars_exit_2_with_the_reason(tmp_path, capsys):
    env_vars = tmp_path / "env.json"
    env_vars.write_text("[1, 2]")

    assert main(["emulate", "--template", str(tmp_path / "missing.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    assert main(["emulate", "--template", str(tmp_path / "template.yaml"), "--env-vars", str(env_vars)]) == 2
    assert "--env-vars" in capsys.readouterr().err


def test_live_view_summarises_states_and_lists_environments():
    environments = [
        EnvironmentInfo("Items", 101, "frozen", 12, 75.0, "a1", 3.0),
        EnvironmentInfo("Items", 102, "busy", 3, 5.0, "b2", 0.0),
    ]

    lines = render_environments(environments)

    assert lines[0] == "2 environments: 1 busy, 1 frozen"
    assert lines[1].split() == ["FUNCTION", "ENV", "PID", "STATE", "INVOCATIONS", "AGE", "IDLE"]
    assert lines[2].split() == ["Items", "a1", "101", "frozen", "12", "1m15s", "3.0s"]
    assert render_environments([]) == ["0 environments: none yet"]

"""samconfig.toml read like SAM CLI: [ENV.COMMAND.parameters] over [ENV.global.parameters], bad envs named."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.emulator.samconfig import SamConfigError, load_samconfig, split_parameter_overrides
from harness.emulator.template import parse_parameter_overrides

REPO_SAMCONFIG = Path(__file__).parents[3] / "samconfig.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "samconfig.toml"
    path.write_text(text)
    return path


def test_command_section_overrides_global_key_by_key(tmp_path):
    path = write(
        tmp_path,
        """version = 0.1
[local.global.parameters]
env_vars = "global.json"
parameter_overrides = "A=\\"1\\""
[local.local_start_api.parameters]
env_vars = "api.json"
""",
    )
    config = load_samconfig("local start-api", config_file=path, config_env="local")
    assert config.env_vars_file == "api.json"
    assert config.parameter_overrides == ["A=1"]
    assert load_samconfig("local invoke", config_file=path, config_env="local").env_vars_file == "global.json"


def test_the_projects_local_env_gives_both_commands_their_overrides_without_quotes():
    for command in ("local start-api", "local invoke"):
        config = load_samconfig(command, config_file=REPO_SAMCONFIG, config_env="local")
        overrides = parse_parameter_overrides(config.parameter_overrides)
        assert overrides["RunMigrationsOnDeploy"] == "false"
        assert overrides["DatabaseSecretArn"].startswith("arn:aws:secretsmanager:")
        assert config.env_vars_file == "env.local.json"


def test_a_config_env_the_file_does_not_hold_is_named_with_the_ones_it_has():
    with pytest.raises(SamConfigError, match=r"config env 'lcoal' is not in .*\(it has: default, local\)"):
        load_samconfig("local invoke", config_file=REPO_SAMCONFIG, config_env="lcoal")


def test_a_named_config_file_that_is_missing_or_not_toml_is_an_error(tmp_path):
    with pytest.raises(SamConfigError, match="does not exist"):
        load_samconfig("local invoke", config_file=tmp_path / "nope.toml")
    with pytest.raises(SamConfigError, match="cannot be read"):
        load_samconfig("local invoke", config_file=write(tmp_path, "[[not toml"))


def test_no_file_in_the_working_directory_means_no_options_for_the_default_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_samconfig("local start-api").parameters == {}
    with pytest.raises(SamConfigError, match=r"there is no samconfig\.toml"):
        load_samconfig("local start-api", config_env="local")


def test_parameter_overrides_as_a_list_and_with_spaces_in_quotes():
    assert split_parameter_overrides(['A="x y"', "B=2 C=3"]) == ["A=x y", "B=2", "C=3"]
    with pytest.raises(SamConfigError, match="cannot be parsed"):
        split_parameter_overrides('A="unclosed')


def test_emulate_with_an_unknown_config_env_exits_2_with_one_line(capsys):
    assert main(["emulate", "--config-file", str(REPO_SAMCONFIG), "--config-env", "lcoal"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "config env 'lcoal'" in err


def test_emulate_takes_env_vars_and_overrides_from_the_config_and_flags_win(tmp_path, capsys):
    (tmp_path / "template.yaml").write_text("Parameters:\n  Known: {Type: String, Default: x}\nResources: {}\n")
    config = write(
        tmp_path,
        '[lab.local_start_api.parameters]\nparameter_overrides = "Unknown=\\"1\\""\nenv_vars = "missing.json"\n',
    )
    base = ["emulate", "--template", str(tmp_path / "template.yaml"), "--config-file", str(config)]

    assert main([*base, "--config-env", "lab", "--env-vars", str(write_env(tmp_path))]) == 2
    assert "parameter override for Unknown" in capsys.readouterr().err
    assert main([*base, "--config-env", "lab"]) == 2
    assert "missing.json" in capsys.readouterr().err


def write_env(tmp_path: Path) -> Path:
    path = tmp_path / "env.json"
    path.write_text("{}")
    return path

"""The start mode, the fork server's default preload and the interpreter a Runtime names, decided before any fork."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from harness.emulator import FunctionSpec
from harness.emulator.lambda_env import lambda_environment
from harness.emulator.runtimes import OWN, Interpreter, RuntimeInterpreters, find_python, requirement_files
from harness.emulator.starters import START_MODE_VARIABLE, layer_imports, start_mode_from_env


def test_an_explicit_start_mode_beats_the_variable(monkeypatch):
    monkeypatch.setenv(START_MODE_VARIABLE, "fresh")

    assert start_mode_from_env("fork") == "fork"
    assert start_mode_from_env() == "fresh"


def test_the_start_mode_defaults_to_fork(monkeypatch):
    monkeypatch.delenv(START_MODE_VARIABLE, raising=False)

    assert start_mode_from_env() == "fork"


def test_a_bad_start_mode_variable_is_named_with_what_is_allowed(monkeypatch):
    monkeypatch.setenv(START_MODE_VARIABLE, "snapshot")

    with pytest.raises(ValueError, match=r"LOCAL_LAMBDA_START_MODE='snapshot' is not one of fork, fresh"):
        start_mode_from_env()


def test_layer_imports_are_its_module_level_third_party_imports(tmp_path):
    package = tmp_path / "python" / "mylayer"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        textwrap.dedent(
            """
            from __future__ import annotations
            import os, json
            import sqlalchemy.orm
            from psycopg2 import extras
            from . import config
            from mylayer.config import VALUE
            try:
                import orjson
            except ImportError:
                orjson = None

            def later():
                import boto3
            """
        )
    )
    (package / "config.py").write_text("from aws_lambda_powertools import Logger\nVALUE = 1\n")
    (package / "broken.py").write_text("def (:\n")  # a file that does not parse is skipped, not fatal

    assert layer_imports([tmp_path / "python"]) == ["aws_lambda_powertools", "psycopg2", "sqlalchemy"]


def test_the_projects_layer_preloads_its_database_libraries():
    layers = Path(__file__).parents[3] / "layers"

    names = layer_imports([layers])

    assert {"sqlalchemy", "aws_lambda_powertools"} <= set(names)
    assert not {"lambda_db", "app_model"} & set(names)  # the layer's own code is function code: never preloaded


def test_a_runtime_that_is_not_installed_falls_back_to_the_emulators_python_with_a_note(tmp_path):
    runtimes = RuntimeInterpreters(cache_dir=tmp_path)
    spec = FunctionSpec("Fn", tmp_path, "app.handler", runtime="python3.99")

    assert find_python("3.99") is None
    assert runtimes.for_function(spec) == OWN
    assert runtimes.notes == [
        f"Fn: Runtime python3.99 not found (looked on PATH and in pyenv): runs on the emulator's Python {OWN.version} "
        f"(AWS_EXECUTION_ENV={OWN.execution_env})"
    ]


def test_the_emulators_own_version_and_no_runtime_need_no_venv(tmp_path):
    runtimes = RuntimeInterpreters(cache_dir=tmp_path)
    own = FunctionSpec("Own", tmp_path, "app.handler", runtime=f"python{OWN.version}")
    none = FunctionSpec("None", tmp_path, "app.handler")

    assert runtimes.for_function(own) == OWN == runtimes.for_function(none)
    assert runtimes.notes == []
    assert list(tmp_path.iterdir()) == []


def test_requirements_come_from_the_layers_then_the_function(tmp_path):
    (tmp_path / "layer").mkdir()
    (tmp_path / "layer" / "requirements.txt").write_text("sqlalchemy\n")
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "requirements.txt").write_text("pydantic\n")
    (tmp_path / "bare").mkdir()
    spec = FunctionSpec("Fn", tmp_path / "fn", "app.handler", layers=(tmp_path / "layer", tmp_path / "bare"))

    assert requirement_files(spec) == [tmp_path / "layer" / "requirements.txt", tmp_path / "fn" / "requirements.txt"]


def test_aws_execution_env_names_the_interpreter_that_runs(tmp_path):
    spec = FunctionSpec("Fn", tmp_path, "app.handler", runtime="python3.13")
    interpreter = Interpreter("/var/lang/bin/python3.13", "3.13")

    env = lambda_environment(spec, region="eu-west-1", interpreter=interpreter, host_env={})

    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.13"
    assert env["LAMBDA_RUNTIME_DIR"] == "/var/lang/bin"
    assert lambda_environment(spec, region="eu-west-1", host_env={})["AWS_EXECUTION_ENV"] == (
        f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}"
    )

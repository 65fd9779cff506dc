"""Read ``samconfig.toml`` the way SAM CLI does, so ``--config-env local`` means the same to the emulator as to SAM.

SAM looks a command's options up in ``[ENV.COMMAND.parameters]``, where COMMAND is the command's words joined by
underscores with hyphens turned into underscores (``local start-api`` -> ``local_start_api``, ``local invoke`` ->
``local_invoke``), on top of ``[ENV.global.parameters]``: the command's section wins key by key. The emulator
needs two of those options: ``env_vars`` (the path of a JSON file of environment variables, relative to the
working directory as SAM reads it) and ``parameter_overrides`` (``Key="Value" ...`` in one string, or a list of
such strings).

A config env that the file does not hold is an error here, naming the envs it has, so that a typo never runs
with no options; a missing file is an error only when it was named explicitly.
"""

from __future__ import annotations

import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_CONFIG_ENV",
    "DEFAULT_CONFIG_FILE",
    "SamConfig",
    "SamConfigError",
    "load_samconfig",
    "split_parameter_overrides",
]

DEFAULT_CONFIG_FILE = "samconfig.toml"
DEFAULT_CONFIG_ENV = "default"


class SamConfigError(ValueError):
    """The config file cannot be read, or holds no section for the config env asked for."""


@dataclass(frozen=True)
class SamConfig:
    """The options one SAM command finds in a config file (empty when there is no file)."""

    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def env_vars_file(self) -> str | None:
        """The ``env_vars`` option: the path of a JSON file of environment variables, as written."""
        value = self.parameters.get("env_vars")
        return str(value) if value is not None else None

    @property
    def parameter_overrides(self) -> list[str]:
        """The ``parameter_overrides`` option as ``Key=Value`` words, SAM's quotes removed, file order kept."""
        return split_parameter_overrides(self.parameters.get("parameter_overrides"))


def section_name(command: str) -> str:
    """The section key SAM uses for a command: ``"local start-api"`` -> ``"local_start_api"``."""
    return "_".join(command.split()).replace("-", "_")


def load_samconfig(
    command: str, *, config_file: str | Path | None = None, config_env: str = DEFAULT_CONFIG_ENV
) -> SamConfig:
    """The options ``command`` (e.g. ``"local invoke"``) reads from the config file for ``config_env``.

    Example
    -------
    >>> load_samconfig("local start-api", config_env="local").env_vars_file  # doctest: +SKIP
    'env.local.json'
    """
    path = Path(config_file) if config_file is not None else Path(DEFAULT_CONFIG_FILE)
    if not path.is_file():
        if config_file is not None:
            raise SamConfigError(f"config file {str(path)!r} does not exist")
        if config_env != DEFAULT_CONFIG_ENV:
            raise SamConfigError(f"config env {config_env!r} asked for, but there is no {DEFAULT_CONFIG_FILE}")
        return SamConfig()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SamConfigError(f"config file {str(path)!r} cannot be read: {exc}") from exc
    env = document.get(config_env)
    if not isinstance(env, dict):
        envs = sorted(key for key, value in document.items() if isinstance(value, dict))
        raise SamConfigError(f"config env {config_env!r} is not in {str(path)!r} (it has: {', '.join(envs) or 'none'})")
    merged: dict[str, Any] = {}
    for key in ("global", section_name(command)):
        params = env.get(key, {}).get("parameters", {}) if isinstance(env.get(key), dict) else {}
        if isinstance(params, dict):
            merged.update(params)
    return SamConfig(parameters=merged)


def split_parameter_overrides(value: object) -> list[str]:
    """``'A="1 2" B=two'`` (or a list of such strings) -> ``["A=1 2", "B=two"]``, split as a shell would."""
    if value is None:
        return []
    words: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        try:
            words += shlex.split(str(item))
        except ValueError as exc:
            raise SamConfigError(f"parameter_overrides {item!r} cannot be parsed: {exc}") from exc
    return words

"""The functions an emulator serves, found by any of the names Lambda accepts for them.

A caller may name a function by its logical id, its physical name or its ARN, with or without ``:$LATEST``; each
is resolved here, once per call, to the one :class:`Function` record the pool schedules on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.emulator.errors import ResourceNotFoundError
from harness.emulator.lambda_env import function_arn
from harness.emulator.spec import FunctionSpec

if TYPE_CHECKING:
    from harness.emulator.environment import Environment

__all__ = ["Function", "Registry"]


@dataclass
class Function:
    """One function and its environments, as the pool schedules them."""

    spec: FunctionSpec
    arn: str
    environments: set[Environment] = field(default_factory=set)
    idle: list[Environment] = field(default_factory=list)  # a stack: the most recently used on top
    in_flight: int = 0


class Registry:
    """Functions by logical id, with every alias (physical name, ARN) that names them."""

    def __init__(self, region: str) -> None:
        self._region = region
        self._functions: dict[str, Function] = {}
        self._aliases: dict[str, str] = {}

    def register(self, spec: FunctionSpec) -> None:
        """Add (or replace) a function; its code directory must exist, as ``sam local`` checks too."""
        if not Path(spec.code_uri).is_dir():
            raise ValueError(f"{spec.name}: code directory {spec.code_uri} does not exist")
        fn = Function(spec, function_arn(spec, self._region))
        self._functions[spec.name] = fn
        self._aliases[spec.name] = spec.name
        self._aliases[spec.physical_name] = spec.name
        self._aliases[fn.arn] = spec.name

    def specs(self) -> list[FunctionSpec]:
        return [fn.spec for fn in self._functions.values()]

    def functions(self) -> list[Function]:
        return list(self._functions.values())

    def named(self, logical_id: str) -> Function:
        return self._functions[logical_id]

    def resolve(self, name: str) -> Function:
        """The function called ``name``: logical id, physical name or ARN, with an optional ``:$LATEST``."""
        key = name[: -len(":$LATEST")] if name.endswith(":$LATEST") else name
        canonical = self._aliases.get(key) or self._aliases.get(key.rsplit(":", 1)[-1])
        if canonical is None:
            known = ", ".join(sorted(self._functions)) or "none"
            raise ResourceNotFoundError(f"Function not found: {name} (functions in this emulator: {known})")
        return self._functions[canonical]

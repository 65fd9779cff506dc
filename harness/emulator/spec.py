"""The emulator's plain data: what a function is, what an invocation returned, what an environment is doing.

Kept apart from the machinery so that the template loader, the scheduler, the HTTP front ends and the tests share
one vocabulary without importing each other.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "DEFAULT_MEMORY_MB",
    "DEFAULT_TIMEOUT_S",
    "EnvironmentInfo",
    "EnvironmentState",
    "FunctionSpec",
    "InvokeResult",
    "Route",
]

DEFAULT_TIMEOUT_S = 3.0  # Lambda's (and SAM's) default when the template says nothing
DEFAULT_MEMORY_MB = 128

EnvironmentState = Literal["initialising", "busy", "idle", "frozen", "stopping"]


@dataclass(frozen=True)
class FunctionSpec:
    """One function as Lambda would run it: code, handler, configuration.

    Parameters
    ----------
    name
        The name callers use (the template's logical id); ``function_name`` is the physical-style name, if any.
    code_uri
        Directory holding the handler module; it becomes the working directory and ``LAMBDA_TASK_ROOT``.
    handler
        ``module.function``, as in the template.
    layers
        Directories whose content Lambda would unpack into ``/opt``; their ``python`` subdirectory (or the
        directory itself when it has none) goes on ``PYTHONPATH``.
    missing_layers
        Published layers (ARNs) the function names that are not available locally: its invocations fail with an
        error naming them, and no environment is started (see :mod:`harness.emulator.layer_dirs`).
    runtime
        The template's ``Runtime`` (``python3.13``): the interpreter it names runs the function, with the layers' and
        the function's requirements installed (see :mod:`harness.emulator.runtimes`); None: the emulator's own.

    Example
    -------
    >>> FunctionSpec("Echo", Path("tests/fixtures/echo"), "app.handler", timeout_s=1.0)  # doctest: +SKIP
    """

    name: str
    code_uri: Path
    handler: str
    env: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    reserved_concurrency: int | None = None
    layers: tuple[Path, ...] = ()
    function_name: str | None = None
    missing_layers: tuple[str, ...] = ()
    runtime: str | None = None

    def __post_init__(self) -> None:
        if "." not in self.handler:
            raise ValueError(f"handler {self.handler!r} of {self.name} must be 'module.function'")
        if self.timeout_s <= 0:
            raise ValueError(f"timeout of {self.name} must be positive, got {self.timeout_s}")
        if self.reserved_concurrency is not None and self.reserved_concurrency < 0:
            raise ValueError(f"ReservedConcurrentExecutions of {self.name} must be >= 0")

    @property
    def physical_name(self) -> str:
        return self.function_name or self.name


@dataclass(frozen=True)
class Route:
    """One API Gateway route: ``method`` (or ``ANY``) and a path template such as ``/items/{id}``."""

    method: str
    path: str
    function: str
    payload_version: Literal["1.0", "2.0"] = "2.0"


@dataclass
class InvokeResult:
    """What one invocation returned, as the Invoke API would report it.

    ``raw_payload`` is the bytes as sent; ``payload`` is them parsed as JSON (or Lambda's error object when
    ``function_error`` is set), parsed once, on first use: the Invoke API relays the bytes and never pays for it.
    ``log_tail`` is the invocation's log (Lambda's last 4 KB), when asked for.
    """

    status_code: int
    function_error: str | None = None
    log_tail: str | None = None
    duration_ms: float = 0.0
    cold_start: bool = False
    environment_id: str | None = None
    throttled: bool = False
    raw_payload: bytes = b""
    init_duration_ms: float | None = None
    request_id: str = ""
    start_mode: str | None = None  # "fork" or "fresh": how the environment that ran it was started

    @functools.cached_property
    def payload(self) -> Any:
        if not self.raw_payload:
            return None
        try:
            return json.loads(self.raw_payload)
        except ValueError:
            return self.raw_payload.decode(errors="replace")


@dataclass(frozen=True)
class EnvironmentInfo:
    """A snapshot of one execution environment, for the live view and ``GET /_emulator/environments``."""

    function: str
    pid: int
    state: EnvironmentState
    invocations: int
    age_s: float
    id: str
    idle_s: float = 0.0
    start_mode: str | None = None  # "fork" (from a pre-imported server) or "fresh" (a new interpreter)
    thaws: int = 0  # invocations that found it frozen (an event waiting when it asks for the next one finds it awake)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "function": self.function,
            "pid": self.pid,
            "state": self.state,
            "invocations": self.invocations,
            "age_s": round(self.age_s, 3),
            "idle_s": round(self.idle_s, 3),
            "start_mode": self.start_mode,
            "thaws": self.thaws,
        }

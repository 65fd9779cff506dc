"""How each function's environments start: forked from its interpreter's fork server, or a fresh interpreter each.

``fork`` (the default) keeps one :class:`~harness.emulator.forkserver.ForkServer` per interpreter, started on first
use, that has imported the runtime client and the third-party modules the functions' layers import at module level
(or the modules given); ``fresh`` starts ``python -m awslambdaric`` per environment, for those who measure init
itself. A function falls back to ``fresh`` (with a note) when its variables set something the interpreter reads only
at start-up (``PYTHON*`` other than ``PYTHONPATH``), or when its fork server cannot start. Either way the function's
own init (its module import, the engine built at module scope) runs in the new environment, once, as on Lambda.

Variables read: ``LOCAL_LAMBDA_START_MODE`` (``fork`` or ``fresh``) when no mode is given.
"""

from __future__ import annotations

import ast
import asyncio
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.emulator.forkserver import ForkServer, ForkServerError
from harness.emulator.lambda_env import layer_paths
from harness.emulator.launcher import RuntimeProcess, StartMode, spawn_runtime
from harness.emulator.runtimes import Interpreter
from harness.emulator.spec import FunctionSpec

__all__ = ["START_MODE_VARIABLE", "Starters", "layer_imports", "start_mode_from_env"]

START_MODE_VARIABLE = "LOCAL_LAMBDA_START_MODE"
STOP_WAIT_S = 5.0  # for fork servers still starting to see their cancellation
START_MODES: tuple[StartMode, ...] = ("fork", "fresh")
_SERVER_ENV = ("PATH", "LANG", "LD_LIBRARY_PATH", "TMPDIR")
# Lambda's variables that are the same for every function on one interpreter: the server has them too, for the
# preloaded modules that read one at import (Powertools reads AWS_EXECUTION_ENV and AWS_LAMBDA_INITIALIZATION_TYPE).
_SHARED_LAMBDA_ENV = (
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_SAM_LOCAL",
    "LAMBDA_RUNTIME_DIR",
)
_STARTUP_ONLY_OK = ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")


def start_mode_from_env(mode: str | None = None) -> StartMode:
    """``mode`` if given, else ``$LOCAL_LAMBDA_START_MODE``, else ``fork``; ValueError naming what is allowed."""
    value = mode if mode is not None else os.environ.get(START_MODE_VARIABLE, "fork")
    for allowed in START_MODES:
        if value == allowed:
            return allowed
    where = "start_mode" if mode is not None else START_MODE_VARIABLE
    raise ValueError(f"{where}={value!r} is not one of {', '.join(START_MODES)}")


def layer_imports(layers: Iterable[Path]) -> list[str]:
    """Top-level names the layers' modules import at module level, less the standard library and the layers' own."""
    roots = [Path(path) for path in layers]
    own = {child.stem for root in roots if root.is_dir() for child in root.iterdir()}
    names: set[str] = set()
    for root in roots:
        for source in sorted(root.rglob("*.py")) if root.is_dir() else []:
            try:
                tree = ast.parse(source.read_text(), str(source))
            except (SyntaxError, UnicodeDecodeError, OSError):
                continue
            for node in tree.body:
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return sorted(name for name in names - own if name not in sys.stdlib_module_names and name != "__future__")


class Starters:
    """The start mode and the fork servers of one pool; everything here runs on the event loop thread."""

    def __init__(
        self,
        mode: StartMode,
        *,
        preload: Sequence[str] | None,
        log_dir: Callable[[], Path],
        host_env: Mapping[str, str] | None = None,
    ) -> None:
        self.mode = mode
        self._preload = None if preload is None else list(preload)
        self._log_dir = log_dir
        host = os.environ if host_env is None else host_env
        self._server_env = {name: host[name] for name in _SERVER_ENV if name in host}
        self._server_env.update({"TZ": ":UTC", "PYTHONDONTWRITEBYTECODE": "1"})
        self._servers: dict[str, ForkServer] = {}
        self._warming: set[asyncio.Future[dict[str, Any]]] = set()
        self._broken: dict[str, str] = {}  # interpreter -> why its server could not start
        self.notes: list[str] = []

    def mode_for(self, spec: FunctionSpec) -> StartMode:
        if self.mode == "fresh":
            return "fresh"
        startup = sorted(k for k in spec.env if k.startswith("PYTHON") and k not in _STARTUP_ONLY_OK)
        if startup:
            note = f"{spec.name}: {', '.join(startup)} is read at interpreter start-up: fresh interpreters"
            if note not in self.notes:
                self.notes.append(note)
            return "fresh"
        return "fork"

    async def launch(
        self,
        spec: FunctionSpec,
        interpreter: Interpreter,
        specs: Sequence[FunctionSpec],
        *,
        env: Mapping[str, str],
        log_fd: int,
    ) -> tuple[RuntimeProcess, StartMode]:
        """Start one environment of ``spec``; ``specs`` (those on the same interpreter) decide what is preloaded."""
        if self.mode_for(spec) == "fork" and interpreter.python not in self._broken:
            server = self._server(interpreter, specs, env)
            try:
                cwd = Path(spec.code_uri).resolve()
                return await server.spawn(spec.handler, cwd=cwd, env=env, log_fd=log_fd), "fork"
            except ForkServerError as exc:
                if server.pid and not server.stopped and not server.refusing:
                    raise  # the server runs but this fork failed: the caller sees it as a failed start
                self._broken[interpreter.python] = str(exc)
                self.notes.append(f"fork server on {interpreter.python} unavailable ({exc}): fresh interpreters")
        cwd = Path(spec.code_uri)
        process = spawn_runtime(spec.handler, python=interpreter.python, cwd=cwd, env=env, log_fd=log_fd)
        return process, "fresh"

    def _server(
        self, interpreter: Interpreter, specs: Sequence[FunctionSpec], lambda_env: Mapping[str, str]
    ) -> ForkServer:
        server = self._servers.get(interpreter.python)
        if server is None:
            if self._preload is not None:
                preload = self._preload
            else:
                preload = layer_imports(Path(p) for spec in specs for p in layer_paths(spec))
            name = f"forkserver-python{interpreter.version}-{len(self._servers)}.log"
            env = {**self._server_env, **{k: lambda_env[k] for k in _SHARED_LAMBDA_ENV if k in lambda_env}}
            server = ForkServer(interpreter.python, preload, env=env, log_path=self._log_dir() / name)
            self._servers[interpreter.python] = server
        return server

    def warm(self, interpreter: Interpreter, specs: Sequence[FunctionSpec], lambda_env: Mapping[str, str]) -> None:
        """Start the fork server of ``interpreter`` now, in the background, so the first cold start does not wait."""
        if self.mode == "fresh" or interpreter.python in self._broken:
            return
        if not any(self.mode_for(spec) == "fork" for spec in specs):
            return
        server = self._server(interpreter, specs, lambda_env)
        task = asyncio.ensure_future(server.start())
        self._warming.add(task)
        task.add_done_callback(self._warmed)

    def _warmed(self, task: asyncio.Future[dict[str, Any]]) -> None:
        self._warming.discard(task)
        if not task.cancelled():
            task.exception()  # a server that failed says so again on first use, and falls back then

    def describe(self, interpreter: Interpreter, specs: Sequence[FunctionSpec]) -> str:
        """How environments of ``specs`` (all on ``interpreter``) start, in one line."""
        server = self._servers.get(interpreter.python)
        names = ", ".join(spec.name for spec in specs)
        where = f"Python {interpreter.version} ({interpreter.python})"
        forked = [spec for spec in specs if self.mode_for(spec) == "fork"]
        if not forked or server is None or interpreter.python in self._broken:
            return f"{where}: {names}: a fresh interpreter per environment"
        info = server.info
        preloaded = [name for name in info.get("preloaded", []) if not name.startswith("awslambdaric")]
        learned = len(info.get("learned", []))
        failed = f"; not importable: {', '.join(sorted(server.failed))}" if server.failed else ""
        timing = f", {info['import_ms']:.0f} ms of imports" if "import_ms" in info else ""
        return (
            f"{where}: {names}: forked from a server (pid {server.pid}{timing}) that imported awslambdaric"
            + (f", {', '.join(preloaded)}" if preloaded else "")
            + (f", and {learned} modules the first inits imported" if learned else "")
            + failed
        )

    def servers(self) -> list[ForkServer]:
        return list(self._servers.values())

    def pids(self) -> list[int]:
        return [pid for server in self._servers.values() for pid in server.pids()]

    async def stop(self) -> None:
        """Cancel the fork servers still starting, wait for the cancellations to land, and stop every server.

        Waited for, not only cancelled: a start cancelled as the loop closes is destroyed while pending (asyncio
        prints so at exit), with the server process it may have started half set up.
        """
        warming = list(self._warming)
        for task in warming:
            task.cancel()
        if warming:
            await asyncio.wait(warming, timeout=STOP_WAIT_S)
        for server in self._servers.values():
            server.stop()

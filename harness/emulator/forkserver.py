"""The emulator's side of a fork server: one pre-imported interpreter per runtime, from which environments fork.

A fresh interpreter per environment spends most of a realistic cold start importing SQLAlchemy, psycopg2,
Powertools and boto3, and each holds its own copy of them. A fork server imports them once
(:mod:`harness.emulator.forkserver_process` is the server's code, :mod:`harness.emulator.forkserver_child` what runs
in each fork); each environment is a fork of it that then runs the function's own init as before, and shares the
imported modules' pages until it writes to them. The server is started from the event loop thread
(PR_SET_PDEATHSIG follows the thread that started it), talks over one ``SOCK_SEQPACKET`` socket read on the loop,
and reaps its children, telling the emulator each exit code; the emulator still signals each environment's process
group itself (the child is a session leader).

What a fork cannot give a new interpreter: the ``str`` hash seed and the address-space layout are the server's,
shared by every environment of that runtime; so are variables a preloaded module read at import (the runtime
client's own modules are re-imported in each child for that reason).
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.emulator import forkserver_process

__all__ = ["ForkServer", "ForkServerError", "ForkedProcess"]

READY_TIMEOUT_S = 60.0
_SOURCE = str(Path(forkserver_process.__file__).resolve())
# Run the server's file by path with ``-c`` (not as a script: its directory would go on sys.path, and with it every
# module of this package, shadowing a function's own ``events`` or ``spec``), so tracebacks still name the file.
_BOOT = "import sys; exec(compile(open(sys.argv[1]).read(), sys.argv[1], 'exec'))"
_MAX_MESSAGE = forkserver_process.MAX_MESSAGE
_FD_SPACE = socket.CMSG_SPACE(array.array("i").itemsize)


class ForkServerError(RuntimeError):
    """The fork server could not start, died, or could not fork an environment."""


class ForkedProcess:
    """An environment forked by a :class:`ForkServer`: its pid, and its exit code once the server has reaped it."""

    def __init__(self, pid: int, pidfd: int) -> None:
        self.pid = pid
        self._pidfd = pidfd  # held so that a server that dies cannot leave us without a way to see this one exit
        self._code: int | None = None
        self._on_exit: Callable[[int], None] | None = None

    def watch(self, on_exit: Callable[[int], None]) -> None:
        """Call ``on_exit(code)`` on the loop once the process has exited (at once if it already has)."""
        self._on_exit = on_exit
        if self._code is not None:
            asyncio.get_running_loop().call_soon(on_exit, self._code)

    def exited(self, code: int) -> None:
        if self._code is not None:
            return
        self._code = code
        with contextlib.suppress(OSError):
            os.close(self._pidfd)
        self._pidfd = -1
        if self._on_exit is not None:
            self._on_exit(code)

    def orphaned(self) -> None:
        """The server has gone: kill this process (it dies with the server anyway) and report when it is gone."""
        if self._code is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        loop = asyncio.get_running_loop()

        def gone() -> None:
            loop.remove_reader(self._pidfd)
            self.exited(-signal.SIGKILL)

        loop.add_reader(self._pidfd, gone)


class ForkServer:
    """One server process for one interpreter; :meth:`start` once, :meth:`spawn` per environment, :meth:`stop`.

    Parameters
    ----------
    python
        The interpreter to run (the function's runtime, or the emulator's own).
    preload
        Modules to import before forking, besides the runtime client; any that fails to import is reported in
        :attr:`failed` and skipped.
    env
        The server's own environment (each child replaces it with its function's).
    log_path
        Where the server's own output goes (a traceback if it cannot start).
    """

    def __init__(self, python: str, preload: Sequence[str], *, env: Mapping[str, str], log_path: Path) -> None:
        self.python = python
        self.preload = list(preload)
        self._env = dict(env)
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._ready: asyncio.Future[dict[str, Any]] | None = None
        self._pending: dict[int, asyncio.Future[ForkedProcess]] = {}
        self._children: dict[int, ForkedProcess] = {}
        self._next_id = 0
        self.info: dict[str, Any] = {}
        self.stopped = False
        self.refusing = False  # the server said forking is no longer safe: fresh interpreters from now on

    @property
    def pid(self) -> int:
        return self._process.pid if self._process is not None else 0

    @property
    def failed(self) -> dict[str, str]:
        """Preloaded modules that did not import, with why."""
        return dict(self.info.get("failed", {}))

    async def start(self) -> dict[str, Any]:
        """Start the server and wait until it has imported everything; returns its ``ready`` message."""
        if self._ready is not None:
            return await asyncio.shield(self._ready)
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            with open(self._log_path, "ab") as log:
                self._process = subprocess.Popen(
                    [self.python, "-c", _BOOT, _SOURCE, str(theirs.fileno()), str(os.getpid()), ",".join(self.preload)],
                    cwd="/",
                    env=self._env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    pass_fds=(theirs.fileno(),),
                    start_new_session=True,
                )
        except OSError as exc:
            ours.close()
            raise ForkServerError(f"cannot start {self.python}: {exc.strerror}") from exc
        finally:
            theirs.close()
        self._sock = ours
        loop.add_reader(ours.fileno(), self._on_readable)
        try:
            info = await asyncio.wait_for(asyncio.shield(self._ready), READY_TIMEOUT_S)
        except TimeoutError as exc:
            self.stop()
            raise ForkServerError(f"{self.python}: the fork server did not start in {READY_TIMEOUT_S:.0f} s") from exc
        if info.get("threads", 1) > 1:
            self.stop()
            raise ForkServerError(f"{self.python}: importing {', '.join(self.preload)} started threads; cannot fork")
        if info.get("client_initialised"):
            self.stop()
            raise ForkServerError(f"{self.python}: importing {', '.join(self.preload)} loaded the native client")
        return info

    async def spawn(self, handler: str, *, cwd: Path, env: Mapping[str, str], log_fd: int) -> ForkedProcess:
        """Fork an environment that runs ``python -m awslambdaric handler`` in ``cwd`` with ``env``."""
        await self.start()
        if self._sock is None or self.stopped:
            raise ForkServerError(f"{self.python}: the fork server is not running (see {self._log_path})")
        self._next_id += 1
        request = {"op": "spawn", "id": self._next_id, "handler": handler, "cwd": str(cwd), "env": dict(env)}
        future: asyncio.Future[ForkedProcess] = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = future
        ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [log_fd]))]
        try:
            self._sock.sendmsg([json.dumps(request).encode()], ancillary)
        except OSError as exc:
            del self._pending[self._next_id]
            raise ForkServerError(f"{self.python}: the fork server is gone ({exc.strerror})") from exc
        return await future

    def pids(self) -> list[int]:
        """The server and every child it has not reported gone (for the interpreter-exit safety net)."""
        running = self._process is not None and self._process.returncode is None  # a reaped pid may be reused
        return [self.pid, *self._children] if running else list(self._children)

    def stop(self) -> None:
        """Close the socket: the server kills any child left and exits; reap it."""
        self.stopped = True
        if self._sock is not None:
            with contextlib.suppress(ValueError, RuntimeError):
                asyncio.get_running_loop().remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
        if self._process is not None:
            try:
                self._process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        self._gone("the fork server stopped")

    # --- messages from the server ------------------------------------------------------------------------------

    def _on_readable(self) -> None:
        assert self._sock is not None
        try:
            data, ancdata, _, _ = self._sock.recvmsg(_MAX_MESSAGE, _FD_SPACE)
        except OSError:
            data, ancdata = b"", []
        if not data:
            asyncio.get_running_loop().remove_reader(self._sock.fileno())
            self._gone(f"the fork server exited (see {self._log_path})")
            return
        fds = array.array("i")
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
        message = json.loads(data)
        op = message.get("op")
        if op == "ready" and self._ready is not None and not self._ready.done():
            self.info = message
            self._ready.set_result(message)
        elif op == "spawned":
            child = ForkedProcess(int(message["pid"]), fds[0])
            self._children[child.pid] = child
            self._resolve(message["id"], child)
        elif op == "failed":
            self.refusing = self.refusing or bool(message.get("refusing"))
            self._resolve(message["id"], ForkServerError(f"{self.python}: cannot fork: {message.get('error')}"))
        elif op == "learned":
            self.info.setdefault("learned", []).extend(message.get("modules", []))
        elif op == "exited":
            exited = self._children.pop(int(message["pid"]), None)
            if exited is not None:
                exited.exited(int(message["code"]))

    def _resolve(self, request_id: int, outcome: ForkedProcess | BaseException) -> None:
        future = self._pending.pop(request_id, None)
        if future is None or future.done():
            return
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

    def _gone(self, why: str) -> None:
        self.stopped = True
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(ForkServerError(f"{self.python}: {why}"))
            self._ready.exception()  # retrieved here: start() may never be awaited again
        for request_id in list(self._pending):
            self._resolve(request_id, ForkServerError(f"{self.python}: {why}"))
        children, self._children = list(self._children.values()), {}
        for child in children:
            child.orphaned()

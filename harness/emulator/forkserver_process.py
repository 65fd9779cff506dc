"""The fork server's own process: a runtime interpreter with the heavy modules imported, forking environments.

This file is run by the runtime's interpreter through ``python -c`` (so nothing of the harness is on its path),
which may be another Python than the emulator's: it imports only the standard library. It imports the runtime
client and the configured modules, runs no function code, opens no connection and starts no thread, then waits on
one ``SOCK_SEQPACKET`` socket (file descriptor ``argv[2]``) for requests from the emulator.

Messages are JSON, one per packet:

- server -> emulator, once: ``{"op": "ready", "python": "3.13.0", "preloaded": [...], "failed": {...}, ...}``
- emulator -> server: ``{"op": "spawn", "id": N, "handler": ..., "cwd": ..., "env": {...}}`` with the environment's
  log file descriptor attached (SCM_RIGHTS); answered with ``{"op": "spawned", "id": N, "pid": P}`` and a pidfd of
  the child attached, or ``{"op": "failed", "id": N, "error": ...}``.
- server -> emulator: ``{"op": "exited", "pid": P, "code": C}`` once it has reaped a child (C as Popen's
  ``returncode``: negative for a signal).
- server -> emulator: ``{"op": "learned", "modules": [...]}`` after it has imported what a child's init imported.

Learning: a function's init imports more than its layer does at module level (``create_engine`` loads the
dialect, Powertools' Tracer loads the X-Ray SDK and botocore). Each child tells the server, over a datagram socket,
which modules its init imported that are not the function's own code (nothing from its code directory or layers),
once it first asks for an event; the server imports them between forks, so the next environment finds them
imported and shares their pages. Importing a library module runs no function code; a module that starts a thread
or loads the native runtime client stops the server (the emulator then starts fresh interpreters).

Each environment is a fork of this process; what runs in it, from the fork to its exit, is
:mod:`harness.emulator.forkserver_child`, loaded from the file beside this one (this directory is not on the path).
When the emulator closes the socket, the server kills its children and exits.
"""

from __future__ import annotations

import array
import contextlib
import gc
import importlib
import importlib.util
import json
import os
import selectors
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

MAX_MESSAGE = 1 << 20
# What the runtime client imports, short of its native extension (``runtime_client``): loaded before a fork, the
# child's first ``GET /next`` fails with "No Response from endpoint", so each child loads it (a few ms) and
# ``awslambdaric.lambda_runtime_client``, which initialises it with the child's ``AWS_LAMBDA_RUNTIME_API``.
RUNTIME_CLIENT = (
    "simplejson",
    "snapshot_restore_py",
    "http.client",
    "logging",
    "decimal",
    "awslambdaric.lambda_config",
    "awslambdaric.lambda_context",
    "awslambdaric.lambda_runtime_exception",
    "awslambdaric.lambda_runtime_hooks_runner",
    "awslambdaric.lambda_runtime_log_utils",
    "awslambdaric.lambda_runtime_marshaller",
)


def _load_child_side() -> ModuleType:
    """:mod:`harness.emulator.forkserver_child`, run from its file beside this one and kept out of ``sys.modules``.

    Imported by the emulator (for ``MAX_MESSAGE`` and this file's path) this module has a ``__file__``; run by path
    through ``python -c`` it has none, and its path is ``argv[1]``. Left out of ``sys.modules``, where a function's
    own module of the same name would find it instead of its own file.
    """
    here = globals().get("__file__") or sys.argv[1]
    path = os.path.join(os.path.dirname(os.path.realpath(here)), "forkserver_child.py")
    spec = importlib.util.spec_from_file_location("forkserver_child", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the fork server's child side from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from harness.emulator import forkserver_child as child_side
else:
    child_side = _load_child_side()


def _send(sock: socket.socket, message: dict[str, Any], fds: tuple[int, ...] = ()) -> None:
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    sock.sendmsg([json.dumps(message).encode()], ancillary)


def _preload(modules: list[str]) -> tuple[list[str], dict[str, str]]:
    loaded, failed = [], {}
    for name in [*RUNTIME_CLIENT, *modules]:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - a module that does not import is reported, not fatal
            failed[name] = f"{type(exc).__name__}: {exc}"
        else:
            loaded.append(name)
    return loaded, failed


def _reap(sock: socket.socket, selector: selectors.BaseSelector, children: dict[int, int], pidfd: int) -> None:
    """The child behind ``pidfd`` has exited: reap it, tell the emulator, forget its pidfd."""
    pid = children.pop(pidfd)
    selector.unregister(pidfd)
    os.close(pidfd)
    try:
        _, status = os.waitpid(pid, 0)  # at once: a readable pidfd means the child has exited
    except ChildProcessError:
        return
    _send(sock, {"op": "exited", "pid": pid, "code": os.waitstatus_to_exitcode(status)})


def _learn(sock: socket.socket, names: list[str]) -> bool:
    """Import what a child's init imported (once each); False if that made forking unsafe."""
    new = [name for name in names if name not in sys.modules]
    if not new:
        return True
    loaded = []
    for name in new:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - a module that imports only in the function's context is skipped
            continue
        loaded.append(name)
    gc.collect()
    gc.freeze()
    safe = threading.active_count() == 1 and child_side.NATIVE_CLIENT not in sys.modules
    _send(sock, {"op": "learned", "modules": loaded, "safe": safe})
    return safe


def _spawn(
    sock: socket.socket,
    request: dict[str, Any],
    log_fd: int,
    close_server: Callable[[], None],
    learn: socket.socket,
    selector: selectors.BaseSelector,
    children: dict[int, int],
) -> None:
    """Fork the environment ``request`` describes; the server keeps a pidfd of the child in ``selector``."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        child_side.run_child(request, log_fd, os.getppid(), close_server, learn)
    os.close(log_fd)
    pidfd = os.pidfd_open(pid)  # before any reaping, so it names this child and no other
    children[pidfd] = pid
    selector.register(pidfd, selectors.EVENT_READ)
    _send(sock, {"op": "spawned", "id": request["id"], "pid": pid}, (pidfd,))


def serve(sock: socket.socket) -> None:
    """Answer spawn requests until the emulator closes the socket; then kill every child left and return."""
    # Each child's exit is seen through its pidfd, not SIGCHLD: a SIGCHLD handler would also wake the server every
    # time a child is stopped or continued, twice per invocation when the emulator freezes its environments.
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    learned, learn = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)  # children write, we read
    selector.register(learned, selectors.EVENT_READ)
    children: dict[int, int] = {}  # pidfd -> pid, for every child not yet reaped
    unsafe: str | None = None  # why forking stopped being safe: spawns are refused, children still reaped

    def close_server() -> None:  # in a child: the server's descriptors are not the environment's
        selector.close()
        sock.close()
        learned.close()
        for pidfd in children:  # the siblings' pidfds are the server's, not this environment's
            os.close(pidfd)

    while True:
        for key, _ in selector.select():
            if key.fileobj is sock:
                data, ancdata, _, _ = sock.recvmsg(MAX_MESSAGE, socket.CMSG_SPACE(4 * array.array("i").itemsize))
                if not data:
                    for pid in children.values():
                        with contextlib.suppress(ProcessLookupError, PermissionError):
                            os.killpg(pid, signal.SIGKILL)
                    return
                fds = array.array("i")
                for level, kind, payload in ancdata:
                    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                        fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
                request = json.loads(data)
                if unsafe is not None:
                    os.close(fds[0])
                    _send(sock, {"op": "failed", "id": request.get("id"), "error": unsafe, "refusing": True})
                    continue
                try:
                    _spawn(sock, request, fds[0], close_server, learn, selector, children)
                except OSError as exc:
                    _send(sock, {"op": "failed", "id": request.get("id"), "error": str(exc)})
            elif key.fileobj is learned:
                try:
                    names = json.loads(learned.recv(child_side.MAX_LEARNED) or b"[]")
                except ValueError:
                    continue  # cut short: learn from the next child
                if unsafe is None and not _learn(sock, [str(name) for name in names]):
                    unsafe = "a module an init imported started a thread or loaded the native runtime client"
            else:
                _reap(sock, selector, children, key.fd)


def main() -> None:
    fd, parent_pid, modules = int(sys.argv[2]), int(sys.argv[3]), [m for m in sys.argv[4].split(",") if m]
    child_side.die_with_parent(parent_pid)
    sock = socket.socket(fileno=fd)
    sock.setblocking(True)
    start = time.perf_counter()
    loaded, failed = _preload(modules)
    import_ms = (time.perf_counter() - start) * 1000
    gc.collect()
    gc.freeze()  # the imported objects move to a generation the collector never walks: their pages stay shared
    _send(
        sock,
        {
            "op": "ready",
            "pid": os.getpid(),
            "python": ".".join(map(str, sys.version_info[:3])),
            "executable": sys.executable,
            "preloaded": loaded,
            "failed": failed,
            "import_ms": round(import_ms, 1),
            "threads": threading.active_count(),
            "client_initialised": child_side.NATIVE_CLIENT in sys.modules,
        },
    )
    if threading.active_count() > 1 or child_side.NATIVE_CLIENT in sys.modules:
        return  # forking now would share a thread or a runtime client: the emulator reads why and starts fresh ones
    serve(sock)


if __name__ == "__main__":
    main()

"""What runs in each environment the fork server forks: from ``os.fork()`` returning 0 to the child's ``os._exit``.

Kept apart from the server's loop (:mod:`harness.emulator.forkserver_process`) because it is the other side of the
fork: this code runs once per environment, in the forked child, and never returns into the server. The server loads
this file by path from its own directory and keeps it out of ``sys.modules`` (a function's own module of the same
name must not find it there); like the server, it runs on the function's interpreter, which may be another Python
than the emulator's, so it imports only the standard library.

The child becomes a session leader (its pid is its process group, which the emulator signals), dies with the server
(PR_SET_PDEATHSIG; the server dies with the emulator the same way), takes the function's environment, working
directory and ``PYTHONPATH``, re-seeds ``random``, forgets the server's file descriptors, signal handlers and
``atexit`` hooks, drops the runtime client's own modules (they read variables at import) and runs
``python -m awslambdaric HANDLER`` as a fresh interpreter would. Once the runtime first asks for an event (init
done), it tells the server over a datagram socket which library modules its init imported, so that the server can
import them before the next fork.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib
import json
import os
import random
import runpy
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_LEARNED", "NATIVE_CLIENT", "die_with_parent", "run_child"]

MAX_LEARNED = 128 * 1024  # a datagram must fit the socket's buffer
PR_SET_PDEATHSIG = 1
# The runtime client's native extension: loaded before a fork, the child's first ``GET /next`` fails with "No
# Response from endpoint", so each child loads it itself and the server refuses to fork once it is loaded.
NATIVE_CLIENT = "runtime_client"


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel kill this process when the thread that started it dies (exit at once if it already has)."""
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(1)  # the parent died before prctl took effect


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _is_function_code(module: Any, roots: list[str]) -> bool:
    origin = getattr(getattr(module, "__spec__", None), "origin", None) or getattr(module, "__file__", None)
    if not isinstance(origin, str):
        return False
    path = os.path.realpath(origin)
    return any(path.startswith(root + os.sep) for root in roots)


def _report_init_imports(learn: socket.socket, before: set[str], roots: list[str]) -> None:
    """Once the runtime first asks for an event (init done), send the server the library modules init imported."""
    try:
        from awslambdaric.lambda_runtime_client import LambdaRuntimeClient
    except ImportError:
        return
    original = LambdaRuntimeClient.wait_next_invocation

    def wait_next_invocation(self: Any) -> Any:
        LambdaRuntimeClient.wait_next_invocation = original
        try:
            names = [
                name
                for name, module in list(sys.modules.items())
                if name not in before
                and module is not None
                and name != "__main__"
                and not name.startswith(("awslambdaric", NATIVE_CLIENT))
                and not _is_function_code(module, roots)
            ]
            learn.send(json.dumps(sorted(names)).encode()[:MAX_LEARNED])
        except OSError:
            pass  # a full or closed socket: nothing learned from this one
        finally:
            learn.close()
        return original(self)

    LambdaRuntimeClient.wait_next_invocation = wait_next_invocation


def run_child(
    request: dict[str, Any], log_fd: int, server_pid: int, close_server: Callable[[], None], learn: socket.socket
) -> None:
    """Become the environment, run the runtime client, and never return into the server's loop."""
    code = 70
    try:
        os.setsid()
        die_with_parent(server_pid)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        close_server()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(devnull)
        os.close(log_fd)
        os.chdir(request["cwd"])
        env: dict[str, str] = request["env"]
        os.environ.clear()
        os.environ.update(env)
        time.tzset()
        # What PYTHONPATH would have done at start-up: after the script directory (''), before the standard library.
        entries = [entry for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry]
        sys.path[1:1] = entries
        importlib.invalidate_caches()
        random.seed()
        for name in [name for name in sys.modules if name == "awslambdaric" or name.startswith("awslambdaric.")]:
            del sys.modules[name]
        atexit._clear()
        sys.argv = ["awslambdaric", request["handler"]]
        before = set(sys.modules)
        _report_init_imports(learn, before, [os.path.realpath(p) for p in [request["cwd"], *entries]])
    except BaseException:  # noqa: BLE001 - whatever went wrong, the child must not return into the server's loop
        traceback.print_exc()
        os._exit(code)
    try:
        runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc)
    except BaseException:  # noqa: BLE001 - as the interpreter would: print it, exit 1
        traceback.print_exc()
        code = 1
    finally:
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)

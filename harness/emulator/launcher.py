"""How an environment's process is started fresh: ``python -m awslambdaric HANDLER`` that dies with us.

This is the ``fresh`` start mode (a new interpreter per environment); :mod:`harness.emulator.forkserver` is the
``fork`` one. Both hand back a :class:`RuntimeProcess`: a pid the emulator signals (its process group: the process is
a session leader, so a signal reaches anything it started) and a way to learn its exit code on the event loop.
The process asks the kernel (PR_SET_PDEATHSIG) to kill it if the emulator dies without cleaning up (SIGKILL, a
crash), frozen or not, instead of leaving orphans.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal, Protocol

__all__ = ["FreshProcess", "RuntimeProcess", "StartMode", "spawn_runtime"]

StartMode = Literal["fork", "fresh"]
PARENT_PID_VARIABLE = "_LOCAL_LAMBDA_PARENT_PID"

# ``python -m awslambdaric HANDLER``, preceded by prctl(PR_SET_PDEATHSIG, SIGKILL): if the emulator dies without
# cleaning up (SIGKILL, a crash), the kernel kills its environments, frozen or not, instead of leaving orphans.
_LAUNCHER = (
    "import ctypes, os, runpy, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, signal.SIGKILL)\n"
    f"if os.getppid() != int(os.environ.pop({PARENT_PID_VARIABLE!r})):\n"
    "    os._exit(1)\n"  # the emulator died before prctl took effect
    "sys.argv = ['awslambdaric', sys.argv[1]]\n"
    "runpy.run_module('awslambdaric', run_name='__main__', alter_sys=True)\n"
)


class RuntimeProcess(Protocol):
    """An environment's process, however it was started."""

    @property
    def pid(self) -> int: ...

    def watch(self, on_exit: Callable[[int], None]) -> None:
        """Call ``on_exit(code)`` on the event loop once the process has exited (Popen's ``returncode``)."""
        ...


class FreshProcess:
    """A child of the emulator, its exit seen through a pidfd on the loop: no thread, no polling."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process
        self._pidfd = os.pidfd_open(process.pid)

    @property
    def pid(self) -> int:
        return self._process.pid

    def watch(self, on_exit: Callable[[int], None]) -> None:
        loop = asyncio.get_running_loop()

        def reap() -> None:
            loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            on_exit(self._process.wait())

        loop.add_reader(self._pidfd, reap)


def spawn_runtime(handler: str, *, python: str, cwd: Path, env: Mapping[str, str], log_fd: int) -> FreshProcess:
    """Start the runtime for ``handler`` on ``python`` in ``cwd``; its stdout and stderr append to ``log_fd``."""
    process = subprocess.Popen(
        [python, "-c", _LAUNCHER, handler],
        cwd=cwd,
        env={**env, PARENT_PID_VARIABLE: str(os.getpid())},
        stdin=subprocess.DEVNULL,
        stdout=log_fd,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: signals reach it and anything it forks
    )
    return FreshProcess(process)

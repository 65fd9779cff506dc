"""How an execution environment's process is started: ``python -m awslambdaric HANDLER`` that dies with us.

The process runs in its own process group, so that a signal reaches anything it started, and asks the kernel
(PR_SET_PDEATHSIG) to kill it if the emulator dies without cleaning up (SIGKILL, a crash), frozen or not, instead of
leaving orphans.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["spawn_runtime"]

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


def spawn_runtime(handler: str, *, cwd: Path, env: Mapping[str, str], log_fd: int) -> subprocess.Popen[bytes]:
    """Start the runtime for ``handler`` in ``cwd``; its stdout and stderr append to ``log_fd``."""
    return subprocess.Popen(
        [sys.executable, "-c", _LAUNCHER, handler],
        cwd=cwd,
        env={**env, PARENT_PID_VARIABLE: str(os.getpid())},
        stdin=subprocess.DEVNULL,
        stdout=log_fd,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: signals reach it and anything it forks
    )

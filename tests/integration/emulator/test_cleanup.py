"""No environment outlives the emulator: not on a forgotten stop(), not when the emulator itself is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import psutil

from tests.integration.emulator.conftest import BASIC, process_state, wait_until

SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from harness.emulator import FunctionSpec, LocalLambda

    lam = LocalLambda([FunctionSpec("Echo", Path(sys.argv[1]), "app.echo")], start_mode=sys.argv[3]).start()
    lam.prewarm("Echo", 2)
    print(" ".join(str(env.pid) for env in lam.environments()), flush=True)
    if sys.argv[2] == "hang":
        sys.stdin.read()
    # "exit": leave without calling stop(); atexit must clean up
    """
)


def _start(mode: str, start_mode: str) -> tuple[subprocess.Popen[str], list[int]]:
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(BASIC), mode, start_mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    pids = [int(pid) for pid in process.stdout.readline().split()]
    assert len(pids) == 2
    return process, pids


def test_environments_die_with_an_emulator_that_exits_without_stop(start_mode):
    process, pids = _start("exit", start_mode)

    assert process.wait(timeout=30) == 0
    assert wait_until(lambda: all(process_state(pid) in (None, psutil.STATUS_ZOMBIE) for pid in pids))


def test_environments_die_with_an_emulator_killed_by_sigkill(start_mode):
    process, pids = _start("hang", start_mode)
    assert all(process_state(pid) is not None for pid in pids)

    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)

    assert wait_until(lambda: all(process_state(pid) in (None, psutil.STATUS_ZOMBIE) for pid in pids))


STOP_AT_ONCE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from harness.emulator import FunctionSpec, LocalLambda

    lam = LocalLambda([FunctionSpec("Echo", Path(sys.argv[1]), "app.echo")], start_mode="fork").start()
    lam.stop()  # while the fork server it began to start in the background is still starting
    print("stopped", flush=True)
    """
)


def test_a_stop_while_the_fork_server_starts_leaves_no_pending_start_behind():
    # WHEN the emulator stops right after start(), its fork server's background start not yet done
    done = subprocess.run(
        [sys.executable, "-c", STOP_AT_ONCE, str(BASIC)], capture_output=True, text=True, timeout=60, check=False
    )

    # THEN the start was cancelled and awaited before the loop closed: asyncio has no pending task to complain of
    assert done.returncode == 0, done.stderr
    assert done.stdout == "stopped\n"
    assert "Task was destroyed but it is pending" not in done.stderr

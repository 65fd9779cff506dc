"""Stopped by SIGTERM or SIGHUP, every long-running harness command stops what it started, as on Ctrl-C.

Each command runs as a real subprocess (``python -m harness ...``). While it runs, the test records every process
in its tree, every port they listen on and every temp directory their command lines name; once it has started its
servers the test sends the signal, and then finds none of them left: no process, no listening port, no directory.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from harness.pgbouncer import find_pgbouncer

REPO = Path(__file__).resolve().parents[2]
TEMP_DIR = re.compile(re.escape(tempfile.gettempdir()) + r"/(serverless-sqlalchemy-[^/\s]+)")
# the embedded Postgres binaries' copy for an unprivileged user: a cache, kept on purpose between runs
BINARIES_CACHE = re.compile(r"serverless-sqlalchemy-pg-[0-9.]+-l\d+-\d+")
STARTUP_S = 300  # a guard against a hang, never a measure: each command is signalled as soon as it is ready


@dataclass
class Watched:
    """A harness command and everything seen in its process tree while it ran."""

    process: subprocess.Popen[bytes]
    processes: dict[int, float] = field(default_factory=dict)  # pid -> create time (a reused pid is not ours)
    names: set[str] = field(default_factory=set)
    ports: set[int] = field(default_factory=set)
    temp_dirs: set[Path] = field(default_factory=set)

    def look(self) -> None:
        try:
            root = psutil.Process(self.process.pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for proc in tree:
            try:
                self.processes[proc.pid] = proc.create_time()
                self.names.add(proc.name())
                for match in TEMP_DIR.finditer(" ".join(proc.cmdline())):
                    if not BINARIES_CACHE.fullmatch(match.group(1)):
                        self.temp_dirs.add(Path(tempfile.gettempdir()) / match.group(1))
                for conn in proc.net_connections(kind="inet"):
                    if conn.status == psutil.CONN_LISTEN:
                        self.ports.add(conn.laddr.port)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue

    def left_running(self) -> list[str]:
        ours = []
        for pid, created in self.processes.items():
            try:
                proc = psutil.Process(pid)
                if proc.create_time() == created:
                    ours.append(proc)
            except psutil.NoSuchProcess:
                continue
        # a child that got EOF when its parent went (initdb's single-user server) may take a moment to exit
        _, alive = psutil.wait_procs(ours, timeout=10)
        return [f"{proc.pid} {proc.name()}" for proc in alive if proc.status() != psutil.STATUS_ZOMBIE]


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _has(*names: str) -> Callable[[Watched], bool]:
    return lambda watched: all(name in watched.names for name in names)


def run_and_stop(args: list[str], ready: Callable[[Watched], bool], signum: int, *, ignore_sigint: bool = False):
    """Start ``harness ARGS``, wait until ``ready``, send ``signum``; the Watched record once the command is gone."""

    def child_setup() -> None:
        if ignore_sigint:  # what a shell does to a command started with &
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    process = subprocess.Popen(
        [sys.executable, "-m", "harness", *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own session: the signal is for it alone, as from kill or timeout
        preexec_fn=child_setup,
    )
    watched = Watched(process)
    deadline = time.monotonic() + STARTUP_S
    try:
        while not ready(watched):
            assert process.poll() is None, f"harness {' '.join(args)} exited {process.returncode} before it was ready"
            assert time.monotonic() < deadline, f"harness {' '.join(args)} not ready; seen {sorted(watched.names)}"
            watched.look()
            time.sleep(0.1)
        watched.look()
        os.kill(process.pid, signum)
        process.wait(timeout=STARTUP_S)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return watched


def assert_nothing_left(watched: Watched, signum: int) -> None:
    # stopped through its cleanup (exit 0, or 128 + the signal), not killed by it (a negative return code)
    assert watched.process.returncode in (0, 128 + signum), watched.process.returncode
    assert watched.left_running() == []
    assert [port for port in sorted(watched.ports) if not _port_is_free(port)] == []
    assert [str(path) for path in sorted(watched.temp_dirs) if path.exists()] == []


SIGNALS = pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
needs_pgbouncer = pytest.mark.skipif(find_pgbouncer() is None, reason="pgbouncer is not installed")


@SIGNALS
@pytest.mark.parametrize("ignore_sigint", [False, True], ids=["foreground", "background"])
def test_harness_postgres_stops_its_servers(signum: int, ignore_sigint: bool) -> None:
    servers = ("postgres", "pgbouncer") if find_pgbouncer() is not None else ("postgres",)

    watched = run_and_stop(["postgres", "--max-connections", "20"], _has(*servers), signum, ignore_sigint=ignore_sigint)

    assert {"postgres"} <= watched.names
    assert watched.temp_dirs  # its data directory (and the bouncer's), now gone
    assert_nothing_left(watched, signum)


@SIGNALS
@needs_pgbouncer
def test_harness_compare_stops_postgres_pgbouncer_and_environments(signum: int, tmp_path: Path) -> None:
    args = ["compare", "--quick", "--scenario", "burst", "--strategy", "null_pgbouncer", "--output", str(tmp_path)]

    def ready(watched: Watched) -> bool:
        # the servers, and the local Lambda's environments (python processes below the harness)
        return _has("postgres", "pgbouncer")(watched) and len(watched.processes) >= 4

    watched = run_and_stop(args, ready, signum)

    assert_nothing_left(watched, signum)


@SIGNALS
@pytest.mark.parametrize(
    "args",
    [
        ["faults", "--quick", "--fault", "terminate_backends"],
        ["pitfalls", "--only", "2"],
        ["bench", "--quick", "--only", "layer"],
    ],
    ids=["faults", "pitfalls", "bench"],
)
def test_other_long_running_commands_stop_their_postgres(signum: int, args: list[str], tmp_path: Path) -> None:
    if args[0] in ("faults", "bench"):  # bench writes one page, faults a directory of results
        args = [*args, "--output", str(tmp_path / "benchmarks.md" if args[0] == "bench" else tmp_path)]

    watched = run_and_stop(args, _has("postgres"), signum)

    assert_nothing_left(watched, signum)


@SIGNALS
def test_harness_emulate_stops_its_servers(signum: int) -> None:
    args = ["emulate", "--port", "0", "--api-port", "0", "--no-view"]

    watched = run_and_stop(args, lambda watched: len(watched.ports) >= 2, signum)

    assert_nothing_left(watched, signum)

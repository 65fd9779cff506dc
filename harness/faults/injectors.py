"""The faults, one function each: what happens to a running system, done for real to the real parts.

Each injector acts on a :class:`FaultTarget` and returns when the fault has been done; the runner times the window.
"""

from __future__ import annotations

import secrets
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from harness.emulator import LocalLambda
from harness.faults.secrets_store import LabSecrets
from harness.faults.writers import WriterPool
from harness.kit.lab import FUNCTION
from harness.pgbouncer import PgBouncer
from harness.postgres import EmbeddedPostgres

__all__ = ["FAULTS", "Fault", "FaultTarget"]


@dataclass
class FaultTarget:
    server: EmbeddedPostgres
    database: str
    role: str
    lam: LocalLambda
    writers: WriterPool
    secrets: LabSecrets
    bouncer: PgBouncer | None = None
    idle_timeout_s: float | None = None


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    summary: str
    inject: Callable[[FaultTarget], str]  # returns what was done, for the report
    needs_pgbouncer: bool = False
    idle_timeout_s: float | None = None  # the server setting this fault needs


def terminate_backends(target: FaultTarget) -> str:
    killed = 0
    for _ in range(3):
        killed += target.server.terminate_backends(database=target.database)
        time.sleep(0.3)
    return f"pg_terminate_backend on every application backend, 3 times ({killed} backends)"


def restart_postgres(target: FaultTarget) -> str:
    target.server.restart("fast")
    return "Postgres fast stop and start"


def kill_environment(target: FaultTarget) -> str:
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        busy = [env for env in target.lam.environments(FUNCTION) if env.state == "busy"]
        if busy:
            target.lam.kill(busy[0].id, signal.SIGKILL)
            return f"SIGKILL to environment {busy[0].id} while it was serving a write"
        time.sleep(0.002)
    return "no environment was busy within 3 s: nothing killed"


def rotate_secret(target: FaultTarget) -> str:
    password = secrets.token_urlsafe(18)
    target.server.set_password(target.role, password)  # setSecret: the database first ...
    target.secrets.rotate(password)  # ... then finishSecret makes it AWSCURRENT
    # Warm connections outlive a rotation; cut them so every environment must sign in again with a cached old secret.
    cut = target.server.terminate_backends(database=target.database)
    return f"database password changed, then the secret's AWSCURRENT value; {cut} warm connections cut"


def freeze_past_idle_timeout(target: FaultTarget) -> str:
    assert target.idle_timeout_s is not None
    target.writers.running.clear()
    time.sleep(target.idle_timeout_s * 1.5 + 0.3)
    target.writers.running.set()
    return f"traffic paused {target.idle_timeout_s * 1.5 + 0.3:.1f}s (environments frozen) past idle_session_timeout"


def restart_pgbouncer(target: FaultTarget) -> str:
    assert target.bouncer is not None
    target.bouncer.restart()
    return "PgBouncer stopped and started"


FAULTS: dict[str, Fault] = {
    fault.name: fault
    for fault in (
        Fault(
            "terminate_backends",
            "every application backend terminated (pg_terminate_backend), 3 times",
            terminate_backends,
        ),
        Fault("restart_postgres", "Postgres restarted (fast stop, start) mid-run", restart_postgres),
        Fault("kill_environment", "an execution environment SIGKILLed in the middle of a write", kill_environment),
        Fault("rotate_secret", "the database secret rotated while environments are warm", rotate_secret),
        Fault(
            "freeze_idle_timeout",
            "environments frozen past idle_session_timeout, then thawed",
            freeze_past_idle_timeout,
            idle_timeout_s=1.0,
        ),
        Fault(
            "restart_pgbouncer",
            "PgBouncer restarted (functions in null mode through it)",
            restart_pgbouncer,
            needs_pgbouncer=True,
        ),
    )
}

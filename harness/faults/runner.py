"""Run one fault under load: a fresh stack, steady writers, the fault in the middle, then the ledger and the logs.

The window of a fault runs from the moment it is injected until ``RECOVERY_S`` after the injector returns; a request
whose attempt overlaps that window may fail (and is retried), any other failure counts against the run.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.emulator import LocalLambda
from harness.faults.injectors import Fault, FaultTarget
from harness.faults.ledger import LedgerVerdict, WriteLedger
from harness.faults.secrets_store import LabSecrets
from harness.faults.writers import Attempt, WriterPool
from harness.kit.lab import APP_ROLE, FUNCTION, LOCAL_PARAMETERS, migrate
from harness.pgbouncer import PgBouncer
from harness.postgres import EmbeddedPostgres

__all__ = ["RECOVERY_S", "FaultRun", "run_fault"]

RECOVERY_S = 1.0
DATABASE = "faults"


@dataclass(slots=True)
class FaultRun:
    fault: str
    summary: str
    done: str
    clients: int
    duration_s: float
    window_s: tuple[float, float]
    sent: int
    ok: int
    failed: int
    failed_outside_window: int
    errors: dict[str, int]
    ledger: LedgerVerdict
    secrets_in_logs: int  # occurrences of any password used in the run, in every log line the functions wrote
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.ledger.ok and self.failed_outside_window == 0 and self.secrets_in_logs == 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        return data


def _overlaps(attempt: Attempt, window: tuple[float, float]) -> bool:
    end = attempt.t_s + attempt.latency_ms / 1000
    return attempt.t_s <= window[1] and end >= window[0]


def _count_in_logs(log_dir: Path, needles: list[str]) -> int:
    found = 0
    for path in log_dir.glob("*.log"):
        text = path.read_text(errors="replace")
        found += sum(text.count(needle) for needle in needles)
    return found


def run_fault(fault: Fault, *, template: Path, clients: int, duration_s: float) -> FaultRun:
    """A fresh server (and bouncer), secret and Lambda for one fault; writers for ``duration_s``, the fault at 1/3."""
    password = secrets.token_urlsafe(18)
    with EmbeddedPostgres(max_connections=100, idle_session_timeout_s=fault.idle_timeout_s) as server:
        server.create_role(APP_ROLE, password)
        server.create_database(DATABASE, owner=APP_ROLE)
        migrate(server.url(DATABASE, user=APP_ROLE, password=password))
        bouncer = PgBouncer(server, users={APP_ROLE: password}).start() if fault.needs_pgbouncer else None
        address = (bouncer.host, bouncer.port) if bouncer else (server.host, server.port)
        with LabSecrets() as lab_secrets:
            lab_secrets.start(host=address[0], port=address[1], username=APP_ROLE, password=password, dbname=DATABASE)
            env = {
                **lab_secrets.function_env(),
                "DB_POOL_MODE": "null" if bouncer else "single",
                "DB_SSLMODE": "disable",
            }
            try:
                return _run(fault, server, bouncer, lab_secrets, env, template, clients, duration_s, password)
            finally:
                if bouncer is not None:
                    bouncer.cleanup()


def _run(
    fault: Fault,
    server: EmbeddedPostgres,
    bouncer: PgBouncer | None,
    lab_secrets: LabSecrets,
    env: dict[str, str],
    template: Path,
    clients: int,
    duration_s: float,
    password: str,
) -> FaultRun:
    ledger = WriteLedger()
    with LocalLambda.from_template(template, parameter_overrides=LOCAL_PARAMETERS, env_vars={FUNCTION: env}) as lam:
        lam.prewarm(FUNCTION, clients)
        writers = WriterPool(lam.invoke, FUNCTION, ledger, clients=clients).start()
        target = FaultTarget(
            server=server,
            database=DATABASE,
            role=APP_ROLE,
            lam=lam,
            writers=writers,
            secrets=lab_secrets,
            bouncer=bouncer,
            idle_timeout_s=fault.idle_timeout_s,
        )
        time.sleep(duration_s / 3)
        began = writers.now()
        done = fault.inject(target)
        window = (round(began, 3), round(writers.now() + RECOVERY_S, 3))
        time.sleep(max(0.0, duration_s - writers.now()))
        attempts = writers.stop()
        passwords = [password, *lab_secrets.passwords_written]
        leaked = _count_in_logs(lam.pool.log_dir(), passwords)
    verdict = ledger.verify(server, DATABASE)
    failed = [a for a in attempts if not a.ok]
    return FaultRun(
        fault=fault.name,
        summary=fault.summary,
        done=done,
        clients=clients,
        duration_s=round(writers.now(), 2),
        window_s=window,
        sent=len(attempts),
        ok=len(attempts) - len(failed),
        failed=len(failed),
        failed_outside_window=sum(1 for a in failed if not _overlaps(a, window)),
        errors=dict(Counter(a.error or "" for a in failed).most_common()),
        ledger=verdict,
        secrets_in_logs=leaked,
    )

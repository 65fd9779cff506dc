"""Pitfall 2: a connection per request exhausting the server.

Symptom
    ``psycopg2.OperationalError: connection to server ... failed: FATAL: remaining connection slots are reserved
    for roles with the SUPERUSER attribute`` (older servers: ``... for non-replication superuser connections``),
    or ``FATAL: sorry, too many clients already`` - during a traffic spike, from some invocations only.

Cause
    Every concurrent Lambda execution environment opens its own connection (here a fresh engine per request, tidily
    disposed). Lambda scales environments with traffic; Postgres does not scale ``max_connections``. Concurrency
    above the server's free slots means refused connections, whatever the pool settings inside each environment.

Fix
    A connection budget. Reuse one engine per environment (``single`` mode: exactly one connection each) *and* cap
    the environments with the function's reserved concurrency, so environments x 1 <= the budget; calls beyond it
    are throttled (429) and retried by the caller instead of hitting the database. Or put PgBouncer / RDS Proxy in
    front and use ``DB_POOL_MODE=null``: the proxy multiplexes any number of clients onto a few server connections.
"""

from __future__ import annotations

from collections.abc import Mapping

from harness.kit.monitor import ConnectionMonitor
from harness.pgbouncer import PgBouncer, find_pgbouncer
from harness.pitfalls.base import Lab, Outcome, Pitfall
from harness.pitfalls.environments import Invocations, invoke_together, local_lambda
from harness.postgres import EmbeddedPostgres

MAX_CONNECTIONS = 7  # 3 reserved for superusers, 1 for the lab's monitor: 3 slots for the application
CONCURRENCY = 6  # simultaneous invocations: twice the free slots
BUDGET = 2  # reserved concurrency = connections the function may hold (one per environment)
PROXY_POOL = 2  # PgBouncer's server connections for the whole function
EVENT = {"hold_s": 0.5}  # each invocation holds its connection this long


def _load(
    lab: Lab,
    handler: str,
    name: str,
    outcome: Outcome,
    *,
    label: str = "",
    reserved: int | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[Invocations, int]:
    """Prewarm, then fire CONCURRENCY invocations at once while watching the server; returns them and the peak."""
    with local_lambda(lab, handler, application_name=name, reserved_concurrency=reserved, env=env) as lam:
        lam.prewarm("Pitfall", CONCURRENCY if reserved is None else reserved)
        monitor = ConnectionMonitor(lab.server, database=lab.database, interval_s=0.02).start()
        try:
            done = invoke_together(lam, CONCURRENCY, EVENT, retry_throttled=reserved is not None)
        finally:
            samples = monitor.stop().samples
    done.record_errors(outcome)
    peak = max((sample.app for sample in samples), default=0)
    outcome.measure(**{f"{label}invocations ok": f"{len(done.results) - len(done.failed)}/{CONCURRENCY}"})
    outcome.measure(**{f"{label}peak server connections": peak})
    return done, peak


def reproduce(lab: Lab) -> Outcome:
    outcome = Outcome()
    outcome.measure(max_connections=MAX_CONNECTIONS, concurrent_invocations=CONCURRENCY)
    _load(lab, "connection_per_request", "p2-before", outcome)
    return outcome


def fixed(lab: Lab) -> Outcome:
    outcome = Outcome()
    outcome.measure(max_connections=MAX_CONNECTIONS, concurrent_invocations=CONCURRENCY)
    done, peak = _load(lab, "reused_engine", "p2-budget", outcome, reserved=BUDGET)
    outcome.measure(**{"throttled (429) then retried": done.throttles})
    outcome.check(f"every invocation served within a budget of {BUDGET}", not done.failed)
    outcome.check(f"server connections never above the budget ({BUDGET})", peak <= BUDGET)
    if find_pgbouncer() is None or not isinstance(lab.server, EmbeddedPostgres):
        outcome.measure(**{"behind PgBouncer": "skipped: pgbouncer is not installed"})
        return outcome
    with PgBouncer(lab.server, users={lab.user: lab.password}, default_pool_size=PROXY_POOL) as bouncer:
        env = {"DATABASE_URL": bouncer.url(lab.database, user=lab.user, password=lab.password)}
        env["DB_POOL_MODE"] = "null"
        done, peak = _load(lab, "reused_engine", "p2-pgbouncer", outcome, label="behind PgBouncer: ", env=env)
    outcome.check("behind PgBouncer: every invocation served", not done.failed)
    outcome.check(f"behind PgBouncer: at most its pool ({PROXY_POOL}) server connections", peak <= PROXY_POOL)
    return outcome


PITFALL = Pitfall(
    number=2,
    slug="connection-per-request",
    title="Connection per request exhausting the server",
    symptoms=(r"too many clients already|remaining connection slots are reserved",),
    cause="each concurrent execution environment opens its own connection; Lambda scales environments, "
    "Postgres does not scale max_connections",
    fix="one reused engine per environment + reserved concurrency as the connection budget (excess calls are "
    "throttled and retried), or PgBouncer / RDS Proxy with DB_POOL_MODE=null",
    reproduce=reproduce,
    fixed=fixed,
    server={"max_connections": MAX_CONNECTIONS},
)

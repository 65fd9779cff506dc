"""Pitfall 3: fork after connect (``gunicorn --preload``, or ``multiprocessing`` inside a Lambda handler).

Symptom
    ``sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) server closed the connection unexpectedly``,
    intermittently, in the parent or in another worker; or two processes reading each other's results.

Cause
    A pooled connection is a socket. ``fork()`` copies the pool *and* the socket: parent and child now talk to one
    server backend (the same ``pg_backend_pid()``). When one of them closes it (a worker exits and disposes its
    engine), the server ends that backend and the other process finds the connection dead on its next query.

Fix
    The layer's fork guard: the pool records the pid that opened each connection and refuses, at checkout, one
    opened by another process; a forked child also drops the inherited pool without closing its sockets
    (``engine.dispose(close=False)``). Each process then has its own backend pid, and closing one touches no other.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection as Pipe

import sqlalchemy as sa

from harness.pitfalls.base import Lab, Outcome, Pitfall, exception_text
from lambda_db import Database, DatabaseConfig

CHILDREN = 2
BACKEND_PID = sa.text("SELECT pg_backend_pid()")


def _child_uses_pool_then_exits(engine: sa.Engine, pipe: Pipe) -> None:
    """BAD in the reproduction: the child reuses the pool it inherited, then disposes it on its way out."""
    try:
        with engine.connect() as conn:
            pipe.send(("pid", int(conn.execute(BACKEND_PID).scalar_one())))
    except Exception as exc:  # noqa: BLE001 - the child reports whatever it saw to the parent
        pipe.send(("error", exception_text(exc)))
    finally:
        engine.dispose()  # a worker shutting down cleanly: closes every pooled connection it *thinks* it owns


def _fork_children(engine: sa.Engine, outcome: Outcome) -> list[int]:
    """Fork the workers one after the other (as a pre-forking server does); return the backend pids they saw."""
    context = multiprocessing.get_context("fork")
    pids = []
    for _ in range(CHILDREN):
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_child_uses_pool_then_exits, args=(engine, sender))
        child.start()
        kind, value = receiver.recv()
        child.join()
        if kind == "pid":
            pids.append(int(value))
        else:
            outcome.record_text(str(value))
    return pids


def _run(engine: sa.Engine, outcome: Outcome) -> tuple[int, list[int], int | None]:
    with engine.connect() as conn:  # the parent connects before forking (module import under --preload)
        parent_pid = int(conn.execute(BACKEND_PID).scalar_one())
    children = _fork_children(engine, outcome)
    after: int | None = None
    try:
        with engine.connect() as conn:
            after = int(conn.execute(BACKEND_PID).scalar_one())
    except sa.exc.DBAPIError as exc:
        outcome.record(exc)
    outcome.measure(
        parent_backend_pid=parent_pid,
        children_backend_pids=", ".join(map(str, children)) or "(none)",
        parent_backend_pid_after=after if after is not None else "(error)",
    )
    return parent_pid, children, after


def reproduce(lab: Lab) -> Outcome:
    outcome = Outcome()
    engine = sa.create_engine(lab.url("p3-before"))
    try:
        _run(engine, outcome)
    finally:
        engine.dispose()
    return outcome


def fixed(lab: Lab) -> Outcome:
    outcome = Outcome()
    db = Database(DatabaseConfig(url=lab.url(), pool_mode="single", application_name="p3-after"))  # guard on
    try:
        parent, children, after = _run(db.engine, outcome)
        outcome.check("every process had its own backend pid", len({parent, *children}) == 1 + CHILDREN)
        outcome.check("the parent's connection survived the children", after == parent)
        outcome.check("one server connection left (the parent's)", lab.settled_connections("p3-after") == 1)
    finally:
        db.dispose()
    return outcome


PITFALL = Pitfall(
    number=3,
    slug="fork-after-connect",
    title="Fork after connect (gunicorn --preload, multiprocessing in a handler)",
    symptoms=(r"server closed the connection unexpectedly",),
    cause="fork() copies the pool and its sockets: parent and child share one backend, and when one side closes "
    "it the other's next query fails",
    fix="the fork guard: pid check at checkout and dispose(close=False) in the child; each process opens its own",
    reproduce=reproduce,
    fixed=fixed,
)

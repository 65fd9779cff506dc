"""Pitfall 7: an engine created inside the handler and never disposed (the serverless "common mistake").

Symptom
    The count of idle connections in ``pg_stat_activity`` climbs with every warm invocation, until new ones are
    refused: ``FATAL: remaining connection slots are reserved ...`` / ``sorry, too many clients already``.

Cause
    ``create_engine()`` in the handler builds a new pool per invocation; its connection goes back to *that* pool,
    which nobody will use again. SQLAlchemy's engine sits in reference cycles, so CPython frees it (and closes the
    socket) only when the cyclic garbage collector happens to run - and a frozen environment runs nothing. Each
    warm environment therefore holds a growing, unpredictable number of idle connections.

Fix
    Build the engine at module scope, once per execution environment (``db = get_database()`` next to the
    imports): every warm invocation reuses its one connection, so the count stays at one per environment.
"""

from __future__ import annotations

from harness.pitfalls.base import Lab, Outcome, Pitfall
from harness.pitfalls.environments import invoke_together, local_lambda

MAX_CONNECTIONS = 9  # 3 reserved for superusers: 6 slots for the application
ENVIRONMENTS = 3
ROUNDS = 6  # warm invocations per environment
EVENT = {"hold_s": 0.1}  # long enough that the round's invocations overlap, one per environment


def _rounds(lab: Lab, handler: str, name: str, outcome: Outcome) -> list[int]:
    """ROUNDS rounds of one invocation per warm environment; the server's connection count after each."""
    counts: list[int] = []
    with local_lambda(lab, handler, application_name=name) as lam:
        lam.prewarm("Pitfall", ENVIRONMENTS)
        for _ in range(ROUNDS):
            done = invoke_together(lam, ENVIRONMENTS, EVENT)
            counts.append(lab.connections(name))
            done.record_errors(outcome)
            if done.failed:
                break  # the server is refusing: the point is made
    outcome.measure(environments=ENVIRONMENTS, max_connections=MAX_CONNECTIONS)
    outcome.measure(**{"server connections after each round": " ".join(map(str, counts))})
    return counts


def reproduce(lab: Lab) -> Outcome:
    outcome = Outcome()
    _rounds(lab, "engine_in_handler", "p7-before", outcome)
    return outcome


def fixed(lab: Lab) -> Outcome:
    outcome = Outcome()
    counts = _rounds(lab, "reused_engine", "p7-after", outcome)
    outcome.check(f"all {ROUNDS} rounds served", len(counts) == ROUNDS)
    outcome.check("one connection per environment after every round", set(counts) == {ENVIRONMENTS})
    return outcome


PITFALL = Pitfall(
    number=7,
    slug="engine-in-handler",
    title="Engine created inside the handler without dispose",
    symptoms=(r"too many clients already|remaining connection slots are reserved",),
    cause="a new engine (and pool) per invocation; its connection stays open in an unreachable pool until the "
    "garbage collector runs, and frozen environments run nothing",
    fix="build the engine once per environment at module scope (`db = get_database()`); warm invocations reuse it",
    reproduce=reproduce,
    fixed=fixed,
    server={"max_connections": MAX_CONNECTIONS},
)

"""Nothing the functions send at run time would pin a session to one database connection behind RDS Proxy.

RDS Proxy multiplexes client sessions over fewer database connections between transactions, unless a session does
something that leaves state on its connection; then the proxy pins it there until the client disconnects, and a
pinned session is a database connection again, which is the budget the proxy was there to save. AWS lists what
pins for PostgreSQL ("Avoiding pinning an RDS Proxy", RDS User Guide): ``SET`` commands and ``set_config``,
prepared statements (``PREPARE`` / ``EXECUTE`` / ``DEALLOCATE``) and the extended query protocol, temporary tables,
sequences or views, ``DECLARE`` cursors, ``DISCARD``, ``LISTEN``, ``LOAD``, ``nextval`` / ``setval``, and the
advisory-lock functions. psycopg2 speaks the simple query protocol only, so the statement text is the whole story:
these tests send every event in ``events/`` through the functions with ``log_statement = 'all'`` and check each
statement the server logged against that list.

The migrate function is left out on purpose: it takes ``pg_advisory_xact_lock`` so that two deploys cannot migrate
at once, and runs once per deploy, where a pinned session costs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import pytest

from harness.postgres import EmbeddedPostgres
from tests.conftest import TestDatabase
from tests.integration.functions.conftest import EVENTS, Function

# What AWS documents as pinning for PostgreSQL, as patterns over one logged statement (which may hold several).
PINNING = {
    "SET / RESET": re.compile(r"(^|;)\s*(SET|RESET)\s", re.IGNORECASE),
    "set_config": re.compile(r"\bset_config\s*\(", re.IGNORECASE),
    "prepared statement": re.compile(r"(^|;)\s*(PREPARE|EXECUTE|DEALLOCATE)\s", re.IGNORECASE),
    "temporary object": re.compile(r"\bCREATE\s+(GLOBAL\s+|LOCAL\s+)?(TEMP|TEMPORARY)\s", re.IGNORECASE),
    "cursor": re.compile(r"\bDECLARE\s+\S+\s+.*\bCURSOR\b", re.IGNORECASE | re.DOTALL),
    "DISCARD": re.compile(r"(^|;)\s*DISCARD\s", re.IGNORECASE),
    "LISTEN": re.compile(r"(^|;)\s*LISTEN\s", re.IGNORECASE),
    "LOAD": re.compile(r"(^|;)\s*LOAD\s", re.IGNORECASE),
    "sequence function": re.compile(r"\b(nextval|setval)\s*\(", re.IGNORECASE),
    "advisory lock": re.compile(r"\bpg_(try_)?advisory_(xact_)?lock(_shared)?\s*\(", re.IGNORECASE),
}


def pinning(statements: Iterable[str]) -> list[tuple[str, str]]:
    """``(condition, statement)`` for every statement that matches a documented pinning condition."""
    return [(name, sql) for sql in statements for name, pattern in PINNING.items() if pattern.search(sql)]


@pytest.mark.parametrize(
    ("statement", "condition"),
    [
        ("SET search_path TO app", "SET / RESET"),
        ("BEGIN;SET LOCAL statement_timeout = 5", "SET / RESET"),
        ("SELECT set_config('app.tenant', '7', true)", "set_config"),
        ("PREPARE q AS SELECT 1", "prepared statement"),
        ("CREATE TEMP TABLE t (id int)", "temporary object"),
        ('DECLARE "c_1" CURSOR WITHOUT HOLD FOR SELECT 1', "cursor"),
        ("DISCARD ALL", "DISCARD"),
        ("LISTEN jobs", "LISTEN"),
        ("SELECT nextval('items_id_seq')", "sequence function"),
        ("SELECT pg_advisory_xact_lock(42)", "advisory lock"),
    ],
)
def test_the_check_flags_each_documented_condition(statement: str, condition: str) -> None:
    assert pinning([statement]) == [(condition, statement)]


def test_the_check_passes_what_the_layer_sends() -> None:
    sent = [
        "BEGIN;INSERT INTO items (name, quantity) VALUES ('a', 1) RETURNING items.id",
        "SELECT items.id, items.name FROM items WHERE items.id = 1",
        "COMMIT",
        "select pg_catalog.version()",
        "show standard_conforming_strings",
    ]
    assert pinning(sent) == []


@pytest.mark.parametrize("pool_mode", ["null", "single"])
def test_no_event_makes_a_function_send_a_pinning_statement(
    load_function: Callable[..., Function], migrated: TestDatabase, pool_mode: str
) -> None:
    """GIVEN the statement log on WHEN every items, ingest and janitor event runs THEN nothing the proxy pins for."""
    server = migrated.server
    if not isinstance(server, EmbeddedPostgres):
        pytest.skip("reads the embedded server's statement log")
    server.execute(f"ALTER DATABASE \"{migrated.name}\" SET log_statement = 'all'")
    functions = {name: load_function(name, pool_mode=pool_mode) for name in ("items", "ingest", "janitor")}
    for name, function in functions.items():
        for event in sorted(EVENTS.glob(f"{name}_*.json")):
            function.invoke(event.stem)
    statements = server.logged_statements(applications=[function.application_name for function in functions.values()])
    assert len(statements) > 20  # the log was on and every function reached the database
    assert any(sql.startswith("BEGIN;INSERT INTO items") for sql in statements)
    assert pinning(statements) == []

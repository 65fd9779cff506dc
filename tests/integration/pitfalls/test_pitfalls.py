"""Each pitfall happens for real with the bad configuration, and does not happen with the fix.

GIVEN the bad configuration, THEN the words a user searches for appear; GIVEN the fix under the same load, THEN no
error, and the connections counted in pg_stat_activity are what the fix promises.
"""

from __future__ import annotations

import re

import pytest

from harness.pgbouncer import find_pgbouncer
from harness.pitfalls import (
    p1_leaked_sessions,
    p2_connection_per_request,
    p3_fork_after_connect,
    p4_shared_session_threads,
    p5_stale_connection,
    p6_recycle_and_slow_query,
    p7_engine_in_handler,
    p8_pool_options_null_pool,
)
from harness.pitfalls.base import Lab, Outcome
from harness.pitfalls.runner import PitfallResult, run_pitfall


def seen(outcome: Outcome, pattern: str) -> bool:
    return any(re.search(pattern, text) for text in outcome.errors)


def assert_passed(result: PitfallResult) -> None:
    assert result.crashed is None
    assert result.reproduced, result.before.errors
    assert result.after.errors == []
    assert result.fix_held, result.after.checks


def test_leaked_sessions_exhaust_the_pool_and_the_session_scope_keeps_it_idle(shared: Lab) -> None:
    result = run_pitfall(p1_leaked_sessions.PITFALL, shared)

    assert seen(result.before, r"QueuePool limit of size 5 overflow 10 reached, connection timed out")
    assert result.before.measures["checked_out"] == 15
    assert result.before.measures["server_connections"] == 15
    assert_passed(result)
    assert result.after.measures["checked_out"] == 0
    assert result.after.measures["server_connections"] == 1


@pytest.mark.slow  # starts 14 Lambda execution environments
def test_connection_per_request_is_refused_and_a_budget_or_pgbouncer_is_not(shared: Lab) -> None:
    result = run_pitfall(p2_connection_per_request.PITFALL, shared)

    all_ok = f"{p2_connection_per_request.CONCURRENCY}/{p2_connection_per_request.CONCURRENCY}"
    assert seen(result.before, r"too many clients already|remaining connection slots are reserved")
    assert result.before.measures["invocations ok"] != all_ok
    assert_passed(result)
    assert result.after.measures["invocations ok"] == all_ok
    assert int(result.after.measures["peak server connections"]) <= p2_connection_per_request.BUDGET
    if find_pgbouncer() is not None:
        assert result.after.measures["behind PgBouncer: invocations ok"] == all_ok
        peak = int(result.after.measures["behind PgBouncer: peak server connections"])
        assert peak <= p2_connection_per_request.PROXY_POOL


def test_fork_after_connect_shares_a_backend_and_the_guard_gives_each_process_its_own(shared: Lab) -> None:
    result = run_pitfall(p3_fork_after_connect.PITFALL, shared)

    before = result.before.measures
    assert seen(result.before, r"server closed the connection unexpectedly")
    assert str(before["children_backend_pids"]) == str(before["parent_backend_pid"])  # one backend, two processes
    assert_passed(result)
    after = result.after.measures
    children = {int(pid) for pid in str(after["children_backend_pids"]).split(", ")}
    assert len(children) == 2
    assert after["parent_backend_pid"] not in children
    assert after["parent_backend_pid_after"] == after["parent_backend_pid"]


def test_a_session_shared_by_threads_races_and_a_session_per_task_does_not(shared: Lab) -> None:
    result = run_pitfall(p4_shared_session_threads.PITFALL, shared)

    total = p4_shared_session_threads.THREADS * p4_shared_session_threads.INSERTS_PER_THREAD
    assert result.before.errors  # errors or wrong results: the race happened
    assert_passed(result)
    assert result.after.measures["rows_in_table"] == total
    assert int(result.after.measures["server_connections"]) <= p4_shared_session_threads.POOL_SIZE


@pytest.mark.slow  # restarts the server and runs a Lambda environment through a freeze
def test_connections_killed_while_idle_fail_the_next_query_unless_pinged(shared: Lab) -> None:
    result = run_pitfall(p5_stale_connection.PITFALL, shared)

    assert seen(result.before, r"server closed the connection unexpectedly")
    # idle timeout, pg_terminate_backend, restart and a frozen Lambda environment: each fails
    assert sum(result.before.error_counts.values()) == 4
    assert_passed(result)
    for cause in ("idle_session_timeout", "pg_terminate_backend", "server restart", "frozen Lambda environment"):
        old, new = str(result.after.measures[f"{cause}: backend pid"]).split(" -> ")
        assert old != new  # replaced, not reused


def test_recycle_past_the_idle_timeout_and_an_unbounded_slow_query_fail_and_the_template_settings_do_not(
    shared: Lab,
) -> None:
    result = run_pitfall(p6_recycle_and_slow_query.PITFALL, shared)

    assert seen(result.before, r"server closed the connection unexpectedly")
    assert seen(result.before, r"QueuePool limit of size 1 overflow 0 reached")
    assert_passed(result)
    assert "canceling statement due to statement timeout" in str(result.after.measures["(b) slow query"])
    assert result.after.measures["(b) request behind the slow query"] == "served"


@pytest.mark.slow  # starts 6 Lambda execution environments
def test_engine_in_handler_leaks_connections_across_warm_invocations_and_module_scope_does_not(shared: Lab) -> None:
    result = run_pitfall(p7_engine_in_handler.PITFALL, shared)

    counts = [int(n) for n in str(result.before.measures["server connections after each round"]).split()]
    assert seen(result.before, r"too many clients already|remaining connection slots are reserved")
    assert max(counts) > p7_engine_in_handler.ENVIRONMENTS  # more connections than environments: the leak
    assert_passed(result)
    after = str(result.after.measures["server connections after each round"]).split()
    assert after == [str(p7_engine_in_handler.ENVIRONMENTS)] * p7_engine_in_handler.ROUNDS


def test_pool_size_with_null_pool_is_a_type_error_and_the_layer_names_the_variable(shared: Lab) -> None:
    result = run_pitfall(p8_pool_options_null_pool.PITFALL, shared)

    assert seen(result.before, r"Invalid argument\(s\) 'pool_size'")
    assert_passed(result)
    message = str(result.after.measures["rejected_with"])
    assert "DB_POOL_SIZE=5" in message
    assert "DB_POOL_MODE=null" in message
    assert result.after.measures["server_connections_held_between_queries"] == 0

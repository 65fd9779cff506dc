"""single mode's lease: the connection stays checked out between scopes, and nothing that used the pool notices."""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from tests.integration.lambda_db.conftest import MakeDatabase

PID_SQL = text("SELECT pg_backend_pid()")


def test_an_engine_saved_before_gets_the_parked_connection_at_once(make_database: MakeDatabase) -> None:
    db = make_database(pool_mode="single", pool_timeout_s=30)
    engine = db.engine  # saved at module scope, as some handlers do
    with db.read() as conn:
        parked = conn.execute(PID_SQL).scalar_one()  # this scope parks its connection when it ends
    with engine.connect() as conn:  # would wait the 30 s pool timeout if the lease kept it
        assert conn.execute(PID_SQL).scalar_one() == parked
    with db.read() as conn:
        assert conn.execute(PID_SQL).scalar_one() == parked
    assert db.get_stats()["connections_opened_num"] == 1


def test_an_isolation_level_set_in_a_scope_does_not_reach_the_next(make_database: MakeDatabase) -> None:
    db = make_database(pool_mode="single")
    with db.read() as conn:
        conn.execution_options(isolation_level="SERIALIZABLE")  # before its first statement, as SQLAlchemy requires
        assert conn.execute(text("SHOW transaction_isolation")).scalar_one() == "serializable"
    with db.connect() as conn:  # the pool reset it on return: that connection was not parked
        assert conn.execute(text("SHOW transaction_isolation")).scalar_one() == "read committed"


def test_a_failed_scope_returns_its_connection_to_the_pool(make_database: MakeDatabase) -> None:
    db = make_database(pool_mode="single")
    try:
        with db.connect() as conn:
            conn.execute(text("SELECT 1/0"))
    except Exception:
        pass
    assert db.pool_status()["checked_out"] == 0
    with db.read() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1


def test_another_thread_gets_the_connection_when_the_scope_ends_not_at_the_pool_timeout(
    make_database: MakeDatabase,
) -> None:
    """As a ``QueuePool(1, 0)`` would: the scope running when another thread asks returns its connection on exit."""
    db = make_database(pool_mode="single", pool_timeout_s=20)
    got: list[object] = []

    def other_thread() -> None:
        try:
            with db.engine.connect() as conn:
                got.append(conn.execute(PID_SQL).scalar_one())
        except Exception as error:  # the assertion below names it
            got.append(error)

    with db.read() as conn:
        pid = conn.execute(PID_SQL).scalar_one()
        thread = threading.Thread(target=other_thread)
        thread.start()
        lease = db._lease  # to wait until the other thread is inside the pool's wait, rather than sleeping
        assert lease is not None
        while not lease.waiting() and thread.is_alive():
            time.sleep(0.001)
    thread.join()  # with the connection parked instead, it would end in a PoolTimeoutError after 20 s
    assert got == [pid]
    with db.read() as conn:  # and the main thread's next scope has it again
        assert conn.execute(PID_SQL).scalar_one() == pid

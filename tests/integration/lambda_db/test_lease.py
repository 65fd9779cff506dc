"""single mode's lease: the connection stays checked out between scopes, and nothing that used the pool notices."""

from __future__ import annotations

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

"""The lab's own Postgres: started by the project, counted through pg_stat_activity, restartable."""

from __future__ import annotations

import psycopg2
import pytest
import sqlalchemy as sa

from harness.pgbouncer import PgBouncer
from harness.postgres import EmbeddedPostgres
from tests.conftest import TestDatabase


def test_app_role_connects_with_its_password_and_is_counted(database: TestDatabase) -> None:
    engine = sa.create_engine(database.url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT current_user")).scalar() == "app"
        assert database.connections() == 1
    engine.dispose()
    assert database.connections() == 0


def test_wrong_password_is_refused(database: TestDatabase) -> None:
    url = database.server.url(database.name, user="app", password="not-the-password")
    with pytest.raises(sa.exc.OperationalError, match="password authentication failed"):
        sa.create_engine(url).connect()


def test_small_max_connections_reproduces_too_many_clients() -> None:
    with EmbeddedPostgres(max_connections=5) as pg:
        pg.create_role("app", "pw")
        held = [
            psycopg2.connect(host=pg.host, port=pg.port, user="app", password="pw", dbname="postgres") for _ in range(2)
        ]
        with pytest.raises(psycopg2.OperationalError, match="remaining connection slots are reserved"):
            psycopg2.connect(host=pg.host, port=pg.port, user="app", password="pw", dbname="postgres")
        # the first max_connections - superuser_reserved_connections (3) got in
        assert len(held) == 2
        for conn in held:
            conn.close()


def test_restart_cuts_existing_connections_and_accepts_new_ones() -> None:
    with EmbeddedPostgres(max_connections=10) as pg:
        conn = psycopg2.connect(pg.dsn())
        pg.restart()
        with pytest.raises(psycopg2.OperationalError), conn.cursor() as cur:
            cur.execute("SELECT 1")
        assert pg.execute("SELECT 1") == [(1,)]


@pytest.mark.pgbouncer
def test_pgbouncer_multiplexes_clients_onto_its_pool(pgbouncer: PgBouncer, database: TestDatabase) -> None:
    engine = sa.create_engine(
        pgbouncer.url(database.name, user="app", password=database.password), poolclass=sa.pool.NullPool
    )
    clients = [engine.connect() for _ in range(8)]
    try:
        for conn in clients:
            conn.execute(sa.text("SELECT 1"))
            conn.commit()
        # eight clients, but transaction pooling needs at most the bouncer's pool on the server
        assert 1 <= database.connections() <= pgbouncer.default_pool_size
    finally:
        for conn in clients:
            conn.close()

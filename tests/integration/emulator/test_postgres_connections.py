"""What the database sees: connections opened at init stay, idle, through freezes, and vanish on reclaim."""

from __future__ import annotations

import threading

from tests.integration.emulator.conftest import in_background, spec, wait_until

APP = "emulator-test"


def test_connection_opened_at_init_is_reused_and_sits_idle_while_frozen(make_lambda, database):
    lam = make_lambda(spec("Db", "db.handler", env={"DATABASE_URL": database.url, "APP_NAME": APP}))

    first = lam.invoke("Db")
    second = lam.invoke("Db")

    assert first.function_error is None
    assert first.payload["backend_pid"] == second.payload["backend_pid"]
    assert wait_until(lambda: [env.state for env in lam.environments()] == ["frozen"])
    assert database.connections(APP) == 1
    states = database.server.execute(
        "SELECT state FROM pg_stat_activity WHERE datname = %s AND application_name = %s", database.name, APP
    )
    assert [row[0] for row in states] == ["idle"]


def test_each_concurrent_environment_holds_its_own_connection(make_lambda, database):
    lam = make_lambda(spec("Db", "db.handler", timeout_s=10, env={"DATABASE_URL": database.url, "APP_NAME": APP}))
    barrier = threading.Barrier(4)

    def call():
        barrier.wait()
        return lam.invoke("Db", {"sleep": 0.5})

    runs = [in_background(call) for _ in range(4)]
    for thread, _ in runs:
        thread.join()

    assert len({box[0].payload["backend_pid"] for _, box in runs}) == 4
    assert database.connections(APP) == 4


def test_reclaimed_environments_connections_vanish(make_lambda, database):
    lam = make_lambda(spec("Db", "db.handler", env={"DATABASE_URL": database.url, "APP_NAME": APP}))
    lam.prewarm("Db", 3)
    assert database.connections(APP) == 3

    assert lam.reclaim_idle(0) == 3

    assert wait_until(lambda: database.connections(APP) == 0)
    assert lam.environments() == []


def test_timed_out_environments_connection_vanishes(make_lambda, database):
    lam = make_lambda(spec("Db", "db.handler", timeout_s=0.5, env={"DATABASE_URL": database.url, "APP_NAME": APP}))

    result = lam.invoke("Db", {"sleep": 30})

    assert result.payload["errorType"] == "Sandbox.Timedout"
    assert wait_until(lambda: database.connections(APP) == 0)

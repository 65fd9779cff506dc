"""The template's SQS mapping runs IngestFunction from a real SQS API (moto's server) on a real Postgres.

Exactly-once is read from the table (one ``ingested_messages`` row and one item per good message), poison messages
from the dead-letter queue, and the connection cap from ``pg_stat_activity`` sampled while the queue drains.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from app_model import migrate
from harness.emulator import EventSourceOptions, LocalLambda
from harness.kit.lab import LOCAL_PARAMETERS
from tests.conftest import TestDatabase
from tests.integration.emulator.conftest import wait_until

TEMPLATE = Path(__file__).parents[3] / "template.yaml"
MAX_CONCURRENCY = 5  # the template's IngestFunction mapping at ConnectionBudget=25 (its default)


@pytest.fixture
def migrated(database: TestDatabase) -> TestDatabase:
    engine = create_engine(database.url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    return database


def _ingest_lambda(database: TestDatabase, *, serve: bool = False, **options: Any) -> LocalLambda:
    env = {"DATABASE_URL": database.url, "DB_SECRET_ARN": "", "DB_SSLMODE": "disable", "DB_POOL_MODE": "single"}
    return LocalLambda.from_template(
        TEMPLATE,
        parameter_overrides=LOCAL_PARAMETERS,
        env_vars={"IngestFunction": env},
        # Longer than a warm batch takes (tens of ms), short enough for a poison message's five receives.
        event_source_options=EventSourceOptions(visibility_timeout_s=2, **options),
        serve=serve,
    )


class PeakConnections:
    """Samples the database's client backends in a thread while the queue drains."""

    def __init__(self, database: TestDatabase) -> None:
        self.database = database
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self.database.connections())

    def __enter__(self) -> PeakConnections:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _send(lam: LocalLambda, bodies: list[str]) -> None:
    sqs = lam.sqs_client()
    url = lam.queue_url("IngestQueue")
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + 10])]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def _dead_letters(lam: LocalLambda) -> list[str]:
    sqs = lam.sqs_client()
    url = lam.queue_url("IngestDeadLetterQueue")
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
        if not messages:
            return bodies
        bodies += [message["Body"] for message in messages]


def _depth(lam: LocalLambda, queue: str) -> int:
    """Messages in ``queue``, visible or in flight."""
    attributes = lam.sqs_client().get_queue_attributes(
        QueueUrl=lam.queue_url(queue),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def _drained(lam: LocalLambda, dead: int) -> bool:
    return _depth(lam, "IngestQueue") == 0 and _depth(lam, "IngestDeadLetterQueue") == dead


def _mapping(lam: LocalLambda) -> dict[str, Any]:
    (stats,) = lam.event_source_stats()["sqs"]
    return stats


def _good(count: int) -> list[str]:
    return [
        json.dumps({"item": {"name": f"part {n}", "quantity": n}, "idempotency_key": f"k-{n}"}) for n in range(count)
    ]


@pytest.fixture
def lam_factory() -> Iterator[Any]:
    started: list[LocalLambda] = []

    def make(database: TestDatabase, **options: Any) -> LocalLambda:
        lam = _ingest_lambda(database, **options).start()
        started.append(lam)
        return lam

    yield make
    for lam in started:
        lam.stop()


def test_backlog_is_ingested_exactly_once_poison_reaches_the_dlq_and_connections_stay_under_the_cap(
    migrated, lam_factory
):
    lam = lam_factory(migrated)
    lam.prewarm("IngestFunction", MAX_CONCURRENCY)  # a cold start longer than the visibility timeout would redeliver
    poison = ["not json", '{"item": {"name": ""}}', '{"item": {"name": "x"}, "extra": 1}']
    with PeakConnections(migrated) as connections:
        _send(lam, _good(60) + poison)
        assert wait_until(lambda: _drained(lam, dead=3), 120)  # SQS moves them on the receive after their last
        dead = _dead_letters(lam)

    rows = migrated.server.execute(
        "SELECT count(*), count(DISTINCT message_key), count(item_id) FROM ingested_messages", database=migrated.name
    )
    items = migrated.server.execute("SELECT count(*) FROM items", database=migrated.name)
    assert rows == [(60, 60, 60)]
    assert items == [(60,)]
    assert sorted(dead) == sorted(poison)
    assert 1 <= connections.peak <= MAX_CONCURRENCY
    stats = _mapping(lam)
    assert stats["succeeded"] >= 60  # deliveries: a message redelivered while in flight counts again
    assert stats["dead_lettered"] >= 3
    assert stats["retried"] >= 3 * 4  # each poison message failed maxReceiveCount (5) times, the last one fatal
    assert stats["in_flight"] == 0
    assert stats["peak_busy_pollers"] <= MAX_CONCURRENCY
    assert len(lam.environments("IngestFunction")) <= MAX_CONCURRENCY


def test_throttled_batches_go_back_to_the_queue_and_are_not_lost(migrated, lam_factory):
    lam = lam_factory(migrated)
    lam.set_reserved_concurrency("IngestFunction", 1)  # below the mapping's MaximumConcurrency: pollers get throttled
    with PeakConnections(migrated) as connections:
        _send(lam, _good(80))
        assert wait_until(lambda: _depth(lam, "IngestQueue") == 0 and _mapping(lam)["in_flight"] == 0, 120)

    # Each throttled receive counts towards maxReceiveCount, as on Lambda: a message throttled five times is
    # redriven, never dropped. Every message is in the table exactly once or in the dead-letter queue.
    rows = migrated.server.execute(
        "SELECT count(*), count(DISTINCT message_key) FROM ingested_messages", database=migrated.name
    )
    (ingested, distinct), dead = rows[0], _dead_letters(lam)
    assert ingested == distinct
    assert ingested + len(dead) == 80
    assert {"key:" + json.loads(body)["idempotency_key"] for body in dead}.isdisjoint(
        key for (key,) in migrated.server.execute("SELECT message_key FROM ingested_messages", database=migrated.name)
    )
    assert connections.peak == 1
    assert _mapping(lam)["throttled"] > 0


def test_environments_route_shows_the_mapping_figures(migrated, lam_factory):
    lam = lam_factory(migrated, serve=True)
    _send(lam, _good(5))
    assert wait_until(lambda: _drained(lam, dead=0) and _mapping(lam)["in_flight"] == 0, 60)

    with urllib.request.urlopen(f"{lam.invoke_api_url}/_emulator/environments") as response:
        listed = json.loads(response.read())

    (stats,) = listed["event_sources"]["sqs"]
    assert [env["function"] for env in listed["environments"]] == ["IngestFunction"]
    assert [s["schedule"] for s in listed["event_sources"]["schedules"]] == ["JanitorFunction.Hourly"]
    assert stats["mapping"] == "IngestFunction.Queue"
    assert stats["succeeded"] >= 5
    assert stats["max_concurrency"] == MAX_CONCURRENCY
    assert stats["batch_size"] == 10
    assert stats["in_flight"] == 0

"""Property: a malformed SQS message fails alone (its id in ``batchItemFailures``) and writes nothing; the good
message in the same batch is written once. An event that is not an SQS batch is an error that says so."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app_model import InvalidInputError
from harness.kit.lambda_context import LambdaContext
from tests.conftest import TestDatabase
from tests.integration.bad_input import strategies as bad
from tests.integration.functions.conftest import Function, load_event

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def bad_messages(draw: st.DrawFn) -> str:
    """A message body the worker must refuse: a bad item, or a bad envelope around a good one."""
    how = draw(st.sampled_from(["bad_item", "not_json", "not_object", "no_item", "extra", "bad_key"]))
    if how == "bad_item":
        return json.dumps({"item": json.loads(draw(bad.bad_item_bodies().filter(_is_json)))})
    if how == "not_json":
        return draw((st.text(max_size=100) | bad.sql_text).filter(lambda text: not _is_json(text)))
    if how == "not_object":
        return json.dumps(draw(bad.json_values.filter(lambda value: not isinstance(value, dict))))
    if how == "no_item":
        return json.dumps({"idempotency_key": "k"})
    if how == "extra":
        extra = draw(
            st.dictionaries(
                bad.any_text.filter(lambda k: k not in ("item", "idempotency_key")), bad.json_values, min_size=1
            )
        )
        return json.dumps({"item": {"name": "x"}, **extra})
    key = draw(
        st.just("")
        | bad.not_a_string.filter(lambda v: v is not None)
        | st.text(min_size=256, max_size=300)
        | st.just("k\x00")
    )
    return json.dumps({"item": {"name": "x"}, "idempotency_key": key})


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


class Worker:
    """The ingest function and its database (a plain class: hypothesis prints dataclass fields, password included)."""

    def __init__(self, function: Function, database: TestDatabase) -> None:
        self.function = function
        self.database = database

    def __call__(self, event: Any) -> Any:
        return self.function.module.lambda_handler(event, LambdaContext("IngestFunction"))

    def items(self) -> list[str]:
        rows = self.database.server.execute("SELECT name FROM items ORDER BY id", database=self.database.name)
        return [name for (name,) in rows]

    def __repr__(self) -> str:
        return f"Worker({self.function.application_name})"


@pytest.fixture
def worker(load_function: Callable[..., Function], migrated: TestDatabase) -> Worker:
    return Worker(load_function("ingest"), migrated)


def _record(body: str) -> dict[str, Any]:
    record: dict[str, Any] = load_event("ingest_batch")["Records"][0]
    record.update(messageId=str(uuid.uuid4()), body=body)
    return record


@FUZZ
@given(bodies=st.lists(bad_messages(), min_size=1, max_size=4), position=st.integers(0, 4))
def test_malformed_messages_fail_alone_and_the_good_one_is_written_once(
    worker: Worker, caplog: pytest.LogCaptureFixture, bodies: list[str], position: int
) -> None:
    caplog.clear()
    before = worker.items()
    bad_records = [_record(body) for body in bodies]
    good = _record(json.dumps({"item": {"name": f"good-{uuid.uuid4().hex[:8]}"}}))
    records = [*bad_records]
    records.insert(min(position, len(records)), good)

    result = worker({"Records": records})

    assert result == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in bad_records]}
    assert worker.items() == [*before, json.loads(good["body"])["item"]["name"]]
    # each refused by validation, with a reason, not by a database error on the way in
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == ["rejected message"] * len(bodies)


@pytest.mark.parametrize("event", [[], "Records", None, {}, {"Records": "x"}, {"Records": []}, {"Records": [1]}])
def test_an_event_that_is_not_an_sqs_batch_is_an_error_naming_the_event(worker: Worker, event: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"^event: must be an SQS batch"):
        worker(event)
    assert worker.items() == []


@pytest.mark.parametrize("message_id", [None, "", 7])
def test_a_record_without_a_message_id_refuses_the_batch_before_writing_any_of_it(
    worker: Worker, message_id: Any
) -> None:
    good, nameless = _record(json.dumps({"item": {"name": "first"}})), _record(json.dumps({"item": {"name": "x"}}))
    if message_id is None:
        nameless.pop("messageId")
    else:
        nameless["messageId"] = message_id

    with pytest.raises(InvalidInputError, match=r"^event\.Records\[1\]\.messageId: is missing"):
        worker({"Records": [good, nameless]})
    assert worker.items() == []

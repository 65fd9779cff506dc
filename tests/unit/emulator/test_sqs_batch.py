"""What a function's answer to an SQS batch means for each message, by Lambda's rules for batch item failures."""

from __future__ import annotations

import json

import pytest

from harness.emulator.sqs_batch import failed_ids, sqs_event

IDS = ["a", "b", "c"]


def answer(value: object) -> bytes:
    return json.dumps(value).encode()


@pytest.mark.parametrize(
    "payload", [b"", b"null", answer({}), answer({"batchItemFailures": []}), answer({"batchItemFailures": None})]
)
def test_an_empty_or_null_answer_is_complete_success(payload):
    assert failed_ids(payload, IDS, function_error=False, report_failures=True) == (set(), None)


def test_only_the_listed_messages_fail():
    payload = answer({"batchItemFailures": [{"itemIdentifier": "b"}]})
    assert failed_ids(payload, IDS, function_error=False, report_failures=True) == ({"b"}, None)


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"not json", "not JSON"),
        (answer(["b"]), "not a JSON object"),
        (answer({"batchItemFailures": "b"}), "not a list"),
        (answer({"batchItemFailures": [{"itemIdentifier": ""}]}), "is not a message of the batch"),
        (answer({"batchItemFailures": [{"itemIdentifier": None}]}), "is not a message of the batch"),
        (answer({"batchItemFailures": [{"itemId": "b"}]}), "is not a message of the batch"),
        (answer({"batchItemFailures": [{"itemIdentifier": "z"}]}), "is not a message of the batch"),
    ],
)
def test_a_malformed_answer_fails_the_whole_batch(payload, why):
    failed, reason = failed_ids(payload, IDS, function_error=False, report_failures=True)
    assert failed == set(IDS)
    assert reason is not None
    assert why in reason


def test_a_function_error_fails_every_message_and_without_the_response_type_the_answer_is_ignored():
    listed = answer({"batchItemFailures": [{"itemIdentifier": "b"}]})
    assert failed_ids(listed, IDS, function_error=True, report_failures=True)[0] == set(IDS)
    assert failed_ids(listed, IDS, function_error=False, report_failures=False) == (set(), None)


def test_the_event_has_lambdas_record_shape():
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "h1",
        "Body": "hello",
        "MD5OfBody": "5d41402abc4b2a76b9719d911017c592",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1", "SenderId": "s"},
        "MessageAttributes": {"kind": {"StringValue": "x", "DataType": "String"}},
    }
    (record,) = sqs_event([message], queue_arn="arn:aws:sqs:us-east-1:123456789012:q", region="us-east-1")["Records"]
    assert record["messageId"] == "m1"
    assert record["receiptHandle"] == "h1"
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert record["messageAttributes"]["kind"]["stringValue"] == "x"
    assert record["messageAttributes"]["kind"]["dataType"] == "String"
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs",
        "arn:aws:sqs:us-east-1:123456789012:q",
        "us-east-1",
    )

"""An SQS batch as Lambda hands it to a function, and what the function's answer means for each message (pure).

The rules are Lambda's (Using Lambda with Amazon SQS, "Reporting batch item failures"): with
``ReportBatchItemFailures`` an empty or null ``batchItemFailures`` (or an empty or null response) is a complete
success; a response that is not a JSON object, an ``itemIdentifier`` that is empty, null, misspelt or not a message
of the batch fails the whole batch; otherwise only the listed messages fail. Without it any answer is success, and
only a function error fails the batch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["failed_ids", "sqs_event"]


def _message_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """SQS's ``MessageAttributes`` in the event's spelling (``stringValue``, ``dataType``, ...)."""
    converted = {}
    for name, value in attributes.items():
        converted[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value.get("DataType"),
        }
    return converted


def sqs_event(messages: Sequence[Mapping[str, Any]], *, queue_arn: str, region: str) -> dict[str, Any]:
    """The ``{"Records": [...]}`` event for messages as ``ReceiveMessage`` returned them."""
    records = []
    for message in messages:
        attributes = message.get("Attributes") or {}
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message.get("Body", ""),
                "attributes": {
                    key: str(value)
                    for key, value in attributes.items()
                    if key
                    in (
                        "ApproximateReceiveCount",
                        "SentTimestamp",
                        "SenderId",
                        "ApproximateFirstReceiveTimestamp",
                        "MessageGroupId",
                        "MessageDeduplicationId",
                        "SequenceNumber",
                    )
                },
                "messageAttributes": _message_attributes(message.get("MessageAttributes") or {}),
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def failed_ids(
    payload: bytes, message_ids: Sequence[str], *, function_error: bool, report_failures: bool
) -> tuple[set[str], str | None]:
    """The ids of the messages that failed, and why the whole batch did when it did (None for a partial answer)."""
    every = set(message_ids)
    if function_error:
        return every, "function error"
    if not report_failures:
        return set(), None
    try:
        response = json.loads(payload) if payload.strip() else None
    except ValueError:
        return every, "response is not JSON"
    if response is None:
        return set(), None
    if not isinstance(response, dict):
        return every, "response is not a JSON object"
    items = response.get("batchItemFailures")
    if items is None:
        return set(), None
    if not isinstance(items, list):
        return every, "batchItemFailures is not a list"
    failed: set[str] = set()
    for item in items:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in every:
            return every, f"itemIdentifier {identifier!r} is not a message of the batch"
        failed.add(identifier)
    return failed, None

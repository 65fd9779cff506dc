"""Queue worker: writes each SQS message as an item, one transaction per message, at most once per message.

A bad message (malformed JSON, wrong fields) fails alone: the batch reports exactly its id in
``batchItemFailures`` and SQS redelivers only it, until the queue's redrive policy moves it to the dead-letter
queue. The event source's ``MaximumConcurrency`` and the reserved concurrency cap the environments, and so the
connections this worker can open however deep the queue gets.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from app_model import InvalidInputError, event_shapes
from app_model.ingest import ingest_message, message_key
from app_model.schemas import IngestMessage, parse_body
from lambda_db import get_database

logger = Logger()
db = get_database()
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> int | None:
    """Write one message; return the new item id, or ``None`` when it was ingested before."""
    try:
        message = parse_body(IngestMessage, record.body, what="message")
    except InvalidInputError as error:
        # The body is not logged: it may hold anything. Its id finds it in the dead-letter queue.
        logger.warning("rejected message", extra={"message_id": record.message_id, "error": str(error)})
        raise
    key = message_key(message, record.message_id)
    item_id = db.run_transaction(lambda session: ingest_message(session, key, message))
    logger.info("ingested" if item_id else "duplicate skipped", extra={"message_key": key, "item_id": item_id})
    return item_id


@logger.inject_lambda_context
@db.handler
def lambda_handler(event: Any, context: Any) -> PartialItemFailureResponse:
    """Entry point (``app.lambda_handler``): ``{"batchItemFailures": [{"itemIdentifier": <failed id>}, ...]}``.

    An event that is not an SQS batch raises :class:`InvalidInputError` naming it (only a direct invoke can send one).
    """
    event_shapes.check_sqs_batch(event)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

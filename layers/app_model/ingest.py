"""The queue worker's write: one message, one item, at most once however often SQS delivers it."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app_model.items import create_item
from app_model.schemas import IngestMessage
from app_model.tables import IngestedMessage

__all__ = ["ingest_message", "message_key"]


def message_key(message: IngestMessage, message_id: str) -> str:
    """The producer's key when it sent one (it survives a re-send), else the SQS message id (a redelivery)."""
    return f"key:{message.idempotency_key}" if message.idempotency_key else f"sqs:{message_id}"


def ingest_message(session: Session, key: str, message: IngestMessage) -> int | None:
    """Write the message's item unless ``key`` was ingested before; return the new item's id, or ``None``.

    The key row is claimed first, so a concurrent duplicate waits for this transaction and then skips.
    """
    claimed = session.execute(
        insert(IngestedMessage)
        .values(message_key=key)
        .on_conflict_do_nothing(index_elements=["message_key"])
        .returning(IngestedMessage.message_key)
    ).first()
    if claimed is None:
        return None
    item_id: int = create_item(session, message.item)["id"]
    session.execute(update(IngestedMessage).where(IngestedMessage.message_key == key).values(item_id=item_id))
    return item_id

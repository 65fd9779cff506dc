"""``Idempotency-Key`` for POST: a retried request gets the first answer instead of writing twice.

The key is claimed with ``INSERT ... ON CONFLICT DO NOTHING`` in the same transaction as the write, and the
response is stored in that transaction too. A concurrent duplicate's INSERT waits on the first one's uncommitted
row: when the first commits, the duplicate finds the key and replays its response; when the first rolls back,
the duplicate claims the key and writes. Either way the item is written once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app_model.errors import IdempotencyKeyReusedError
from app_model.tables import IdempotencyRecord

__all__ = ["Replay", "claim_key", "fingerprint", "store_response"]

_PENDING_STATUS = 0  # never visible to another transaction: store_response overwrites it before the commit


@dataclass(frozen=True)
class Replay:
    """The stored answer to a key's first request."""

    status_code: int
    body: dict[str, Any]


def fingerprint(canonical_body: str) -> str:
    """A digest of the validated body, so a key reused with a different body is caught."""
    return hashlib.sha256(canonical_body.encode()).hexdigest()


def claim_key(session: Session, key: str, request_hash: str) -> Replay | None:
    """Claim ``key`` for this request; ``None`` when claimed (go on and write), the first answer when not.

    Raises
    ------
    IdempotencyKeyReusedError
        The key was first used with a different body.
    """
    claimed = session.execute(
        insert(IdempotencyRecord)
        .values(key=key, request_hash=request_hash, status_code=_PENDING_STATUS, response={})
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(IdempotencyRecord.key)
    ).first()
    if claimed is not None:
        return None
    record = session.execute(
        select(IdempotencyRecord.request_hash, IdempotencyRecord.status_code, IdempotencyRecord.response).where(
            IdempotencyRecord.key == key
        )
    ).one()
    if record.request_hash != request_hash:
        raise IdempotencyKeyReusedError(
            "this Idempotency-Key was already used with a different body; send a new key for a new request"
        )
    return Replay(status_code=record.status_code, body=record.response)


def store_response(session: Session, key: str, status_code: int, body: dict[str, Any]) -> None:
    """Record the answer for a claimed key, in the transaction that wrote the data."""
    session.execute(
        update(IdempotencyRecord).where(IdempotencyRecord.key == key).values(status_code=status_code, response=body)
    )

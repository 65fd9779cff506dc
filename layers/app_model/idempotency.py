"""``Idempotency-Key`` for POST: a retried request gets the first answer instead of writing twice, for a while.

A key is kept for a TTL (``IDEMPOTENCY_TTL_S``, 24 hours by default, see :mod:`app_model.config`), counted from the
request that claimed it (``created_at``): a retry within it replays that answer; a reuse after it is a new request,
which claims the key again and starts a new TTL.

The key is claimed with one statement, ``INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE`` the stored key has
expired, in the same transaction as the write, and the response is stored in that transaction too:

- A concurrent duplicate's INSERT waits on the first one's uncommitted row, whether the first inserted it or took
  over an expired one. When the first commits, the duplicate finds the key fresh and replays its response; when
  the first rolls back, the key is free again (gone, or back to its expired version) and the duplicate claims it
  and writes. Either way the item is written once.
- Postgres locks the conflicting row even when the ``WHERE`` leaves it as it is, so between the claim and the
  ``SELECT`` of the answer to replay nobody can change or delete it: the janitor (:func:`delete_expired`) skips
  locked rows, and a concurrent claim waits.
- ``now()`` is the time the transaction started, on the server: the application's clocks play no part.

Rows outlive their TTL until the janitor deletes them; an expired row is never replayed in the meantime.

The answer is kept as it was sent, body text and headers (``Location``), so a replay is the first answer byte for
byte: a body kept only as ``jsonb`` would come back with its keys reordered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, Connection, Text, cast, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app_model.errors import IdempotencyKeyReusedError
from app_model.tables import IdempotencyRecord

__all__ = [
    "DELETE_BATCH_SIZE",
    "Purge",
    "Replay",
    "claim_key",
    "delete_expired",
    "fingerprint",
    "purge_expired",
    "store_response",
]

_PENDING_STATUS = 0  # never visible to another transaction: store_response overwrites it before the commit
# Rows per DELETE: few enough that each batch's transaction is short (its row locks, its WAL), enough that an hour
# of keys at 100 keyed writes a second (360,000) goes in 360 batches.
DELETE_BATCH_SIZE = 1000


@dataclass(frozen=True)
class Replay:
    """The stored answer to a key's first request: its status, its body exactly as sent, and its headers."""

    status_code: int
    body: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Purge:
    """What one janitor run did: rows deleted, DELETE statements sent, and whether it saw the last expired key."""

    deleted: int
    batches: int
    finished: bool  # False: it stopped for time, so expired keys may be left for the next run


def fingerprint(canonical_body: str) -> str:
    """A digest of the validated body, so a key reused with a different body is caught."""
    return hashlib.sha256(canonical_body.encode()).hexdigest()


def _expired(ttl_s: int) -> ColumnElement[bool]:
    """First used more than ``ttl_s`` seconds before this transaction began (by the server's clock)."""
    return IdempotencyRecord.created_at < func.now() - timedelta(seconds=ttl_s)


def claim_key(session: Session, key: str, request_hash: str, *, ttl_s: int) -> Replay | None:
    """Claim ``key`` for this request; ``None`` when claimed (go on and write), the first answer when not.

    Parameters
    ----------
    ttl_s:
        How long a key is kept, in seconds: a key first used longer ago than this is claimed afresh, as if new.

    Raises
    ------
    IdempotencyKeyReusedError
        The key was first used, within the TTL, with a different body.
    """
    claim = insert(IdempotencyRecord).values(
        key=key, request_hash=request_hash, status_code=_PENDING_STATUS, response={}
    )
    claimed = session.execute(
        claim.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "request_hash": claim.excluded.request_hash,
                "status_code": claim.excluded.status_code,
                "response": claim.excluded.response,
                "created_at": func.now(),
            },
            where=_expired(ttl_s),
        ).returning(IdempotencyRecord.key)
    ).first()
    if claimed is not None:
        return None
    record = session.execute(
        select(
            IdempotencyRecord.request_hash,
            IdempotencyRecord.status_code,
            # a row a previous release answered during a deploy has only the jsonb body
            func.coalesce(IdempotencyRecord.response_body, cast(IdempotencyRecord.response, Text)).label("body"),
            IdempotencyRecord.response_headers,
        ).where(IdempotencyRecord.key == key)
    ).one()
    if record.request_hash != request_hash:
        raise IdempotencyKeyReusedError(
            "this Idempotency-Key was already used with a different body; send a new key for a new request"
        )
    return Replay(status_code=record.status_code, body=record.body, headers=dict(record.response_headers))


def store_response(
    session: Session, key: str, status_code: int, body: str, headers: Mapping[str, str] | None = None
) -> None:
    """Record the answer for a claimed key, in the transaction that wrote the data.

    ``body`` is the JSON text the client is sent (replayed as is); ``headers`` those to send again (``Location``).
    """
    session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.key == key)
        .values(
            status_code=status_code,
            response=json.loads(body),  # still read by the release before migration 4
            response_body=body,
            response_headers=dict(headers or {}),
        )
    )


def delete_expired(connection: Connection, *, ttl_s: int, batch_size: int = DELETE_BATCH_SIZE) -> int:
    """Delete at most ``batch_size`` keys older than ``ttl_s`` seconds, oldest first; return how many went."""
    # Oldest first, through idempotency_keys_created_at_idx. SKIP LOCKED: a row a request holds (claiming it, or
    # replaying it) is left for the next batch or run, rather than the janitor waiting on the request.
    oldest = (
        select(IdempotencyRecord.key)
        .where(_expired(ttl_s))
        .order_by(IdempotencyRecord.created_at)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    result = connection.execute(delete(IdempotencyRecord).where(IdempotencyRecord.key.in_(oldest)))
    return int(result.rowcount)


def purge_expired(
    connect: Callable[[], AbstractContextManager[Connection]],
    *,
    ttl_s: int,
    keep_going: Callable[[], bool],
    batch_size: int = DELETE_BATCH_SIZE,
) -> Purge:
    """Delete expired keys batch by batch, each batch its own transaction, until none is left or time is short.

    Parameters
    ----------
    connect:
        Opens a connection in a transaction and commits it at the end of the block (``db.connect``).
    keep_going:
        Asked before every batch; ``False`` stops the run (the invocation's remaining time is running short).

    Example
    -------
    >>> purge_expired(db.connect, ttl_s=86400, keep_going=lambda: context.get_remaining_time_in_millis() > 5000)
    Purge(deleted=1234, batches=2, finished=True)
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    deleted = batches = 0
    while keep_going():
        with connect() as connection:
            count = delete_expired(connection, ttl_s=ttl_s, batch_size=batch_size)
        deleted += count
        batches += 1
        if count < batch_size:  # a short batch: no expired key was left (bar one a request holds right now)
            return Purge(deleted=deleted, batches=batches, finished=True)
    return Purge(deleted=deleted, batches=batches, finished=False)

"""The application's tables as SQLAlchemy ORM classes: what the handlers read and write.

The migrations in :mod:`app_model.migrations` create these tables with plain DDL (so an upgrade is a reviewed,
versioned step, not ``create_all``); a test checks that the two agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Index, Integer, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "IdempotencyRecord", "IngestedMessage", "Item"]


class Base(DeclarativeBase):
    """Declarative base of the application's tables."""


class Item(Base):
    """A thing the Items API stores: the example payload of the template."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, server_default="")
    quantity: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the API returns (timestamps in ISO 8601)."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "quantity": self.quantity,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


class IdempotencyRecord(Base):
    """A client's ``Idempotency-Key`` and the response its first request got, written with that request's rows.

    Kept for ``IDEMPOTENCY_TTL_S`` from ``created_at`` (when it was claimed); the janitor deletes it after that.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("idempotency_keys_created_at_idx", "created_at"),)

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    request_hash: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSONB)  # the body as JSON, for a release before migration 4
    response_body: Mapped[str | None] = mapped_column(Text)  # the body exactly as sent (None: not answered yet)
    response_headers: Mapped[dict[str, str]] = mapped_column(JSONB, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IngestedMessage(Base):
    """One queue message already written: a redelivered message finds its key here and is skipped."""

    __tablename__ = "ingested_messages"

    message_key: Mapped[str] = mapped_column(Text, primary_key=True)
    item_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("items.id", ondelete="SET NULL"))
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

"""The Items API's SQL: one function per operation, each given the session or connection of its invocation.

Writes take an ORM :class:`~sqlalchemy.orm.Session` (the caller's ``db.session()`` commits once, so a request is
one transaction); reads take any connection, typically ``db.read()`` in autocommit. Nothing here opens a
connection of its own.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.orm import Session

from app_model.errors import ItemNotFoundError
from app_model.schemas import ItemIn, encode_cursor
from app_model.tables import Item

__all__ = ["create_item", "delete_item", "get_item", "item_json", "list_items", "replace_item"]

_COLUMNS = Item.__table__.c


def item_json(item: Any) -> dict[str, Any]:
    """The JSON shape of an item, from an :class:`Item` or a row with the same columns."""
    return {
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "quantity": item.quantity,
        "created_at": item.created_at.isoformat(),
        "updated_at": item.updated_at.isoformat(),
    }


def create_item(session: Session, data: ItemIn) -> dict[str, Any]:
    """Insert an item; the id and timestamps come back in the same round trip (``RETURNING``)."""
    item = Item(name=data.name, description=data.description, quantity=data.quantity)
    session.add(item)
    session.flush()
    return item_json(item)


def get_item(connection: Connection | Session, item_id: int) -> dict[str, Any]:
    """One item; :class:`ItemNotFoundError` when there is none."""
    row = connection.execute(select(Item.__table__).where(_COLUMNS.id == item_id)).first()
    if row is None:
        raise ItemNotFoundError(item_id)
    return item_json(row)


def list_items(connection: Connection | Session, *, limit: int, after: int | None) -> dict[str, Any]:
    """A page of items in id order, keyset-paginated: the cost of page 1000 is the cost of page 1.

    One row more than asked is read to know whether a next page exists without a ``COUNT``.
    """
    query = select(Item.__table__).order_by(_COLUMNS.id).limit(limit + 1)
    if after is not None:
        query = query.where(_COLUMNS.id > after)
    rows = connection.execute(query).all()
    page = [item_json(row) for row in rows[:limit]]
    next_cursor = encode_cursor(page[-1]["id"]) if len(rows) > limit else None
    return {"items": page, "next_cursor": next_cursor}


def replace_item(session: Session, item_id: int, data: ItemIn) -> dict[str, Any]:
    """Replace every field of an item (PUT semantics); :class:`ItemNotFoundError` when there is none."""
    item = session.get(Item, item_id, with_for_update=True)
    if item is None:
        raise ItemNotFoundError(item_id)
    item.name = data.name
    item.description = data.description
    item.quantity = data.quantity
    item.updated_at = func.now()  # a SQL expression: the server's clock, like the INSERT's default
    session.flush()
    session.refresh(item, ["updated_at"])
    return item_json(item)


def delete_item(session: Session, item_id: int) -> None:
    """Delete an item; :class:`ItemNotFoundError` when there is none (a second DELETE answers 404)."""
    deleted = session.execute(delete(Item).where(Item.id == item_id).returning(Item.id)).first()
    if deleted is None:
        raise ItemNotFoundError(item_id)

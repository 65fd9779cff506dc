"""The application's own errors; the Items API maps each to one HTTP status, in one place.

``ConfigurationError`` is the exception: it is raised at init (module scope), before any request, and stops the
function with its message, as ``lambda_db``'s own ``ConfigurationError`` does.
"""

from __future__ import annotations

__all__ = [
    "AppError",
    "BodyTooLargeError",
    "ConfigurationError",
    "IdempotencyKeyReusedError",
    "InvalidInputError",
    "ItemNotFoundError",
]


class AppError(Exception):
    """Base class of the errors the application raises on purpose."""


class ConfigurationError(AppError, ValueError):
    """An application setting is invalid; the message names the variable, the value and what is allowed."""


class InvalidInputError(AppError, ValueError):
    """A path, query, header or body value is invalid; ``field`` names it, the message says what is allowed."""

    def __init__(self, field: str, problem: str, *, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.errors = errors or [{"field": field, "message": problem}]


class BodyTooLargeError(InvalidInputError):
    """The request body is larger than the API accepts (413, before any parsing)."""


class ItemNotFoundError(AppError, LookupError):
    """No item has this id (never created, or deleted)."""

    def __init__(self, item_id: int) -> None:
        super().__init__(f"item {item_id} not found")
        self.item_id = item_id


class IdempotencyKeyReusedError(AppError):
    """An ``Idempotency-Key`` was sent again with a different body: replaying the first answer would be wrong."""

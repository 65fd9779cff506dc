"""What a client may send, validated with pydantic: every error names the field and says what is allowed.

Strict types: ``"quantity": "5"`` is refused rather than silently converted, because a client sending strings
for numbers has a bug worth hearing about.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from app_model.errors import BodyTooLargeError, InvalidInputError

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_BODY_BYTES",
    "MAX_PAGE_SIZE",
    "IngestMessage",
    "ItemIn",
    "decode_cursor",
    "encode_cursor",
    "parse_body",
    "parse_idempotency_key",
    "parse_item_id",
    "parse_limit",
]

MAX_BODY_BYTES = 16 * 1024
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_KEY_LENGTH = 255
MAX_ITEM_ID = 2**63 - 1  # bigint
MAX_DIGITS = 19  # bigint's 9,223,372,036,854,775,807; checked before int(), which refuses 4,301 digits or more
MAX_CURSOR_LENGTH = 64  # ours are ~20 characters; a long one is not ours, and deep JSON would exhaust the stack

M = TypeVar("M", bound=BaseModel)


def _no_nul(value: str) -> str:
    # Postgres text cannot hold U+0000: refused here, it would be a driver error (a 500) at INSERT time.
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000); Postgres text cannot store it")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]


class ItemIn(BaseModel):
    """The body of ``POST /items`` and ``PUT /items/{id}`` (PUT replaces every field)."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    name: Text = Field(min_length=1, max_length=200)
    description: Text = Field(default="", max_length=2000)
    quantity: int = Field(default=0, ge=0, le=1_000_000)


class IngestMessage(BaseModel):
    """The body of one queue message: an item, and optionally the producer's own deduplication key."""

    model_config = ConfigDict(extra="forbid", strict=True)

    item: ItemIn
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=MAX_KEY_LENGTH)


def parse_body(model: type[M], body: str | None, *, what: str = "body") -> M:
    """Validate a JSON body against ``model``; raise :class:`InvalidInputError` naming the first bad field."""
    if body is None or not body.strip():
        fields = ", ".join(model.model_fields)
        raise InvalidInputError(what, f"a JSON object is required (fields: {fields})")
    try:
        size = len(body.encode())
    except UnicodeEncodeError as exc:  # a lone surrogate: possible in a direct invoke's JSON, never over HTTP
        raise InvalidInputError(what, f"is not valid Unicode text ({exc.reason} at character {exc.start})") from exc
    if size > MAX_BODY_BYTES:
        raise BodyTooLargeError(what, f"{size} bytes is larger than the {MAX_BODY_BYTES} bytes allowed")
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = [_describe(what, error) for error in exc.errors(include_url=False)]
        first = errors[0]
        raise InvalidInputError(first["field"], first["message"], errors=errors) from exc


def _small_digits(raw: str | None) -> int | None:
    """``raw`` as an int when it is at most :data:`MAX_DIGITS` ASCII digits, else ``None``.

    The length comes first: ``int()`` raises ``ValueError`` past 4,300 digits (Python's integer-string limit), and a
    zero-padded ``000...01`` is as long as it looks.
    """
    if raw is None or not 1 <= len(raw) <= MAX_DIGITS or not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw)


def parse_item_id(raw: str | None) -> int:
    """The ``{id}`` path parameter as a positive bigint."""
    value = _small_digits(raw)
    if value is None or not 1 <= value <= MAX_ITEM_ID:
        raise InvalidInputError("id", f"must be a positive integer, got {_shown(raw)}")
    return value


def parse_limit(raw: str | None) -> int:
    """The ``limit`` query parameter: 1 to :data:`MAX_PAGE_SIZE`, :data:`DEFAULT_PAGE_SIZE` when absent."""
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    value = _small_digits(raw)
    if value is None or not 1 <= value <= MAX_PAGE_SIZE:
        raise InvalidInputError("limit", f"must be an integer from 1 to {MAX_PAGE_SIZE}, got {_shown(raw)}")
    return value


def parse_idempotency_key(raw: str | None) -> str | None:
    """The ``Idempotency-Key`` header: printable ASCII, at most 255 characters, or absent."""
    if raw is None:
        return None
    if not 1 <= len(raw) <= MAX_KEY_LENGTH or not raw.isascii() or not raw.isprintable():
        raise InvalidInputError(
            "Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} printable ASCII characters (a UUID is a good choice)"
        )
    if "," in raw:  # API Gateway joins a repeated header with commas: two keys for one request
        raise InvalidInputError(
            "Idempotency-Key", "must be one key, without commas; the header was sent more than once?"
        )
    return raw


def encode_cursor(after_id: int) -> str:
    """An opaque cursor for the page after ``after_id`` (clients must not build one themselves)."""
    return base64.urlsafe_b64encode(json.dumps({"after": after_id}).encode()).decode().rstrip("=")


def decode_cursor(raw: str | None) -> int | None:
    """The id a cursor from :func:`encode_cursor` points after; ``None`` for the first page."""
    if raw is None or raw == "":
        return None
    if len(raw) > MAX_CURSOR_LENGTH:
        raise InvalidInputError("cursor", "is not a cursor this API returned; pass next_cursor unchanged")
    try:
        padded = raw + "=" * (-len(raw) % 4)
        decoded: Any = json.loads(base64.b64decode(padded, altchars=b"-_", validate=True))
        after = decoded["after"]
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise InvalidInputError("cursor", "is not a cursor this API returned; pass next_cursor unchanged") from exc
    if type(after) is not int or not 0 <= after <= MAX_ITEM_ID:
        raise InvalidInputError("cursor", "is not a cursor this API returned; pass next_cursor unchanged")
    return after


def _describe(what: str, error: Any) -> dict[str, str]:
    location = ".".join(str(part) for part in error["loc"])
    field = f"{what}.{location}" if location else what
    return {"field": field, "message": str(error["msg"])}


def _shown(raw: str | None) -> str:
    if raw is None:
        return "nothing"
    return repr(raw[:40]) if len(raw) <= 40 else f"{raw[:40]!r}... ({len(raw)} characters)"

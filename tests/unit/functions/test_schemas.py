"""Input validation of the Items API and the queue worker: pure, no database."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app_model import BodyTooLargeError, InvalidInputError
from app_model.schemas import (
    DEFAULT_PAGE_SIZE,
    MAX_BODY_BYTES,
    MAX_ITEM_ID,
    IngestMessage,
    ItemIn,
    decode_cursor,
    encode_cursor,
    parse_body,
    parse_idempotency_key,
    parse_item_id,
    parse_limit,
)


@given(st.integers(min_value=0, max_value=MAX_ITEM_ID))
def test_a_cursor_decodes_to_the_id_it_was_made_from(after: int) -> None:
    assert decode_cursor(encode_cursor(after)) == after


@pytest.mark.parametrize("raw", ["not-a-cursor", "e30", encode_cursor(1) + "!", "eyJhZnRlciI6ICIxIn0"])
def test_a_cursor_the_api_did_not_make_is_refused_naming_cursor(raw: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        decode_cursor(raw)
    assert caught.value.field == "cursor"


def test_no_cursor_is_the_first_page() -> None:
    assert decode_cursor(None) is None
    assert decode_cursor("") is None


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, DEFAULT_PAGE_SIZE), ("", DEFAULT_PAGE_SIZE), ("1", 1), ("100", 100)]
)
def test_limit_accepts_1_to_100(raw: str | None, expected: int) -> None:
    assert parse_limit(raw) == expected


@pytest.mark.parametrize("raw", ["0", "101", "-1", "ten", "1.5", "\u0665"])
def test_limit_outside_1_to_100_names_limit(raw: str) -> None:
    with pytest.raises(InvalidInputError, match=r"^limit: must be an integer from 1 to 100"):
        parse_limit(raw)


@pytest.mark.parametrize("raw", [None, "0", "abc", "-3", str(MAX_ITEM_ID + 1), "\u0661"])  # the last: an Arabic-Indic 1
def test_a_bad_item_id_names_id(raw: str | None) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_item_id(raw)
    assert caught.value.field == "id"


@pytest.mark.parametrize("raw", ["", "x" * 256, "caf\u00e9", "tab\there"])
def test_a_bad_idempotency_key_names_the_header(raw: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_idempotency_key(raw)
    assert caught.value.field == "Idempotency-Key"


def test_strict_types_refuse_a_number_sent_as_a_string() -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_body(ItemIn, json.dumps({"name": "widget", "quantity": "3"}))
    assert caught.value.field == "body.quantity"


def test_every_bad_field_is_listed_not_only_the_first() -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_body(ItemIn, json.dumps({"name": "", "quantity": -1, "extra": 1}))
    assert {error["field"] for error in caught.value.errors} == {"body.name", "body.quantity", "body.extra"}


def test_a_body_over_the_limit_is_refused_before_parsing() -> None:
    with pytest.raises(BodyTooLargeError, match=f"larger than the {MAX_BODY_BYTES} bytes allowed"):
        parse_body(ItemIn, "[" * (MAX_BODY_BYTES + 1))


def test_a_queue_message_error_names_the_message_field() -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_body(IngestMessage, json.dumps({"item": {"quantity": 1}}), what="message")
    assert caught.value.field == "message.item.name"


def test_names_are_stripped_so_a_blank_name_is_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"^body\.name: "):
        parse_body(ItemIn, json.dumps({"name": "   "}))
    assert parse_body(ItemIn, json.dumps({"name": "  widget "})).name == "widget"

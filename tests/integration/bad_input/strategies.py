"""Hypothesis strategies for what a careless or hostile client sends: broken JSON, wrong types, huge values,
unicode, SQL metacharacters, missing and extra fields. Each strategy yields only input the API must refuse."""

from __future__ import annotations

import base64
import binascii
import json
import string
from typing import Any

from hypothesis import strategies as st

from app_model.schemas import MAX_BODY_BYTES

SQL_METACHARACTERS = ["'", '"', ";", "--", "/*", "*/", "\\", "%", "_", "' OR '1'='1", "'); DROP TABLE items; --", "$$"]
FIELDS = ("name", "description", "quantity")

sql_text = st.lists(st.sampled_from(SQL_METACHARACTERS) | st.text(max_size=5), min_size=1, max_size=6).map("".join)
any_text = st.text(max_size=80) | sql_text
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text
json_values = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3), max_leaves=8
)
not_a_string = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.lists(json_scalars, max_size=2)
)
not_an_int = st.none() | st.booleans() | st.floats() | any_text | st.lists(st.integers(), max_size=2) | st.just({})
huge_ints = st.integers(min_value=1_000_001) | st.integers(max_value=-1) | st.sampled_from([2**63, 10**400, -(2**64)])


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


def _good_item() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"name": st.just("widget")}, optional={"quantity": st.integers(0, 5)})


@st.composite
def bad_item_bodies(draw: st.DrawFn) -> str:
    """A body ``POST /items`` and ``PUT /items/{id}`` must refuse (400, or 413 when over the size limit)."""
    kind = draw(st.sampled_from(["not_json", "not_object", "wrong_type", "out_of_range", "missing", "extra", "nul"]))
    if kind == "not_json":
        return draw((st.text(max_size=200) | sql_text).filter(_not_json))
    if kind == "not_object":
        return json.dumps(draw(json_values.filter(lambda value: not isinstance(value, dict))))
    item = draw(_good_item())
    if kind == "wrong_type":
        field = draw(st.sampled_from(FIELDS))
        item[field] = draw(not_an_int if field == "quantity" else not_a_string)
    elif kind == "out_of_range":
        choice = draw(st.sampled_from(["quantity", "name_long", "name_blank", "description_long"]))
        if choice == "quantity":
            item["quantity"] = draw(huge_ints)
        elif choice == "name_long":
            item["name"] = "n" + draw(st.text(min_size=200, max_size=400).filter(lambda t: len(t.strip()) >= 200))
        elif choice == "name_blank":
            item["name"] = draw(st.text(alphabet=" \t\n\r", max_size=5))
        else:
            item["description"] = "d" * draw(st.integers(2001, MAX_BODY_BYTES * 2))
    elif kind == "missing":
        item = draw(st.sampled_from([{}, {"quantity": 1}, {"description": "d"}, {"description": "", "quantity": 0}]))
    elif kind == "extra":
        extra = draw(
            st.dictionaries(any_text.filter(lambda key: key not in FIELDS), json_values, min_size=1, max_size=3)
        )
        item.update(extra)
    else:
        field = draw(st.sampled_from(["name", "description"]))
        item[field] = draw(any_text) + "\x00" + draw(any_text)
    return json.dumps(item)


def huge_body() -> st.SearchStrategy[str]:
    """A body over the API's limit: refused with 413 before any parsing."""
    return st.integers(MAX_BODY_BYTES + 1, MAX_BODY_BYTES * 4).map(lambda n: json.dumps({"name": "x" * n}))


def _digits_within(text: str, low: int, high: int) -> bool:
    # length first: int() refuses 4,301 digits or more, which is the input these strategies are for
    return len(text) <= 19 and text.isascii() and text.isdigit() and low <= int(text) <= high


# Very long digit strings, plain or zero-padded: past Python's 4,300-digit limit int() raises ValueError.
long_digits = st.integers(4_290, 6_000).flatmap(
    lambda n: st.sampled_from(["9" * n, "0" * n + "1", "1" + "0" * n])
) | st.integers(20, 200).map(lambda n: "0" * n + "1")
bad_ids = (
    st.text(min_size=1, max_size=40)
    | sql_text
    | long_digits
    | st.sampled_from(["0", "-1", "1.0", "1e3", "9" * 30, "\u0661"])
).filter(lambda text: not _digits_within(text, 1, 2**63 - 1))
bad_limits = (st.text(min_size=1, max_size=20) | st.integers().map(str) | long_digits).filter(
    lambda text: not _digits_within(text, 1, 100)
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _is_our_cursor(text: str) -> bool:
    try:
        decoded = json.loads(base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True))
    except (binascii.Error, ValueError, RecursionError):
        return False
    return isinstance(decoded, dict) and type(decoded.get("after")) is int and 0 <= decoded["after"] < 2**63


bad_cursors = (
    st.text(min_size=1, max_size=80)
    | json_values.map(lambda value: _b64(json.dumps(value).encode()))
    | st.binary(min_size=1, max_size=40).map(_b64)
    | st.integers(1, 5000).map(lambda depth: _b64(b"[" * depth))
).filter(lambda text: not _is_our_cursor(text))

_KEY_CHARS = string.ascii_letters + string.digits + string.punctuation + " "
bad_idempotency_keys = (
    st.just("")
    | st.text(alphabet=_KEY_CHARS, min_size=256, max_size=600)
    | st.text(min_size=1, max_size=60).filter(lambda key: not (key.isascii() and key.isprintable()))
    # a repeated header, as API Gateway HTTP APIs pass it on: the values joined with commas
    | st.lists(
        st.text(alphabet=string.ascii_letters + string.digits + "-", min_size=1, max_size=36), min_size=2, max_size=3
    ).map(",".join)
)

# JSON Python reads and Lambda refuses: nesting past the parser's depth, and non-finite numbers.
deep_json = st.integers(1_000, 20_000).flatmap(
    lambda depth: st.sampled_from(["[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth])
)
non_finite_json = st.sampled_from(["NaN", "Infinity", "-Infinity"]).flatmap(
    lambda constant: st.sampled_from([constant, f'{{"x": {constant}}}', f"[1, {constant}]"])
)

"""The emulator's one JSON check refuses what Lambda refuses, with Lambda's words, and never raises anything else."""

from __future__ import annotations

import pytest

from harness.emulator.errors import InvalidRequestContentError
from harness.emulator.strict_json import check_json


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        (b"NaN", "NaN is not JSON"),
        (b'{"x": Infinity}', "Infinity is not JSON"),
        (b"[1, -Infinity]", "-Infinity is not JSON"),
        (b"[" * 100_000, "nesting too deep"),  # a RecursionError inside json, not a ValueError
        (b"\xff\xfe{", "Could not parse"),  # not UTF-8 (nor UTF-16 text)
        (b"{not json", "Could not parse"),
        ("", "Could not parse"),
    ],
)
def test_what_lambda_refuses_is_an_invalid_request_content_error(payload: bytes | str, says: str) -> None:
    with pytest.raises(InvalidRequestContentError, match=says) as info:
        check_json(payload)
    assert str(info.value).startswith("Could not parse request body into json: ")


@pytest.mark.parametrize(
    "payload", [b"{}", b"null", b'"text"', b"[1.5e300, -0.0]", '{"ünï": "cödé"}', b"[" * 50 + b"]" * 50]
)
def test_json_lambda_reads_passes(payload: bytes | str) -> None:
    check_json(payload)

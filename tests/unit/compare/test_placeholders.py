"""Event placeholders: each invocation gets fresh values, one per placeholder, and a typo is named before a run."""

from __future__ import annotations

import pytest

from harness.compare.placeholders import Filler, IntRange, PlaceholderError, RowRef, Unique, find_placeholders
from harness.kit.workload import Workload


def test_unique_differs_between_invocations_and_agrees_within_one() -> None:
    filler = Filler()
    event = {"headers": {"idempotency-key": "k-{{unique}}"}, "body": '{"name": "n-{{ unique }}"}'}
    first, second = filler.fill(event), filler.fill(event)
    key = first["headers"]["idempotency-key"].removeprefix("k-")
    assert first["body"] == f'{{"name": "n-{key}"}}'
    assert second["headers"]["idempotency-key"] != first["headers"]["idempotency-key"]


def test_int_stays_in_its_range_and_row_picks_a_value_the_setup_created() -> None:
    filler = Filler({RowRef("public.items", "id"): [7, 8]}, seed=1)
    for _ in range(50):
        event = filler.fill({"rawPath": "/items/{{row:public.items.id}}", "q": "{{int:-2:2}}", "n": 3})
        assert event["rawPath"] in ("/items/7", "/items/8")
        assert -2 <= int(event["q"]) <= 2
        assert event["n"] == 3  # only strings are filled


def test_find_placeholders_parses_every_form() -> None:
    found = find_placeholders({"a": ["{{unique}}", "x{{int:1:3}}y"], "b": {"c": "{{row:pages.page}}"}})
    assert found == [Unique(), IntRange(1, 3), RowRef("pages", "page")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{uuid}}", "is not a placeholder this lab fills"),
        ("{{int:9:1}}", "LO must not be greater than HI"),
        ("{{row:items}}", "is not a placeholder this lab fills"),
    ],
)
def test_a_malformed_placeholder_is_refused_with_the_forms_that_exist(text: str, message: str) -> None:
    with pytest.raises(PlaceholderError, match=message):
        find_placeholders({"path": text})


def test_a_row_placeholder_without_rows_cannot_be_filled() -> None:
    with pytest.raises(PlaceholderError, match="the setup created no rows in items"):
        Filler().fill({"id": "{{row:items.id}}"})


def test_the_mix_follows_the_weights_and_repeats_for_the_same_seed() -> None:
    def picks() -> list[str]:
        mix = Workload([("read", 4.0), ("write", 1.0)], seed=3)
        return [mix.next_event(0, n) for n in range(1000)]

    first = picks()
    assert first == picks()
    assert 700 <= first.count("read") <= 900


def test_the_mix_refuses_a_weight_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="every weight must be greater than 0"):
        Workload([("read", 0.0)])

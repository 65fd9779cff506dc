"""EventBridge's schedule expressions: what fires when, and which expressions are refused (with what message)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from harness.emulator.schedule_expr import parse_schedule


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_rate_fires_one_period_after_the_previous_time():
    assert parse_schedule("rate(1 hour)").next_fire(at(2026, 1, 1, 10, 30)) == at(2026, 1, 1, 11, 30)
    assert parse_schedule("rate(5 minutes)").next_fire(at(2026, 1, 1, 10, 0)) == at(2026, 1, 1, 10, 5)
    assert parse_schedule("rate(2 days)").next_fire(at(2026, 1, 1)) == at(2026, 1, 3)


def test_cron_every_day_at_noon_skips_to_tomorrow_once_noon_has_passed():
    daily = parse_schedule("cron(0 12 * * ? *)")
    assert daily.next_fire(at(2026, 1, 1, 11, 59)) == at(2026, 1, 1, 12, 0)
    assert daily.next_fire(at(2026, 1, 1, 12, 0)) == at(2026, 1, 2, 12, 0)


def test_cron_steps_lists_and_ranges():
    quarter = parse_schedule("cron(0/15 * * * ? *)")
    assert quarter.next_fire(at(2026, 1, 1, 10, 7)) == at(2026, 1, 1, 10, 15)
    weekdays = parse_schedule("cron(0 18 ? * MON-FRI *)")
    assert weekdays.next_fire(at(2026, 1, 2, 19, 0)) == at(2026, 1, 5, 18, 0)  # Friday evening -> Monday


def test_cron_last_day_nearest_weekday_and_nth_weekday_of_the_month():
    assert parse_schedule("cron(0 0 L * ? *)").next_fire(at(2026, 2, 3)) == at(2026, 2, 28)
    # 2026-08-15 is a Saturday: 15W is Friday the 14th
    assert parse_schedule("cron(0 9 15W * ? *)").next_fire(at(2026, 8, 1)) == at(2026, 8, 14, 9, 0)
    # the second Tuesday (day 3) of March 2026 is the 10th
    assert parse_schedule("cron(30 8 ? * 3#2 *)").next_fire(at(2026, 3, 1)) == at(2026, 3, 10, 8, 30)
    assert parse_schedule("cron(0 0 ? * 6L *)").next_fire(at(2026, 1, 1)) == at(2026, 1, 30)  # last Friday
    # LW, the last weekday: 2026-05-31 is a Sunday, so Friday the 29th; 2026-06-30 is a Tuesday, itself
    assert parse_schedule("cron(0 17 LW * ? *)").next_fire(at(2026, 5, 1)) == at(2026, 5, 29, 17, 0)
    assert parse_schedule("cron(0 17 lw * ? *)").next_fire(at(2026, 5, 29, 17, 0)) == at(2026, 6, 30, 17, 0)


def test_cron_with_a_time_zone_fires_at_local_time():
    berlin = parse_schedule("cron(0 9 * * ? *)", "Europe/Berlin")
    assert berlin.next_fire(at(2026, 1, 1, 0, 0)) == at(2026, 1, 1, 8, 0)  # 09:00 CET is 08:00 UTC


def test_a_cron_whose_years_are_past_never_fires_again():
    assert parse_schedule("cron(0 0 1 1 ? 2020)").next_fire(at(2026, 1, 1)) is None


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("cron(0 12 * * *)", "needs 6 fields"),
        ("cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 12 ? * ? *)", "exactly one of day-of-month and day-of-week"),
        ("cron(61 12 * * ? *)", "minutes: 61 is outside 0-59"),
        ("cron(0 25 * * ? *)", "hours: 25 is outside 0-23"),
        ("cron(0 12 * FOO ? *)", "month: 'FOO' is not a value"),
        ("cron(0 12 5-1 * ? *)", "runs backwards"),
        ("cron(0/0 12 * * ? *)", "step '0'"),
        ("rate(1 hours)", "the unit must be"),
        ("rate(2 hour)", "the unit must be"),
        ("rate(0 minutes)", "at least 1"),
        ("rate(5 weeks)", "the unit must be"),
        ("every hour", "is not a schedule expression"),
    ],
)
def test_malformed_expressions_are_refused_naming_the_fault(expression, message):
    with pytest.raises(ValueError, match=message):
        parse_schedule(expression)


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(ValueError, match="not a time zone name"):
        parse_schedule("cron(0 9 * * ? *)", "Mars/Olympus")

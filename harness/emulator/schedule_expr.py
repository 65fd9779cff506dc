"""EventBridge schedule expressions, ``rate(...)`` and ``cron(...)``, parsed once and asked for their next time.

The rules are EventBridge's (Schedule expressions for rules, in the EventBridge user guide): ``rate(1 minute)`` is
singular for 1 and plural otherwise; ``cron(minutes hours day-of-month month day-of-week year)`` has six fields,
day-of-week counts ``1-7`` from Sunday (or ``SUN-SAT``), one of day-of-month and day-of-week must be ``?``, and
``*``, ``,``, ``-``, ``/``, ``L``, ``W`` and ``LW`` (day-of-month: last day, nearest weekday, last weekday), ``L``
and ``#`` (day-of-week: last such day, nth such day) are understood. Times are UTC unless
a ScheduleV2 names a ``ScheduleExpressionTimezone``. Anything else is a ``ValueError`` whose message says what.

Example
-------
>>> from datetime import UTC, datetime
>>> parse_schedule("cron(0 12 * * ? *)").next_fire(datetime(2026, 1, 1, 13, 0, tzinfo=UTC))
datetime.datetime(2026, 1, 2, 12, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["Cron", "Rate", "ScheduleExpression", "parse_schedule"]

_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name: number for number, name in enumerate(calendar.month_abbr) if name}
_DAYS = {name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}
_SEARCH_DAYS = 366 * 8  # far enough for any year field a rule would use (leap days included)


class ScheduleExpression(Protocol):
    def next_fire(self, after: datetime) -> datetime | None:
        """The first time strictly after ``after`` (aware, UTC) that the schedule fires; None if it never will."""
        ...


@dataclass(frozen=True)
class Rate:
    period_s: int

    def next_fire(self, after: datetime) -> datetime | None:
        return after + timedelta(seconds=self.period_s)


def _numbers(item: str, low: int, high: int, names: dict[str, int], field: str) -> tuple[int, int, int]:
    """``item`` (``a``, ``a-b``, ``*``, each with an optional ``/step``) as (first, last, step)."""
    base, _, step_text = item.partition("/")
    step = 1
    if step_text:
        if not step_text.isdigit() or int(step_text) < 1:
            raise ValueError(f"{field}: step {step_text!r} is not a whole number of at least 1")
        step = int(step_text)

    def one(text: str) -> int:
        value = names.get(text.upper()) if names else None
        if value is None:
            if not text.isdigit():
                raise ValueError(f"{field}: {text!r} is not a value ({low}-{high})")
            value = int(text)
        if not low <= value <= high:
            raise ValueError(f"{field}: {value} is outside {low}-{high}")
        return value

    if base == "*":
        return low, high, step
    first, dash, last = base.partition("-")
    start = one(first)
    end = one(last) if dash else (high if step_text else start)
    if end < start:
        raise ValueError(f"{field}: range {base!r} runs backwards")
    return start, end, step


def _set(text: str, low: int, high: int, field: str, names: dict[str, int] | None = None) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        start, end, step = _numbers(item, low, high, names or {}, field)
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _day(text: str) -> int:
    """A day-of-week value, ``1``-``7`` or ``SUN``-``SAT``."""
    return _DAYS.get(text.upper()) or int(text)


def _aws_weekday(day: date) -> int:
    return (day.weekday() + 1) % 7 + 1  # Python's Monday=0 -> EventBridge's Sunday=1 ... Saturday=7


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    day_of_month: str  # the raw field; "?" when day_of_week decides
    day_of_week: str
    zone: ZoneInfo | None = None

    def _dom_matches(self, day: date) -> bool:
        field = self.day_of_month
        last = calendar.monthrange(day.year, day.month)[1]
        if field == "?":
            return True
        if field == "L":
            return day.day == last
        if field == "LW":  # the last weekday (Monday to Friday) of the month
            target = date(day.year, day.month, last)
            while target.weekday() > 4:
                target -= timedelta(days=1)
            return day == target
        if field.endswith("W"):
            target = date(day.year, day.month, min(int(field[:-1]), last))
            if target.weekday() == 5:  # Saturday: the Friday before, unless that leaves the month
                target = target - timedelta(days=1) if target.day > 1 else target + timedelta(days=2)
            elif target.weekday() == 6:
                target = target + timedelta(days=1) if target.day < last else target - timedelta(days=2)
            return day == target
        return day.day in _set(field, 1, 31, "day-of-month")

    def _dow_matches(self, day: date) -> bool:
        field = self.day_of_week
        weekday = _aws_weekday(day)
        if field == "?":
            return True
        if "#" in field:
            wanted, nth = field.split("#")
            return weekday == _day(wanted) and (day.day - 1) // 7 + 1 == int(nth)
        if field.endswith("L") and field != "L":
            return weekday == _day(field[:-1]) and day.day + 7 > calendar.monthrange(day.year, day.month)[1]
        return weekday in _set("7" if field == "L" else field, 1, 7, "day-of-week", _DAYS)

    def next_fire(self, after: datetime) -> datetime | None:
        local = after.astimezone(self.zone or UTC)
        day = local.date()
        for _ in range(_SEARCH_DAYS):
            if (
                day.year in self.years
                and day.month in self.months
                and self._dom_matches(day)
                and self._dow_matches(day)
            ):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone or UTC)
                        if moment > local:
                            return moment.astimezone(UTC)
            day += timedelta(days=1)
            if day.year > max(self.years):
                return None
        return None


def _check_special(field: str, name: str, pattern: str) -> None:
    if not re.fullmatch(pattern, field, flags=re.IGNORECASE):
        raise ValueError(f"{name}: {field!r} is not understood")


def _cron(body: str, zone: ZoneInfo | None) -> Cron:
    fields = body.split()
    if len(fields) != 6:
        raise ValueError(
            f"cron({body}) needs 6 fields (minutes hours day-of-month month day-of-week year), got {len(fields)}"
        )
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ValueError(f"cron({body}): exactly one of day-of-month and day-of-week must be '?'")
    if dom != "?" and not (dom.upper() in ("L", "LW") or re.fullmatch(r"\d{1,2}W", dom, flags=re.IGNORECASE)):
        _set(dom, 1, 31, "day-of-month")  # raises when malformed
    if dow != "?":
        _check_special(dow, "day-of-week", r"([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(#[1-5]|L)|L|[^#L]+")
        if "#" not in dow and not dow.endswith("L"):
            _set(dow, 1, 7, "day-of-week", _DAYS)
    return Cron(
        minutes=_set(minutes, 0, 59, "minutes"),
        hours=_set(hours, 0, 23, "hours"),
        months=_set(month, 1, 12, "month", {name.upper(): n for name, n in _MONTHS.items()}),
        years=_set(year, 1970, 2199, "year"),
        day_of_month=dom.upper(),
        day_of_week=dow.upper(),
        zone=zone,
    )


def parse_schedule(expression: str, timezone: str = "UTC") -> ScheduleExpression:
    """``rate(N unit)`` or ``cron(6 fields)`` (ValueError naming the fault when it is neither)."""
    try:
        zone = None if timezone == "UTC" else ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"ScheduleExpressionTimezone {timezone!r} is not a time zone name") from exc
    text = expression.strip()
    rate = re.fullmatch(r"rate\(\s*(\S+)\s+(\w+)\s*\)", text)
    if rate:
        value, unit = rate.groups()
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"{expression}: the rate must be a whole number of at least 1")
        singular = unit.rstrip("s")
        if singular not in _UNITS or (unit != singular) != (int(value) > 1):
            raise ValueError(f"{expression}: the unit must be minute/hour/day for 1, minutes/hours/days above 1")
        return Rate(int(value) * _UNITS[singular])
    cron = re.fullmatch(r"cron\((.*)\)", text)
    if cron:
        return _cron(cron.group(1).strip(), zone)
    raise ValueError(f"{expression!r} is not a schedule expression: use rate(5 minutes) or cron(0 12 * * ? *)")

"""Business-hours arithmetic as tables: overnight, weekends, holidays, DST, zero, bad calendars."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from resonanz.cases.sla import (
    Calendar,
    CalendarError,
    add_business_minutes,
    business_minutes_between,
    hours_to_json,
    parse_hours,
)

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = parse_hours({d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")})
HOLIDAYS = frozenset({date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26)})
CAL = Calendar("Europe/Berlin", OFFICE, HOLIDAYS)


def b(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        (b(2026, 11, 23, 10, 0), 60, b(2026, 11, 23, 11, 0)),  # Monday, inside hours
        (b(2026, 11, 23, 16, 30), 60, b(2026, 11, 24, 9, 30)),  # overnight
        (b(2026, 11, 23, 20, 0), 30, b(2026, 11, 24, 9, 30)),  # after hours: starts next morning
        (b(2026, 11, 23, 6, 0), 0, b(2026, 11, 23, 9, 0)),  # zero minutes before hours: opening time
        (b(2026, 11, 27, 16, 0), 120, b(2026, 11, 30, 10, 0)),  # Friday -> over the weekend
        (b(2026, 11, 28, 12, 0), 60, b(2026, 11, 30, 10, 0)),  # Saturday start
        (b(2026, 12, 23, 16, 0), 120, b(2026, 12, 28, 10, 0)),  # Christmas holidays skipped
        (b(2026, 11, 23, 9, 0), 8 * 60 * 5, b(2026, 11, 27, 17, 0)),  # one full working week
        # DST: Berlin leaves summer time on Sunday 2026-10-25; office hours stay 8 local hours
        (b(2026, 10, 23, 16, 0), 120, b(2026, 10, 26, 10, 0)),
    ],
)
def test_add_business_minutes(start: datetime, minutes: int, due: datetime) -> None:
    assert add_business_minutes(CAL, start, minutes) == due.astimezone(UTC)


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        (b(2026, 11, 23, 10, 0), b(2026, 11, 23, 11, 30), 90),
        (b(2026, 11, 23, 16, 0), b(2026, 11, 24, 10, 0), 120),  # overnight counts nothing
        (b(2026, 11, 27, 16, 0), b(2026, 11, 30, 10, 0), 120),  # weekend counts nothing
        (b(2026, 12, 23, 16, 0), b(2026, 12, 28, 10, 0), 120),  # holidays count nothing
        (b(2026, 11, 28, 0, 0), b(2026, 11, 29, 23, 0), 0),
        (b(2026, 11, 23, 11, 30), b(2026, 11, 23, 10, 0), -90),  # reversed
    ],
)
def test_business_minutes_between(start: datetime, end: datetime, minutes: int) -> None:
    assert business_minutes_between(CAL, start, end) == minutes


def test_round_the_clock_calendar_follows_dst() -> None:
    always = Calendar("Europe/Berlin", {d: ((0, 1440),) for d in range(7)})
    # spring forward 2026-03-29 02:00 -> 03:00: the day has 23 hours
    day = business_minutes_between(always, b(2026, 3, 29, 0, 0), b(2026, 3, 30, 0, 0))
    assert day == 23 * 60
    assert add_business_minutes(always, b(2026, 3, 29, 1, 30), 60) == b(2026, 3, 29, 3, 30).astimezone(UTC)
    # fall back 2026-10-25: 25 hours
    assert business_minutes_between(always, b(2026, 10, 25, 0, 0), b(2026, 10, 26, 0, 0)) == 25 * 60


def test_pause_and_resume_moves_the_due_time_by_the_paused_business_minutes() -> None:
    start = b(2026, 11, 23, 9, 0)
    target = 240
    paused = business_minutes_between(CAL, b(2026, 11, 23, 10, 0), b(2026, 11, 24, 10, 0))  # 8 h
    assert paused == 480
    assert add_business_minutes(CAL, start, target + paused) == b(2026, 11, 24, 13, 0).astimezone(UTC)


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({}, "no working hours"),
        ({"sat": []}, "no working hours"),
        ({"mon": [["17:00", "09:00"]]}, "ends before it starts"),
        ({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}, "overlap"),
        ({"funday": [["09:00", "12:00"]]}, "unknown weekday"),
        ({"mon": [["9am", "12:00"]]}, "not a time of day"),
        ({"mon": [["09:00", "25:00"]]}, "not a time of day"),
    ],
)
def test_bad_calendars_are_refused_when_built(hours: dict[str, list[list[str]]], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        Calendar("Europe/Berlin", parse_hours(hours))


def test_unknown_zone_refused() -> None:
    with pytest.raises(CalendarError, match="time zone"):
        Calendar("Mars/Olympus", OFFICE)


def test_only_holidays_ends_with_an_error_not_a_loop() -> None:
    days = frozenset(date.fromordinal(date(2026, 1, 1).toordinal() + i) for i in range(366 * 6))
    with pytest.raises(CalendarError, match="no working time"):
        add_business_minutes(Calendar("UTC", OFFICE, days), datetime(2026, 1, 1, tzinfo=UTC), 10)


def test_hours_round_trip() -> None:
    raw = {"mon": [["08:00", "12:00"], ["13:00", "24:00"]]}
    assert hours_to_json(parse_hours(raw)) == raw


def test_naive_times_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        add_business_minutes(CAL, datetime(2026, 1, 1), 5)

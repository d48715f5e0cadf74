"""Report periods: local midnights across DST changes and month ends, as tables."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from resonanz.reports.schedule import Period, containing, last_complete, next_run, previous, window_from


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "period", "tz", "start", "end"),
    [
        # plain days and the spring/autumn DST days in Berlin (23 and 25 hours)
        (utc(2026, 3, 10, 12), Period.daily, "Europe/Berlin", utc(2026, 3, 9, 23), utc(2026, 3, 10, 23)),
        (utc(2026, 3, 29, 12), Period.daily, "Europe/Berlin", utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)),
        (utc(2026, 10, 25, 12), Period.daily, "Europe/Berlin", utc(2026, 10, 24, 22), utc(2026, 10, 25, 23)),
        # just before and at local midnight
        (utc(2026, 3, 10, 22, 59), Period.daily, "Europe/Berlin", utc(2026, 3, 9, 23), utc(2026, 3, 10, 23)),
        (utc(2026, 3, 10, 23, 0), Period.daily, "Europe/Berlin", utc(2026, 3, 10, 23), utc(2026, 3, 11, 23)),
        (utc(2026, 3, 10, 12), Period.daily, "UTC", utc(2026, 3, 10), utc(2026, 3, 11)),
        # weeks start on Monday; the week with the spring change has 167 hours
        (utc(2026, 3, 26, 8), Period.weekly, "Europe/Berlin", utc(2026, 3, 22, 23), utc(2026, 3, 29, 22)),
        (utc(2026, 3, 22, 23, 30), Period.weekly, "Europe/Berlin", utc(2026, 3, 22, 23), utc(2026, 3, 29, 22)),
        (utc(2026, 3, 22, 22, 30), Period.weekly, "Europe/Berlin", utc(2026, 3, 15, 23), utc(2026, 3, 22, 23)),
        (utc(2026, 11, 1, 12), Period.weekly, "America/New_York", utc(2026, 10, 26, 4), utc(2026, 11, 2, 5)),
        # months: February in a leap year and not, December into January, 31-day months
        (utc(2028, 2, 29, 12), Period.monthly, "UTC", utc(2028, 2, 1), utc(2028, 3, 1)),
        (utc(2026, 2, 28, 23, 30), Period.monthly, "Europe/Berlin", utc(2026, 2, 28, 23), utc(2026, 3, 31, 22)),
        (utc(2026, 12, 31, 22, 59), Period.monthly, "Europe/Berlin", utc(2026, 11, 30, 23), utc(2026, 12, 31, 23)),
        (utc(2026, 12, 31, 23, 0), Period.monthly, "Europe/Berlin", utc(2026, 12, 31, 23), utc(2027, 1, 31, 23)),
        (utc(2026, 1, 31, 12), Period.monthly, "Asia/Kolkata", utc(2025, 12, 31, 18, 30), utc(2026, 1, 31, 18, 30)),
        # a zone that skips midnight on its DST day: the day starts at the first instant that exists
        (utc(2026, 9, 6, 12), Period.daily, "America/Santiago", utc(2026, 9, 6, 4), utc(2026, 9, 7, 3)),
    ],
)
def test_containing(moment: datetime, period: Period, tz: str, start: datetime, end: datetime) -> None:
    window = containing(moment, period=period, tz=tz)
    assert (window.start, window.end) == (start, end)
    assert window.start <= moment < window.end
    assert next_run(moment, period=period, tz=tz) == end


@pytest.mark.parametrize(
    ("moment", "period", "tz", "first_day", "previous_first"),
    [
        (utc(2026, 3, 2, 0, 5), Period.daily, "UTC", date(2026, 3, 1), date(2026, 2, 28)),
        (utc(2026, 3, 30, 6), Period.weekly, "Europe/Berlin", date(2026, 3, 23), date(2026, 3, 16)),
        (utc(2026, 1, 1, 6), Period.monthly, "Europe/Berlin", date(2025, 12, 1), date(2025, 11, 1)),
        (utc(2026, 3, 1, 6), Period.monthly, "UTC", date(2026, 2, 1), date(2026, 1, 1)),
        (utc(2024, 3, 31, 23, 59), Period.monthly, "UTC", date(2024, 2, 1), date(2024, 1, 1)),
    ],
)
def test_last_complete_and_previous(
    moment: datetime, period: Period, tz: str, first_day: date, previous_first: date
) -> None:
    done = last_complete(moment, period=period, tz=tz)
    assert done.first_day == first_day and done.end <= moment
    assert previous(done, period=period, tz=tz).first_day == previous_first
    assert previous(done, period=period, tz=tz).end == done.start


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        containing(utc(2026, 1, 1), period=Period.daily, tz="Mars/Olympus")
    with pytest.raises(ValueError, match="naive"):
        containing(datetime(2026, 1, 1), period=Period.daily, tz="UTC")
    with pytest.raises(ValueError, match="does not start"):
        window_from(date(2026, 1, 7), period=Period.weekly, tz="UTC")

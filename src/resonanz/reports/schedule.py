"""Report periods as pure calendar math: which day, week or month a moment falls in, in a zone.

A daily report covers one local day (midnight to midnight, so 23 or 25 hours across a DST change),
a weekly one Monday 00:00 to the next Monday 00:00, a monthly one the 1st to the 1st. A period
becomes due when it ends: :func:`last_complete` is the newest period that has ended at ``moment``,
and :func:`next_run` when the next one ends. Boundaries are local midnights turned into UTC; a zone
that skips midnight on a DST day (America/Santiago) starts that day at the first instant that
exists, which ``zoneinfo`` gives for the skipped wall time with ``fold=0``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class Period(StrEnum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"


@dataclass(frozen=True)
class Window:
    """A half-open range ``[start, end)`` of aware UTC datetimes, and the local first day."""

    start: datetime
    end: datetime
    first_day: date


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``, or ValueError with a hint."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name[:60]!r} (use an IANA name such as Europe/Berlin)") from None


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def _first_day(day: date, period: Period) -> date:
    if period is Period.daily:
        return day
    if period is Period.weekly:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _following(day: date, period: Period) -> date:
    """The first day of the period after the one starting on ``day``."""
    if period is Period.daily:
        return day + timedelta(days=1)
    if period is Period.weekly:
        return day + timedelta(days=7)
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _preceding(day: date, period: Period) -> date:
    if period is Period.daily:
        return day - timedelta(days=1)
    if period is Period.weekly:
        return day - timedelta(days=7)
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)


def window_from(first_day: date, *, period: Period, tz: str) -> Window:
    """The period that starts on local ``first_day`` (which must be a period start)."""
    if _first_day(first_day, period) != first_day:
        raise ValueError(f"{first_day} does not start a {period} period")
    z = zone(tz)
    return Window(_midnight(first_day, z), _midnight(_following(first_day, period), z), first_day)


def containing(moment: datetime, *, period: Period, tz: str) -> Window:
    """The period ``moment`` (aware) falls in."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime; pass an aware one")
    local_day = moment.astimezone(zone(tz)).date()
    first = _first_day(local_day, period)
    window = window_from(first, period=period, tz=tz)
    if moment < window.start:  # a skipped local midnight can put the first instant after it
        return window_from(_preceding(first, period), period=period, tz=tz)
    return window


def previous(window: Window, *, period: Period, tz: str) -> Window:
    """The period just before ``window`` (the comparison period of a report)."""
    return window_from(_preceding(window.first_day, period), period=period, tz=tz)


def last_complete(moment: datetime, *, period: Period, tz: str) -> Window:
    """The newest period that has ended at ``moment`` (the one a scheduled report sends)."""
    return previous(containing(moment, period=period, tz=tz), period=period, tz=tz)


def next_run(moment: datetime, *, period: Period, tz: str) -> datetime:
    """When the next period ends after ``moment``: the time the next report becomes due."""
    return containing(moment, period=period, tz=tz).end

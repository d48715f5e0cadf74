"""Business-hours arithmetic for SLAs. Pure: no database, no clock.

A :class:`Calendar` is a time zone, working intervals per weekday in local wall-clock time, and
public holidays (local dates). Two operations:

- :func:`add_business_minutes`: the moment ``minutes`` working minutes after ``start``;
- :func:`business_minutes_between`: working minutes between two moments.

Working intervals are turned into UTC one local day at a time, so a DST change is handled by the
time-zone database: a 09:00-17:00 day stays 8 hours, a 00:00-24:00 day is 23 or 25 hours on the
change days, and a local time that does not exist (02:30 in spring) is read the way ``zoneinfo``
reads it (fold=0). A calendar with no working hours is refused when it is built
(:class:`CalendarError`), never discovered by a loop that cannot end; a scan that meets only
holidays for :data:`MAX_DAYS` days gives up with the same error.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from resonanz.errors import InputError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 366 * 5
_HHMM = re.compile(r"([01]\d|2[0-4]):([0-5]\d)\Z")

#: [(start_minute, end_minute)] of one weekday, minutes since local midnight, end may be 1440
Intervals = tuple[tuple[int, int], ...]


class CalendarError(InputError):
    """A calendar that cannot count business time (no working hours, a bad interval or zone)."""


def _minute(text: str, *, location: str) -> int:
    match = _HHMM.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise CalendarError(f"{text!r} is not a time of day HH:MM", location=location)
    value = int(match.group(1)) * 60 + int(match.group(2))
    if value > 1440:
        raise CalendarError(f"{text!r} is after 24:00", location=location)
    return value


def parse_hours(raw: Mapping[str, Iterable[Iterable[str]]]) -> dict[int, Intervals]:
    """``{"mon": [["09:00", "17:00"]], ...}`` -> weekday index -> sorted intervals; raises
    :class:`CalendarError` (with the field path) for an unknown day, a bad time, an empty or
    overlapping interval."""
    result: dict[int, Intervals] = {}
    for key, spans in raw.items():
        day = str(key).lower()[:3]
        if day not in WEEKDAYS:
            raise CalendarError(f"unknown weekday {key!r}; use {', '.join(WEEKDAYS)}", location=f"hours.{key}")
        parsed: list[tuple[int, int]] = []
        for index, span in enumerate(spans):
            parts = list(span)
            where = f"hours.{key}.{index}"
            if len(parts) != 2:
                raise CalendarError("an interval is [start, end]", location=where)
            start, end = _minute(parts[0], location=where), _minute(parts[1], location=where)
            if end <= start:
                raise CalendarError(f"{parts[0]}-{parts[1]} ends before it starts", location=where)
            parsed.append((start, end))
        parsed.sort()
        for (_, end_a), (start_b, _) in itertools.pairwise(parsed):
            if start_b < end_a:
                raise CalendarError("two intervals of this day overlap", location=f"hours.{key}")
        result[WEEKDAYS.index(day)] = tuple(parsed)
    return result


_SPAN = re.compile(r"(\w{3})(?:-(\w{3}))?\s+(\d\d:\d\d)-(\d\d:\d\d)\Z")


def parse_hours_spec(spec: str) -> dict[str, list[list[str]]]:
    """``"mon-fri 09:00-17:00; sat 10:00-14:00"`` (what people type in a form or a command) ->
    the hours mapping :func:`parse_hours` reads; an empty text is an empty mapping."""
    hours: dict[str, list[list[str]]] = {}
    for part in filter(None, (p.strip() for p in spec.replace("\n", ";").split(";"))):
        match = _SPAN.match(part.lower())
        if not match or match.group(1) not in WEEKDAYS or (match.group(2) or match.group(1)) not in WEEKDAYS:
            raise CalendarError(f"{part!r}: write e.g. 'mon-fri 09:00-17:00'", location="hours")
        first, last = WEEKDAYS.index(match.group(1)), WEEKDAYS.index(match.group(2) or match.group(1))
        for day in WEEKDAYS[first : last + 1]:
            hours.setdefault(day, []).append([match.group(3), match.group(4)])
    return hours


def hours_spec(hours: Mapping[str, Iterable[Iterable[str]]]) -> str:
    """The inverse of :func:`parse_hours_spec` (one weekday per part)."""
    return "; ".join(f"{day} {a}-{b}" for day, spans in hours.items() for a, b in (tuple(s) for s in spans))


def hours_to_json(hours: Mapping[int, Intervals]) -> dict[str, list[list[str]]]:
    """The inverse of :func:`parse_hours` (what the database stores)."""
    return {
        WEEKDAYS[day]: [[f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}"] for s, e in spans]
        for day, spans in sorted(hours.items())
        if spans
    }


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"unknown time zone {name!r}", location="time_zone") from exc


@dataclass(frozen=True)
class Calendar:
    """Working time: ``hours`` weekday (0 = Monday) -> local intervals; ``holidays`` local dates."""

    time_zone: str
    hours: Mapping[int, Intervals]
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        zone(self.time_zone)
        if not any(self.hours.get(day) for day in range(7)):
            raise CalendarError("the calendar has no working hours: an SLA could never fall due", location="hours")

    @classmethod
    def always(cls, time_zone: str = "UTC") -> Calendar:
        """Round the clock, no holidays (the calendar of a team that has none)."""
        return cls(time_zone, {day: ((0, 1440),) for day in range(7)})

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.time_zone)

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of one local date, in UTC (empty on a holiday)."""
        if day in self.holidays:
            return []
        tz = self.tz
        out: list[tuple[datetime, datetime]] = []
        for start, end in self.hours.get(day.weekday(), ()):
            begin = datetime.combine(day, time(start // 60, start % 60), tzinfo=tz).astimezone(UTC)
            if end == 1440:
                finish = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
            else:
                finish = datetime.combine(day, time(end // 60, end % 60), tzinfo=tz).astimezone(UTC)
            if finish > begin:
                out.append((begin, finish))
        return out

    def _days_from(self, moment: datetime) -> Iterator[date]:
        # start one day early: an interval of the previous local day may still run (and the
        # UTC conversion of a local day can reach across midnight)
        first = moment.astimezone(self.tz).date() - timedelta(days=1)
        for offset in range(MAX_DAYS):
            yield first + timedelta(days=offset)
        raise CalendarError(f"no working time within {MAX_DAYS} days (only holidays?)", location="holidays")


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime")
    return value.astimezone(UTC)


def add_business_minutes(calendar: Calendar, start: datetime, minutes: float) -> datetime:
    """The moment ``minutes`` working minutes after ``start`` (aware UTC). Zero minutes from a
    moment outside working time is the start of the next working interval."""
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    start = _aware(start, "start")
    left = timedelta(minutes=minutes)
    for day in calendar._days_from(start):
        for begin, end in calendar.intervals_on(day):
            if end <= start:
                continue
            begin = max(begin, start)
            if left <= end - begin:
                return begin + left
            left -= end - begin
    raise AssertionError("unreachable: _days_from raises when it runs out")  # pragma: no cover


def business_minutes_between(calendar: Calendar, start: datetime, end: datetime) -> float:
    """Working minutes from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    start, end = _aware(start, "start"), _aware(end, "end")
    if end < start:
        return -business_minutes_between(calendar, end, start)
    total = timedelta()
    first = start.astimezone(calendar.tz).date() - timedelta(days=1)
    last = end.astimezone(calendar.tz).date() + timedelta(days=1)
    day = first
    while day <= last:
        for begin, finish in calendar.intervals_on(day):
            lo, hi = max(begin, start), min(finish, end)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds() / 60

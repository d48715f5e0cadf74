"""Mentions per day in the user's time zone, for the daily curve of ``query test``.

The database groups by a key and Python turns each key into the local day. PostgreSQL computes
the local day itself (``AT TIME ZONE``). SQLite stores UTC text and knows no zones: it groups by
the UTC day when the zone is UTC, else by the UTC hour ("YYYY-MM-DD HH"), which falls in exactly
one local day for every zone whose offsets are whole hours; zones with other offsets (India,
Nepal, Newfoundland, …) group by the UTC minute. Python maps each distinct key once (a year has
8,760 hours), so a curve over a million rows costs one GROUP BY, not a zone conversion per row.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func
from sqlalchemy.orm import Session

from resonanz.mentions.models import Mention

UTC_ZONE = ZoneInfo("UTC")


def zone_of(name: str | tzinfo | None) -> tzinfo:
    """The zone for a name ("Europe/Berlin"), a tzinfo, or None (UTC). Raises ``ZoneInfoNotFoundError``
    (a ``KeyError``) for an unknown name."""
    if name is None:
        return UTC_ZONE
    return ZoneInfo(name) if isinstance(name, str) else name


def _is_utc(zone: tzinfo) -> bool:
    return zone is UTC or zone == UTC_ZONE or getattr(zone, "key", None) in ("UTC", "Etc/UTC")


@functools.lru_cache(maxsize=64)
def _whole_hours(zone: tzinfo) -> bool:
    """Whether every offset the zone used in the last and next few years is a whole hour."""
    start = datetime(datetime.now(UTC).year - 30, 1, 1, tzinfo=UTC)
    for week in range(0, 60 * 52, 4):
        offset = (start + timedelta(weeks=week)).astimezone(zone).utcoffset()
        if offset is not None and offset.total_seconds() % 3600:
            return False
    return True


class LocalDays:
    """Groups ``published_at`` by local day of one zone: :attr:`key` for the database's GROUP BY,
    :meth:`day` for a key or a single stored value."""

    def __init__(self, session: Session, zone: tzinfo) -> None:
        self.zone = zone
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.utc = _is_utc(zone)
        #: characters of SQLite's stored "YYYY-MM-DD HH:MM:SS" the key keeps
        self.width = 10 if self.utc else 13 if _whole_hours(zone) else 16
        self._days: dict[str, str] = {}

    @property
    def key(self) -> ColumnElement[str]:
        if self.postgres:
            name = getattr(self.zone, "key", None) or "UTC"
            return func.to_char(func.timezone(name, Mention.published_at), "YYYY-MM-DD")
        return func.substr(Mention.published_at, 1, self.width)

    def day(self, key: str) -> str:
        """The local day ("YYYY-MM-DD") of a key of :attr:`key` (or of a stored SQLite value)."""
        if self.postgres or self.utc:
            return key[:10]
        key = key[: self.width]
        found = self._days.get(key)
        if found is None:
            moment = datetime.fromisoformat(key + (":00" if self.width == 13 else "")).replace(tzinfo=UTC)
            found = self._days[key] = moment.astimezone(self.zone).date().isoformat()
        return found

    def day_of_value(self, value: str | datetime) -> str:
        """The local day of one ``published_at`` as the driver returned it (text on SQLite)."""
        if isinstance(value, str):
            return self.day(value[: self.width])
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(self.zone).date().isoformat()

    def curve(self, counts: Iterable[tuple[str, int]], scale: int = 1) -> list[tuple[str, int]]:
        """(local day, count × scale) oldest first, from (key, count) rows."""
        days: dict[str, int] = {}
        for key, count in counts:
            day = self.day(str(key))
            days[day] = days.get(day, 0) + int(count) * scale
        return sorted(days.items())

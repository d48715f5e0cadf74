"""The prepared item's SQLite datetime text and its way back (the parse worker sends the text only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from resonanz.mentions.prepared import ROW_COLUMNS, ROW_FIELDS, Prepared, from_sqlite_datetime, sqlite_datetime


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 3, 1, 12, 0, 5, 123456, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
        datetime(2026, 6, 1, 2, 30, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_sqlite_datetime_text_reads_back_as_the_same_utc_time(value: datetime) -> None:
    back = from_sqlite_datetime(sqlite_datetime(value))
    assert back == value and back.tzinfo is UTC and back.utcoffset() == timedelta(0)


def test_the_row_fields_come_first_in_the_prepared_item() -> None:
    assert len(ROW_COLUMNS) == ROW_FIELDS
    assert Prepared._fields[ROW_FIELDS - 1] == "revision_hash"
    assert Prepared._fields[ROW_COLUMNS.index("published_at")] == "published_text"

"""CSV import: column mapping for other tools' exports, header checks, awkward records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resonanz.db.database import Database
from resonanz.errors import ImportFormatError
from resonanz.sources.imports import import_file
from tests.imports.import_helpers import counts, mentions, quarantined, write

# A Brandwatch/Hootsuite-shaped export: their column names, a quoted newline, a thousands of likes.
EXPORT = (
    "Post ID,Date,Message,Author,Author Name,Likes,Shares,URL,Sentiment\r\n"
    '1001,2026-03-01 09:15,"Der Bus kam wieder nicht.\r\nZweite Zeile der Beschwerde",@anna,Anna K.,12,3,'
    "https://social.example/p/1001,negative\r\n"
    '1002,2026-03-01 10:00,"Danke für die schnelle Hilfe, alles gut!",@ben,,4,,https://social.example/p/1002,positive\r\n'
)
MAPPING = {"id": "Post ID", "published_at": "Date", "text": "Message", "author_handle": "Author"}


def test_csv_with_mapping_quoted_newlines_and_extras(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "brandwatch.csv", EXPORT)
    run = import_file(db, path=path, mapping={**MAPPING, "author_name": "Author Name", "likes": "Likes"})
    assert (run.new, run.rejected) == (2, 0)
    stored = mentions(db)
    first = stored["1001"]
    assert first.text == "Der Bus kam wieder nicht.\r\nZweite Zeile der Beschwerde"
    # "URL" and "Shares" match our field names without a mapping (case-insensitive)
    assert first.url == "https://social.example/p/1001" and first.metrics == {"likes": 12, "shares": 3}
    assert first.published_at.isoformat() == "2026-03-01T09:15:00+00:00"
    # other columns stay in raw, under their own names
    assert first.raw["Sentiment"] == "negative" and first.raw["text"] == first.text
    assert stored["1002"].metrics == {"likes": 4}


def test_missing_required_column_names_it_and_imports_nothing(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "export.csv", EXPORT)
    with pytest.raises(ImportFormatError) as caught:
        import_file(db, path=path, mapping={"id": "Post ID", "text": "Message"})
    message = str(caught.value)
    assert "missing required column 'published_at'" in message
    assert "id=Post ID" in message and "'Message'" in message and "--map published_at=COLUMN" in message
    assert counts(db) == {"mentions": 0, "quarantined": 0, "runs": 0, "sources": 0}

    with pytest.raises(ImportFormatError, match="names column 'Datum', which is not in the file"):
        import_file(db, path=path, mapping={**MAPPING, "published_at": "Datum"})
    with pytest.raises(ImportFormatError, match="missing required column 'text'"):
        import_file(db, path=write(tmp_path, "no-text.csv", "id,published_at\n1,2026-03-01\n"))
    assert counts(db) == {"mentions": 0, "quarantined": 0, "runs": 0, "sources": 0}


def test_header_matches_field_names_case_insensitively_and_semicolons(db: Database, tmp_path: Path) -> None:
    content = (
        "\ufeffID;Published_At;Text;Likes\n7;01.03.2026;Zug fällt aus;\n8;2026-03-01T08:00:00+02:00;Zug pünktlich;5\n"
    )
    run = import_file(db, path=write(tmp_path, "excel.csv", content.encode("utf-8")))
    assert (run.new, run.rejected) == (1, 1)
    (bad,) = quarantined(db)
    assert bad.location == "line 2" and "published_at" in bad.reason
    assert json.loads(bad.raw) == {"id": "7", "published_at": "01.03.2026", "text": "Zug fällt aus", "likes": ""}
    assert bad.context["row"] == "7;01.03.2026;Zug fällt aus;" and bad.context["header"].startswith("ID;")
    assert mentions(db)["8"].metrics == {"likes": 5}


def test_bad_records_are_located_by_their_first_line(db: Database, tmp_path: Path) -> None:
    content = (
        b"id,published_at,text\n"
        b'1,2026-03-01,"zwei\nZeilen"\n'  # lines 2-3
        b"2,2026-03-01,kaputt \xff\n"  # line 4: invalid UTF-8
        b"3,2026-03-01,zu,viele,Zellen\n"  # line 5: more cells than columns
        b"\n"  # line 6: blank
        b"4,2026-03-01,gut\n"  # line 7
    )
    run = import_file(db, path=write(tmp_path, "awkward.csv", content))
    assert (run.new, run.rejected) == (2, 2)
    by_line = {q.location: q for q in quarantined(db)}
    assert set(by_line) == {"line 4", "line 5"}
    assert (
        by_line["line 4"].raw == b"2,2026-03-01,kaputt \xff\n"
        and "invalid UTF-8 at byte 20" in by_line["line 4"].reason
    )
    assert "5 cells but the header has 3" in by_line["line 5"].reason and by_line["line 5"].content_type == "text/csv"
    assert set(mentions(db)) == {"1", "4"}


def test_source_config_remembers_mapping(db: Database, tmp_path: Path) -> None:
    from resonanz.sources.actions import do_create_source
    from resonanz.sources.schemas import SourceCreate

    with db.sessions() as session, session.begin():
        do_create_source(
            session, data=SourceCreate(name="hootsuite", kind="file", config={"mapping": MAPPING}, enabled=False)
        )
    run = import_file(db, path=write(tmp_path, "weekly.csv", EXPORT), source_name="hootsuite")
    assert run.new == 2 and mentions(db)["1002"].author_id is not None

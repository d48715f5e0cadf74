"""``resonanz export``: CSV and Parquet read back, scopes, aggregates, pseudonyms, CLI errors."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from resonanz.cli.main import app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.errors import InputError, NotFoundError
from resonanz.reports.export import (
    AGGREGATE_COLUMNS,
    MENTION_COLUMNS,
    ExportFormat,
    ExportKind,
    export,
    resolve_scope,
)
from resonanz.reports.pseudonyms import Pseudonymiser
from tests.reports.reports_data import NASTY, T0, build

runner = CliRunner()


def _scope(session: Session, **kw: object) -> object:
    args = {"query": None, "brand": None, "since": None, "until": None, **kw}
    return resolve_scope(session, **args)  # type: ignore[arg-type]


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("batch", [2, 1000])
def test_mentions_csv_round_trip_keeps_html_and_unicode(session: Session, tmp_path: Path, batch: int) -> None:
    ws = build(session, days=3)
    out = tmp_path / "m.csv"
    result = export(
        session, kind=ExportKind.mentions, fmt=ExportFormat.csv, out=out, scope=_scope(session), batch_size=batch
    )
    rows = _csv_rows(out)
    assert result.rows == len(rows) == len(ws.mentions) == 9
    assert list(rows[0]) == [c.name for c in MENTION_COLUMNS]
    first = rows[0]
    assert first["text"] == NASTY  # byte for byte: quotes, newline, script tag, emoji, bidi marks
    assert first["published_at"] == T0.isoformat() == "2026-03-02T09:00:00+00:00"
    assert first["author_handle"] == "user0" and first["source"] == "report-src" and first["sentiment"] == "positive"
    assert rows[1]["engagement"] == "2"  # likes 1 + shares 1
    assert [int(r["id"]) for r in rows] == ws.mentions  # oldest first
    assert not list(tmp_path.glob(".*partial"))


def test_mentions_parquet_round_trip(session: Session, tmp_path: Path) -> None:
    ws = build(session, days=3)
    out = tmp_path / "m.parquet"
    export(session, kind=ExportKind.mentions, fmt=ExportFormat.parquet, out=out, scope=_scope(session), batch_size=4)
    pf = pq.ParquetFile(out)
    assert pf.metadata.num_row_groups == 3  # 9 rows in batches of 4: one row group per batch
    table = pf.read()
    assert table.column_names == [c.name for c in MENTION_COLUMNS]
    assert str(table.schema.field("published_at").type) == "timestamp[us, tz=UTC]"
    data = table.to_pylist()
    assert [r["id"] for r in data] == ws.mentions
    assert data[0]["text"] == NASTY and data[0]["published_at"] == T0
    assert data[3]["author_followers"] == 300 and data[0]["needs_response"] is None


def test_scopes_by_query_brand_and_time(session: Session, tmp_path: Path) -> None:
    ws = build(session, days=4)
    out = tmp_path / "q.csv"

    def ids(**kw: object) -> list[int]:
        export(session, kind=ExportKind.mentions, fmt=ExportFormat.csv, out=out, scope=_scope(session, **kw))
        return [int(r["id"]) for r in _csv_rows(out)]

    assert ids(query="rivale") == ws.mentions[::3]
    assert ids(brand="Nordwelle") == ws.mentions  # matched by two queries, exported once
    assert ids(query="nordwelle-app", since=T0 + timedelta(days=1), until=T0 + timedelta(days=2)) == [
        m for i, m in enumerate(ws.mentions) if i % 2 == 0 and 3 <= i < 6
    ]
    with pytest.raises(NotFoundError):
        _scope(session, query="nope")
    with pytest.raises(InputError):
        _scope(session, query="rivale", brand="Rivale")
    with pytest.raises(InputError):
        _scope(session, since=T0, until=T0)


def test_aggregates_daily_per_query_and_brand(session: Session, tmp_path: Path) -> None:
    build(session, days=2)  # 6 mentions: n = 0..5
    out = tmp_path / "a.parquet"
    export(session, kind=ExportKind.aggregates, fmt=ExportFormat.parquet, out=out, scope=_scope(session))
    table = pq.read_table(out)
    assert table.column_names == [c.name for c in AGGREGATE_COLUMNS]
    got = {(r["scope_kind"], r["scope_name"], r["day"]): r for r in table.to_pylist()}
    d1, d2 = date(2026, 3, 2), date(2026, 3, 3)
    # day 1: n=0,1,2 (pos, neg, neu); day 2: n=3,4,5 (pos, neg, neu)
    assert got[("query", "nordwelle", d1)]["mentions"] == 3
    assert got[("query", "nordwelle-app", d1)]["mentions"] == 2  # n=0, 2
    assert got[("query", "rivale", d2)]["mentions"] == 1  # n=3
    brand = got[("brand", "Nordwelle", d1)]
    assert (brand["mentions"], brand["positive"], brand["neutral"], brand["negative"]) == (3, 1, 1, 1)
    assert brand["net_sentiment"] == 0.0
    rival = got[("query", "rivale", d1)]
    assert (rival["positive"], rival["net_sentiment"]) == (1, 1.0)
    assert got[("all", "", d2)]["mentions"] == 3
    out_csv = tmp_path / "a.csv"
    export(
        session, kind=ExportKind.aggregates, fmt=ExportFormat.csv, out=out_csv, scope=_scope(session, brand="Rivale")
    )
    rows = _csv_rows(out_csv)
    assert {(r["scope_kind"], r["scope_name"]) for r in rows} == {("query", "rivale"), ("brand", "Rivale")}
    assert rows[0]["day"] == "2026-03-02"


def test_pseudonymised_export_hides_people_but_keeps_links_between_rows(session: Session, tmp_path: Path) -> None:
    build(session, days=2)
    out = tmp_path / "p.csv"
    key = Pseudonymiser("k1")
    export(session, kind=ExportKind.mentions, fmt=ExportFormat.csv, out=out, scope=_scope(session), pseudonymiser=key)
    rows = _csv_rows(out)
    blob = out.read_text(encoding="utf-8")
    for secret in ("user0", "user1", "Person", "anna_k", "anna@example.org", "social.example", "r-1"):
        assert secret not in blob
    assert {r["author_handle"] for r in rows} == {key.author("mastodon", f"user{i}") for i in range(4)}
    assert rows[0]["author_handle"] == rows[4]["author_handle"]  # same person, same pseudonym
    assert rows[0]["author_handle"] != rows[1]["author_handle"]
    assert all(r[c] == "" for r in rows for c in ("url", "external_id", "author_id", "author_name"))
    assert f"@{key.author('mastodon', 'anna_k')}" in rows[1]["text"] and "#bahn" in rows[1]["text"]
    assert Pseudonymiser("k2").author("mastodon", "user0") != key.author("mastodon", "user0")
    with pytest.raises(InputError):
        export(
            session, kind=ExportKind.aggregates, fmt=ExportFormat.csv, out=out, scope=_scope(session), pseudonymiser=key
        )


def test_pseudonym_text_rules() -> None:
    p = Pseudonymiser(b"key")
    text = p.text("hi @Anna and @bob@mastodon.social, mail x.y+z@example.co.uk; not a@ b", platform="mastodon")
    assert "Anna" not in text and "bob" not in text and "example.co.uk" not in text
    assert text.startswith(f"hi @{p.author('mastodon', 'anna')} and @")
    assert text.endswith("not a@ b")
    assert p.text("no at sign", platform="x") == "no at sign"


def test_cli_export_writes_file_and_reports_bad_input(settings: Settings, db: Database, tmp_path: Path) -> None:
    with db.sessions() as s, s.begin():
        build(s, days=2)
    base = ["--database-url", settings.database_url or "", "--data-dir", str(settings.data_dir)]
    out = tmp_path / "cli.parquet"
    res = runner.invoke(
        app, [*base, "export", "mentions", "--format", "parquet", "--out", str(out), "--brand", "Rivale"]
    )
    assert res.exit_code == 0, res.output
    assert pq.read_table(out).num_rows == 2
    res = runner.invoke(app, [*base, "export", "aggregates", "--since", "2026-03-03"])
    assert res.exit_code == 0, res.output
    days = {r["day"] for r in csv.DictReader(io.StringIO(res.stdout))}
    assert days == {"2026-03-03"}
    res = runner.invoke(app, [*base, "export", "mentions", "--query", "missing"])
    assert res.exit_code == 3 and "missing" in res.output
    res = runner.invoke(app, [*base, "export", "mentions", "--since", "yesterday"])
    assert res.exit_code == 5 and "--since" in res.output
    res = runner.invoke(app, [*base, "export", "mentions", "--format", "parquet"])
    assert res.exit_code == 5 and "--out" in res.output
    res = runner.invoke(app, [*base, "export", "mentions", "--out", str(tmp_path / "no" / "x.csv")])
    assert res.exit_code == 5

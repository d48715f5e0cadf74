"""``/api/v1/analytics``: the same numbers as the service, scope parameters validated as
problem+json naming the parameter, the viewer role may read, a signed-out caller may not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from resonanz.accounts.permissions import Role
from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.listening.rollups import rebuild, refresh_mentions
from tests.listening.dashboards_data import author, brand, mention, query
from tests.support.accounts_factory import api_client

T = datetime(2026, 3, 29, 9, tzinfo=UTC)
RANGE = {"since": "2026-03-28T00:00:00+00:00", "until": "2026-03-31T00:00:00+00:00", "tz": "Europe/Berlin"}


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
def store(db: Database) -> dict[str, int]:
    with db.sessions() as session:
        own, rival = brand(session, "Nordwelle"), brand(session, "Rival", "competitor")
        q1, q2 = query(session, "nw", own.id), query(session, "rv", rival.id)
        a = author(session, "anna", 300)
        for _ in range(3):
            mention(
                session, T, author_id=a.id, queries=(q1.id,), entities={"hashtags": ["#nw"], "keyphrases": ["akku"]}
            )
        mention(session, T, sentiment="negative", queries=(q2.id,))
        rebuild(session)
        session.commit()
        return {"own": own.id, "rival": rival.id, "q1": q1.id, "q2": q2.id}


@pytest.fixture
def viewer(app: FastAPI, db: Database) -> TestClient:
    return api_client(app, db, Role.viewer)


def _get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(f"/api/v1/analytics/{path}", params={**RANGE, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_resources_answer_the_services_numbers(viewer: TestClient, store: dict[str, int]) -> None:
    volume = _get(viewer, "volume")
    assert volume["total"] == 4 and volume["tz"] == "Europe/Berlin"
    # 28 March 01:00 to 31 March 02:00 in Berlin: four local days
    assert [p["count"] for p in volume["points"]] == [0, 4, 0, 0]
    assert volume["points"][1]["start"] == "2026-03-29T00:00:00+01:00"
    assert _get(viewer, "volume", query_id=store["q1"])["total"] == 3
    assert _get(viewer, "volume", brand_id=[store["own"], store["rival"]])["total"] == 4
    assert _get(viewer, "sentiment")["negative"] == 1
    sov = _get(viewer, "share-of-voice")
    assert [(i["name"], i["count"]) for i in sov["items"]] == [("Nordwelle", 3), ("Rival", 1)]
    assert _get(viewer, "top/hashtags")["items"] == [{"value": "#nw", "count": 3}]
    assert _get(viewer, "top/terms", query_id=store["q1"])["items"] == [{"value": "akku", "count": 3}]
    assert _get(viewer, "top/authors", by="volume")["items"][0]["handle"] == "anna"
    assert _get(viewer, "languages")["items"][0] == {"key": "de", "label": "de", "count": 4, "reach": 900, "share": 1.0}
    assert _get(viewer, "sources")["total"] == 4
    assert _get(viewer, "platforms")["items"][0]["key"] == "mastodon"
    assert _get(viewer, "emerging")["min_count"] >= 1
    board = _get(viewer, "dashboard", interval="hour")
    assert board["volume"]["total"] == 4 and len(board["volume"]["points"]) == 72


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"tz": "Nowhere/Town"}, "tz"),
        ({"interval": "minute"}, "interval"),
        ({"since": "2026-04-01T00:00:00+00:00"}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-03-01T00:00:00"}, "since"),  # no offset
        ({"query_id": "0"}, "query_id"),
        ({"query_id": "999"}, "query_id"),
        ({"brand_id": "x"}, "brand_id"),
        ({"since": "2024-01-01T00:00:00+00:00"}, "since"),
    ],
)
def test_bad_parameters_are_problems_naming_the_parameter(
    viewer: TestClient, store: dict[str, int], params: dict[str, str], param: str
) -> None:
    response = viewer.get("/api/v1/analytics/volume", params={**RANGE, **params})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    fields = str(body)
    assert param in fields, body


def test_unknown_top_kind_and_limits_are_refused(viewer: TestClient, store: dict[str, int]) -> None:
    assert viewer.get("/api/v1/analytics/top/emojis", params=RANGE).status_code == 422
    assert viewer.get("/api/v1/analytics/top/terms", params={**RANGE, "limit": 0}).status_code == 422


def test_signed_out_is_refused(app: FastAPI, store: dict[str, int]) -> None:
    response = TestClient(app).get("/api/v1/analytics/dashboard", params=RANGE)
    assert response.status_code == 401


def test_several_queries_or_brands_count_once(viewer: TestClient, db: Database, store: dict[str, int]) -> None:
    with db.sessions() as session:
        both = mention(session, T, sentiment="positive", queries=(store["q1"], store["q2"]),
                       entities={"hashtags": ["#nw"], "keyphrases": ["akku"]})  # fmt: skip
        refresh_mentions(session, mention_ids=[both.id])
        session.commit()
    for chosen in ({"query_id": [store["q1"], store["q2"]]}, {"brand_id": [store["own"], store["rival"]]}):
        assert _get(viewer, "volume", **chosen)["total"] == 5
        sentiment = _get(viewer, "sentiment", **chosen)
        assert (sentiment["positive"], sentiment["negative"], sentiment["neutral"]) == (1, 1, 3)
        assert _get(viewer, "languages", **chosen)["total"] == 5
        assert _get(viewer, "top/hashtags", **chosen)["items"] == [{"value": "#nw", "count": 4}]
        board = _get(viewer, "dashboard", **chosen)
        assert board["volume"]["total"] == board["sources"]["total"] == board["top_terms"]["total"] == 5
        # share of voice compares the chosen items: the shared mention is in each
        assert [i["count"] for i in board["share_of_voice"]["items"]] == [4, 2]

"""``/dashboards``: renders every chart for all mentions, a brand and a query; escapes authors,
terms and brand names; click-through links open the explorer filtered to the bucket, query and
value; German and English; bad form values are messages, not errors; charts are well-formed XML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from fastapi import FastAPI

from resonanz import clock
from resonanz.accounts.permissions import Role
from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.listening.rollups import rebuild
from tests.listening.dashboards_data import author, brand, mention, query
from tests.support.accounts_factory import signed_in_client

NOW = datetime(2026, 3, 30, 12, tzinfo=UTC)
XSS = '<script>alert("x")</script>'


@pytest.fixture(autouse=True)
def frozen() -> object:
    clock.set_clock(lambda: NOW)
    yield None
    clock.set_clock(None)


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
def store(db: Database) -> dict[str, int]:
    with db.sessions() as session:
        own, rival = brand(session, f"Nord{XSS}"), brand(session, "Rival", "competitor")
        q1, q2 = query(session, "nw", own.id), query(session, "rv", rival.id)
        evil = author(session, "evil", 9000, XSS)
        t = NOW - timedelta(days=1)
        for i in range(6):
            mention(
                session,
                t + timedelta(minutes=i),
                author_id=evil.id,
                queries=(q1.id,),
                sentiment="negative",
                text="akku leer",
                entities={"keyphrases": ["akku", f"<img src=x onerror=alert(1)>{i % 2}"], "hashtags": ["#Akku"]},
            )
        mention(session, t, queries=(q2.id,), text="anderes")
        mention(session, NOW - timedelta(days=20), text="alt")  # outside 7 days
        rebuild(session)
        session.commit()
        return {"own": own.id, "q1": q1.id, "q2": q2.id, "author": evil.id}


def _svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


def test_page_renders_every_chart_escaped_and_well_formed(app: FastAPI, db: Database, store: dict[str, int]) -> None:
    client = signed_in_client(app, db, Role.viewer, time_zone="Europe/Berlin")
    response = client.get("/dashboards")
    assert response.status_code == 200, response.text
    html = response.text
    assert XSS not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    for key in ("volume", "sentiment", "net", "share", "terms", "hashtags", "authors_reach", "languages", "emerging"):
        assert f'data-chart="{key}"' in html, key
    svgs = _svgs(html)
    assert len(svgs) >= 12
    for svg in svgs:
        ET.fromstring(svg)
    assert 'data-stat="total"><a href="/mentions?since=2026-03-24&amp;until=2026-03-30">7<' in html
    assert "/static/dashboards.js" in html and "/static/charts.css" in html
    assert " style=" not in html and "<script>" not in html.replace('<script src="/static/', "")


def test_click_through_opens_the_mentions_behind_a_point(app: FastAPI, db: Database, store: dict[str, int]) -> None:
    client = signed_in_client(app, db, Role.viewer, time_zone="Europe/Berlin")
    html = client.get("/dashboards", params={"scope": f"query:{store['q1']}"}).text
    hrefs = [unescape(h) for h in re.findall(r'data-href="([^"]+)"', html)]
    day = next(h for h in hrefs if "since=2026-03-29&until=2026-03-29" in h and "q=" not in h and "sentiment" not in h)
    assert day.startswith(f"/mentions?query={store['q1']}&")
    listed = client.get(day)
    assert listed.status_code == 200
    assert listed.text.count('class="mention') >= 1 or "akku leer" in listed.text
    assert "anderes" not in listed.text  # the other query's mention is not in this scope
    author_link = next(h for h in hrefs if f"author={store['author']}" in h)
    assert "akku leer" in client.get(author_link).text
    term_link = next(h for h in hrefs if "q=%22akku%22" in h)
    assert "akku leer" in client.get(term_link).text


def test_brand_scope_and_share_of_voice(app: FastAPI, db: Database, store: dict[str, int]) -> None:
    client = signed_in_client(app, db, Role.viewer)
    html = client.get("/dashboards", params={"scope": f"brand:{store['own']}", "range": "30d"}).text
    assert 'data-stat="total"><a href="/mentions?query=' in html
    assert ">7<" not in html.split('data-stat="total"')[1][:200]  # 6 of the brand, not 8 of all
    assert "Rival (" in html or "Rival" in html


def test_german_page(app: FastAPI, db: Database, store: dict[str, int]) -> None:
    client = signed_in_client(app, db, Role.viewer, language="de")
    html = client.get("/dashboards").text
    for text in ("Stimmung im Zeitverlauf", "Häufigste Begriffe", "Zeitraum", "Alle Erwähnungen", "Letzte 7 Tage"):
        assert text in html, text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"scope": "brand:999"}, "scope"),
        ({"scope": "nonsense"}, "scope"),
        ({"range": "custom", "since": "gestern"}, "since"),
        ({"range": "custom", "since": "2026-03-10", "until": "2026-03-01"}, "until"),
        ({"range": "custom", "since": "2020-01-01", "until": "2026-03-01"}, "since"),
        ({"range": "custom", "since": "2025-12-01", "until": "2026-03-29", "interval": "hour"}, "interval"),
        ({"interval": "minute"}, "interval"),
    ],
)
def test_bad_values_are_messages(
    app: FastAPI, db: Database, store: dict[str, int], params: dict[str, str], field: str
) -> None:
    client = signed_in_client(app, db, Role.viewer)
    response = client.get("/dashboards", params=params)
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.text
    assert 'data-chart="volume"' in response.text  # the default view is still shown


def test_custom_range_and_hourly_interval(app: FastAPI, db: Database, store: dict[str, int]) -> None:
    client = signed_in_client(app, db, Role.viewer)
    params = {"range": "custom", "since": "2026-03-29", "until": "2026-03-29", "interval": "hour"}
    html = client.get("/dashboards", params=params).text
    volume = _svgs(html.split('data-chart="volume"')[1])[0]
    assert len(re.findall(r'class="rz-hit"', volume)) == 24


def test_share_of_voice_bars_open_each_brands_mentions(app: FastAPI, db: Database, store: dict[str, int]) -> None:
    client = signed_in_client(app, db, Role.viewer)
    html = client.get("/dashboards").text
    share = html.split('data-chart="share"')[1].split("</figure>")[0]
    hrefs = [unescape(h) for h in re.findall(r'data-href="([^"]+)"', share)]
    assert f"/mentions?query={store['q1']}&since=" in hrefs[0]
    assert "akku leer" in client.get(hrefs[0]).text
    assert "anderes" in client.get(hrefs[1]).text and "akku leer" not in client.get(hrefs[1]).text


def test_an_empty_range_points_to_the_newest_mentions(app: FastAPI, db: Database) -> None:
    """Mentions only from two months ago (an old import, last month's demo): the default week is
    empty, so the page says when the newest mention is from and links to the 30 days up to it —
    for all mentions and for a query; a scope with nothing at all gets no link."""
    with db.sessions() as session:
        own = brand(session, "Nord")
        q1, empty = query(session, "nw", own.id), query(session, "nothing", own.id)
        newest = NOW - timedelta(days=60)
        for i in range(3):
            mention(session, newest - timedelta(days=i), queries=(q1.id,), text="akku leer")
        rebuild(session)
        session.commit()
    client = signed_in_client(app, db, Role.viewer, time_zone="Europe/Berlin", language="de")
    for scope in ("all", f"query:{q1.id}", f"brand:{own.id}"):
        html = client.get("/dashboards", params={"scope": scope}).text
        assert "data-empty-range" in html, scope
        assert "Keine Erwähnungen in diesem Zeitraum" in html and "29.01.26, 13:00" in html
        href = unescape(re.search(r'data-empty-range>.*?<a href="([^"]+)"', html, flags=re.S).group(1))  # type: ignore[union-attr]
        assert "range=custom" in href and "since=2025-12-31" in href and "until=2026-01-29" in href, href
        shown = client.get(href).text
        assert "data-empty-range" not in shown
        assert 'data-stat="total"><a href="/mentions?' in shown and ">3<" in shown.split('data-stat="total"')[1][:300]
    html = client.get("/dashboards", params={"scope": f"query:{empty.id}"}).text
    assert "data-empty-range" not in html

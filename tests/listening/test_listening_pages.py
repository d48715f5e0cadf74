"""The listening pages: query list per brand, the editor (save, syntax error with caret, versions
with a word diff and restore, delete), brands, permissions, German, and escaping of user text."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from resonanz.accounts.permissions import Role
from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.listening.brands import do_create_brand
from resonanz.listening.queries import do_create_query
from resonanz.listening.query import Doc
from resonanz.web.listening import word_diff
from tests.listening.factories import store_docs
from tests.support.accounts_factory import signed_in_client
from tests.web.html_checks import check


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
def client_as(app: FastAPI, db: Database) -> Iterator[Callable[..., TestClient]]:
    def make(role: Role | str, **kw: Any) -> TestClient:
        client = signed_in_client(app, db, role, **kw)
        client.follow_redirects = False
        return client

    yield make


def _csrf(client: TestClient) -> str:
    return str(client.principal.csrf_token)  # type: ignore[attr-defined]


def _seed(db: Database) -> tuple[int, int]:
    with db.sessions() as s:
        store_docs(s, [Doc(text="Nordwelle Tarif <b>teuer</b>"), Doc(text="Wetter"), Doc(text="Nordwelle App")])
        brand = do_create_brand(s, name="Nordwelle <i>", kind="own", aliases=["NW"])
        query = do_create_query(s, name="tarif <script>", text="nordwelle tarif", brand_id=brand.id)
        s.commit()
        return brand.id, query.id


def test_list_groups_queries_by_brand_and_escapes(client_as: Callable[..., TestClient], db: Database) -> None:
    brand_id, query_id = _seed(db)
    html = client_as(Role.viewer).get("/queries").text
    assert f'data-brand="{brand_id}"' in html and f'data-query-id="{query_id}"' in html
    assert "Nordwelle &lt;i&gt;" in html and "tarif &lt;script&gt;" in html
    assert "being applied to history" in html  # the re-apply job has not run
    assert 'href="/queries/new"' not in html  # a viewer cannot write queries
    found = check(html)
    assert found.problems == []
    assert 'data-nav="queries"' in html


def test_editor_saves_versions_and_restores(client_as: Callable[..., TestClient], db: Database) -> None:
    brand_id, query_id = _seed(db)
    client = client_as(Role.analyst)
    page = client.get(f"/queries/{query_id}")
    assert page.status_code == 200
    assert "data-query-editor" in page.text and "/static/listening.js" in page.text
    assert f'data-csrf="{_csrf(client)}"' in page.text
    assert check(page.text).problems == []
    form = {"csrf_token": _csrf(client), "name": "tarif", "text": "nordwelle AND (tarif", "brand_id": str(brand_id),
            "note": "", "active": "on"}  # fmt: skip
    bad = client.post(f"/queries/{query_id}", data=form)
    assert bad.status_code == 400
    assert "column 15" in bad.text and "nordwelle AND (tarif\n" + " " * 14 + "^" in bad.text
    form.update(text="nordwelle (tarif OR app)", note="app too")
    saved = client.post(f"/queries/{query_id}", data=form)
    assert saved.status_code == 303 and saved.headers["location"] == f"/queries/{query_id}?saved=1"
    page = client.get(f"/queries/{query_id}?saved=1").text
    assert "v2" in page and "app too" in page and "data-saved" in page
    assert re.search(r"<ins>\(tarif OR app\)</ins>", page)
    restored = client.post(f"/queries/{query_id}/restore", data={"csrf_token": _csrf(client), "version": "1"})
    assert restored.status_code == 303
    page = client.get(f"/queries/{query_id}").text
    assert "v3" in page and "restored version 1" in page
    assert client.post(f"/queries/{query_id}/restore", data={"version": "1"}).status_code == 403  # no CSRF token
    gone = client.post(f"/queries/{query_id}/delete", data={"csrf_token": _csrf(client)})
    assert gone.status_code == 303 and client.get(f"/queries/{query_id}").status_code == 404


def test_new_query_form(client_as: Callable[..., TestClient], db: Database) -> None:
    brand_id, _query_id = _seed(db)
    client = client_as(Role.manager)
    page = client.get(f"/queries/new?brand={brand_id}").text
    assert f'<option value="{brand_id}" selected>' in page
    data = {"csrf_token": _csrf(client), "name": "app", "text": "nordwelle app", "brand_id": str(brand_id),
            "note": "first", "active": "on"}  # fmt: skip
    created = client.post("/queries/new", data=data)
    assert created.status_code == 303
    taken = client.post("/queries/new", data=data)
    assert taken.status_code == 400 and "exists already" in taken.text
    assert client_as(Role.viewer).get("/queries/new").status_code == 403
    assert client_as(Role.viewer).post("/queries/new", data=data).status_code == 403


def test_brands_page(client_as: Callable[..., TestClient], db: Database) -> None:
    brand_id, _query_id = _seed(db)
    client = client_as(Role.analyst, language="de")
    page = client.get("/brands").text
    assert "Marken" in page and "Eigene Marke" in page and "NW" in page
    added = client.post("/brands", data={"csrf_token": _csrf(client), "name": "Brandungsnetz", "kind": "competitor",
                                         "aliases": "BN, Brandung", "description": ""})  # fmt: skip
    assert added.status_code == 303
    page = client.get("/brands").text
    assert "Brandungsnetz" in page and "BN, Brandung" in page and "Mitbewerber" in page
    dup = client.post("/brands", data={"csrf_token": _csrf(client), "name": "brandungsnetz", "kind": "own"})
    assert dup.status_code == 400
    removed = client.post(f"/brands/{brand_id}/delete", data={"csrf_token": _csrf(client)})
    assert removed.status_code == 303
    assert "Ohne Marke" in client.get("/queries").text


def test_german_editor(client_as: Callable[..., TestClient], db: Database) -> None:
    _seed(db)
    page = client_as(Role.analyst, language="de").get("/queries/new").text
    assert "Neue Abfrage" in page and "Gegen den Bestand testen" in page
    assert "{num} Erwähnungen passen" in page


def test_word_diff_escapes() -> None:
    assert str(word_diff("a <b> c", "a <b> d")) == "a &lt;b&gt; <del>c</del> <ins>d</ins>"

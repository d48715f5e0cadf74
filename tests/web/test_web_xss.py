"""Untrusted post content never becomes markup that runs: the XSS corpus (tests/browser) in text,
title, HTML, author and URLs, checked on the HTML the pages send. The browser proof that nothing
executes is tests/browser; this test pins the escaping and sanitising themselves."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from resonanz.accounts.permissions import Role
from resonanz.web.sanitise import safe_url, sanitise_html
from tests.browser.browser_xss_corpus import PAYLOADS
from tests.web.html_checks import check
from tests.web.web_data import Seeded


@pytest.fixture
def admin(client_as: Callable[..., TestClient]) -> TestClient:
    return client_as(Role.admin)  # sees everything, the raw payload included


def assert_inert(html: str, where: str) -> None:
    found = check(html)
    assert found.problems == [], where
    assert len(found.scripts) == 1 and (found.scripts[0] or "").startswith("/static/resonanz.js"), where


def test_explorer_list_with_the_corpus_is_inert(admin: TestClient, seeded: Seeded) -> None:
    response = admin.get("/mentions", params={"q": "xsscorpus", "limit": "100"})
    assert response.status_code == 200
    assert len(seeded.xss_ids) == len(PAYLOADS)
    assert f'data-count="{len(PAYLOADS)}"' in response.text
    assert_inert(response.text, "list")
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in response.text  # shown as text, escaped


def test_every_detail_page_of_the_corpus_is_inert(admin: TestClient, seeded: Seeded) -> None:
    for mention_id in [*seeded.xss_ids, seeded.html_id]:
        response = admin.get(f"/mentions/{mention_id}")
        assert response.status_code == 200
        assert "data-raw" in response.text
        assert_inert(response.text, f"/mentions/{mention_id}")


def test_post_html_keeps_harmless_markup_and_drops_the_rest(admin: TestClient, seeded: Seeded) -> None:
    html = admin.get(f"/mentions/{seeded.html_id}").text
    body = html.split("data-body>", 1)[1].split("</div>", 1)[0]
    assert "<b>world</b>" in body
    assert '<a href="https://ok.example/page" rel="noopener noreferrer nofollow ugc">fine link</a>' in body
    assert "<a rel=" in body and "click me" in body  # the javascript: link lost its href, kept its text
    assert "__xss" not in body


@pytest.mark.parametrize("payload", PAYLOADS)
def test_sanitiser_output_is_inert_for_every_payload(payload: str) -> None:
    assert check(str(sanitise_html(payload))).problems == []
    assert check(str(sanitise_html(f"<p>{payload}</p>"))).scripts == []


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", " JavaScript:alert(1)", "java\tscript:x", "data:text/html,x", "vbscript:x", "//evil"],
)
def test_links_from_posts_are_http_only(url: str) -> None:
    assert safe_url(url) is None
    assert safe_url("https://example.org/a?b=1") == "https://example.org/a?b=1"


@pytest.mark.parametrize(
    "html",
    [
        "<script>window.__xss=1</script>",
        "<p onclick=x()>t</p>",
        '<a href="javascript:x()">t</a>',
        '<a href=" jav&#x09;ascript:x()">t</a>',
        '<p style="color:red">t</p>',
        "<iframe srcdoc=x></iframe>",
        '<form action="javascript:x"></form>',
    ],
)
def test_the_checker_itself_catches_live_markup(html: str) -> None:
    found = check(html)
    assert found.problems or found.scripts

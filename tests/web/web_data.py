"""Mentions for the page tests, stored through the real ingest path and analysed by the real stages.

A small thread (a German complaint and an English reply), a post with hostile HTML, the XSS corpus
in text, title and author fields, and a run of similar posts for pagination.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.analysis.runner import analyze_ids, build_stages
from resonanz.analysis.stages.base import Stage
from resonanz.config import Settings
from resonanz.mentions.ingest import store_batch
from resonanz.mentions.models import Mention
from resonanz.mentions.schemas import AuthorIn, MentionIn
from resonanz.sources.actions import get_or_create_source
from tests.browser.browser_xss_corpus import PAYLOADS

#: 23:30 UTC on 20 November is 00:30 on 21 November in Berlin and 18:30 on the 20th in New York
ROOT_PUBLISHED = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
PAGINATION_COUNT = 60
HOSTILE_HTML = (
    '<p>Hello <b>world</b></p><script>window.__xss=1</script><img src=x onerror="window.__xss=1">'
    '<a href="javascript:window.__xss=1">click me</a><a href="https://ok.example/page">fine link</a>'
)


@lru_cache(maxsize=1)
def stages() -> list[Stage]:
    """The analysis stages, built once per test process (loading the models takes about a second)."""
    return build_stages(Settings(brands={"Bahn": ["bahn", "db"]}))


@dataclass
class Seeded:
    source_id: int
    root_id: int
    reply_id: int
    html_id: int
    xss_ids: list[int]
    page_ids: list[int]


def _item(external_id: str, text: str, *, published: datetime, **kw: Any) -> MentionIn:
    return MentionIn(
        platform=kw.pop("platform", "mastodon"), external_id=external_id, text=text, published_at=published, **kw
    )


def seed(session: Session) -> Seeded:
    """Store and analyse the test mentions; commits."""
    source = get_or_create_source(session, name="web-test", kind="file")
    anna = AuthorIn(handle="anna", name="Anna Beispiel", url="https://social.example/@anna", followers=1200)
    bob = AuthorIn(handle="bob", name="Bob", followers=10)
    items = [
        _item("root", "Die App stürzt beim Bezahlen ab, echt ärgerlich! Rückruf jetzt!", published=ROOT_PUBLISHED,
              author=anna, url="https://social.example/@anna/1", raw={"secret_field": "raw-payload-marker"}),
        _item("reply", "Thanks for the quick help with my refund, great service!", parent_external_id="root",
              published=ROOT_PUBLISHED + timedelta(hours=1), author=bob),
        _item("html", "Hello world click me fine link", html=HOSTILE_HTML, platform="feed",
              published=ROOT_PUBLISHED - timedelta(days=1), title="<script>window.__xss=1</script>Blog", author=bob),
    ]  # fmt: skip
    for i, payload in enumerate(PAYLOADS):
        items.append(
            _item(
                f"xss-{i}",
                f"xsscorpus {payload}",
                platform="feed",
                title=payload,
                published=ROOT_PUBLISHED - timedelta(days=2, minutes=i),
                author=AuthorIn(handle=f"x{i}", name=payload[:300], url="javascript:window.__xss=1"),
                url="https://evil.example/#'><img src=x onerror=window.__xss=1>",
            )
        )
    for i in range(PAGINATION_COUNT):
        items.append(
            _item(
                f"page-{i}",
                f"Zug Verspätung heute Nummer {i}",
                platform="bluesky",
                published=ROOT_PUBLISHED - timedelta(days=3, minutes=i),
                author=bob,
            )
        )
    store_batch(session, items, source_id=source.id, now=ROOT_PUBLISHED + timedelta(days=1))
    session.commit()
    ids = {m.external_id: m.id for m in session.scalars(select(Mention))}
    analyze_ids(session, stages(), list(ids.values()))
    session.commit()
    return Seeded(
        source_id=source.id,
        root_id=ids["root"],
        reply_id=ids["reply"],
        html_id=ids["html"],
        xss_ids=[ids[f"xss-{i}"] for i in range(len(PAYLOADS))],
        page_ids=[ids[f"page-{i}"] for i in range(PAGINATION_COUNT)],
    )

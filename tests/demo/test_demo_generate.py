"""The demo data set: deterministic, the promised mix, one visible crisis, labelled as demo data,
and documents that the real connectors accept."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import date
from urllib.parse import urlsplit

import pytest

from resonanz.connectors.feed.connector import FeedConnector
from resonanz.connectors.file.connector import FileConnector
from resonanz.demo import DemoDataset, generate
from resonanz.demo.render import fingerprint, record, render
from resonanz.demo.world import DEMO_MARK, DEMO_PREFIX, INFLUENCERS
from resonanz.mentions.models import MentionKind
from resonanz.mentions.text import content_hash


@pytest.fixture(scope="module")
def data() -> DemoDataset:
    return generate()


def test_same_seed_same_bytes_other_seed_other_bytes(data: DemoDataset) -> None:
    again = generate()
    assert fingerprint(*render(again)) == fingerprint(*render(data))
    assert fingerprint(*render(generate(seed=1))) != fingerprint(*render(data))


def test_size_window_and_mix(data: DemoDataset) -> None:
    assert 3000 <= len(data.posts) <= 5000
    days = {p.published_at.date() for p in data.posts}
    assert min(days) >= data.start and max(days) <= data.anchor
    assert (data.anchor - data.start).days == 89 and len(days) >= 85
    languages = Counter(p.language for p in data.posts)
    assert languages["de"] > len(data.posts) / 2 and languages["en"] > len(data.posts) / 20
    channels = Counter(p.channel for p in data.posts)
    assert set(channels) == {"news-de", "news-en", "blog", "blog-comment", "social", "reviews"}
    categories = Counter(p.category for p in data.posts)
    for category in ("complaint", "question", "praise", "competitor", "crisis", "reply", "service", "repost"):
        assert categories[category] >= 20, category
    complaints = " ".join(p.text for p in data.posts if p.category == "complaint").lower()
    for topic in ("verspätung", "stürzt", "abgebucht", "erstattung", "verdreckt", "unfreundlich"):
        assert topic in complaints, topic
    loud = {p.author.handle for p in data.posts if p.author and p.author.followers >= 50_000}
    assert {DEMO_PREFIX + h for h, *_ in INFLUENCERS} <= loud


def test_crisis_is_a_spike_of_negative_posts(data: DemoDataset) -> None:
    negative = Counter(p.published_at.date() for p in data.posts if p.sentiment == "negative")
    median = statistics.median(negative.get(d, 0) for d in {p.published_at.date() for p in data.posts})
    peak_day, peak = negative.most_common(1)[0]
    assert data.crisis_start <= peak_day <= data.crisis_end
    assert peak > 5 * median
    assert data.crisis_start > data.start + (data.anchor - data.start) / 2  # second half
    crisis = [p for p in data.posts if p.category == "crisis"]
    assert all("#NordwelleDown" in p.text for p in crisis if p.channel == "social" and p.language == "de")


def test_threads_and_reposts(data: DemoDataset) -> None:
    ids = {p.id: p for p in data.posts}
    replies = [p for p in data.posts if p.parent_id]
    assert len(replies) > 500
    for reply in replies:
        parent = ids[reply.parent_id]  # every parent is in the data set ...
        assert parent.published_at <= reply.published_at  # ... and older than its reply
    deep = [r for r in replies if ids[r.parent_id].parent_id]
    assert deep, "some replies answer a reply"
    reposts = [p for p in data.posts if p.repost_of]
    assert len(reposts) >= 30
    for repost in reposts:
        assert content_hash(repost.text) == content_hash(ids[repost.repost_of].text)
    texts = Counter(content_hash(p.text, p.title) for p in data.posts)
    assert sum(n - 1 for n in texts.values()) == len(reposts), "only reposts repeat a text"


def test_everything_is_labelled_demo_and_uses_example_domains(data: DemoDataset) -> None:
    feeds, files = render(data)
    assert all(doc.source.startswith(DEMO_PREFIX) for doc in [*feeds, *files])
    for doc in feeds:
        assert DEMO_MARK.encode() in doc.body[:2000]
    for post in data.posts:
        for url in (post.url, post.id if post.id.startswith("http") else None):
            if url:
                assert (urlsplit(url).hostname or "").endswith(".example"), url
        if post.title:
            assert post.title.startswith("[DEMO]")
        if post.channel in ("social", "reviews"):
            assert post.author is not None and post.author.handle.startswith(DEMO_PREFIX)
            assert record(post)["demo"] is True


def test_feeds_parse_with_the_feed_connector(data: DemoDataset) -> None:
    feeds, _ = render(data)
    parsed = {}
    for doc in feeds:
        split = FeedConnector.split(doc.body, {"feed_url": doc.url, "base_url": doc.url})
        assert not split.rejected, split.rejected
        parsed[doc.source] = [FeedConnector.parse(item) for item in split.items]
    assert len(parsed["demo-news-nordkurier"]) == len(data.channel("news-de"))
    assert len(parsed["demo-news-mobilitywire"]) == len(data.channel("news-en"))
    posts = {m.external_id for m in parsed["demo-blog"]}
    comments = parsed["demo-blog-comments"]
    assert len(comments) == len(data.channel("blog-comment"))
    assert all(c.kind == MentionKind.COMMENT and c.parent_external_id in posts for c in comments)
    assert all(json.loads(json.dumps(m.raw)).get("demo") == "true" for ms in parsed.values() for m in ms)


def test_files_parse_with_the_file_connector(data: DemoDataset) -> None:
    _, files = render(data)
    jsonl = next(f for f in files if f.fmt == "jsonl")
    split = FileConnector.split(jsonl.body, {})
    mentions = [FileConnector.parse(item) for item in split.items]
    assert len(mentions) == len(data.channel("social"))
    assert all(m.raw["demo"] is True for m in mentions)
    assert sum(1 for m in mentions if m.parent_external_id) > 500


def test_anchor_moves_the_window() -> None:
    moved = generate(anchor=date(2027, 1, 31), scale=0.1)
    assert moved.anchor == date(2027, 1, 31) and (moved.crisis_start - moved.start).days == 62
    assert max(p.published_at.date() for p in moved.posts) <= date(2027, 1, 31)
    with pytest.raises(ValueError):
        generate(scale=0)

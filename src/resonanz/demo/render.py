"""Render the demo data set as the documents real sources deliver: RSS 2.0 and Atom news feeds, a
WordPress-shaped blog feed with its comments feed, and JSONL / CSV files in the import format.

Output is deterministic bytes (fixed order, no clock), so a hash of the documents pins the data set.
Every feed item carries a ``<demo>true</demo>`` element, which feedparser keeps, so the stored raw
payload of a demo feed item says ``"demo": "true"`` like the imported records' ``"demo": true``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, time
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from resonanz.demo.generate import DemoDataset, DemoPost
from resonanz.demo.world import DEMO_AUTHOR_SUFFIX, DEMO_MARK, OWN

NEWS_DE_URL = "https://nordkurier.example/mobilitaet/feed/"
NEWS_EN_URL = "https://mobilitywire.example/atom.xml"
BLOG_URL = f"https://blog.{OWN.domain}/feed/"
BLOG_COMMENTS_URL = f"https://blog.{OWN.domain}/comments/feed/"


@dataclass(frozen=True)
class FeedDoc:
    """One feed document and the demo source it belongs to."""

    source: str
    url: str
    title: str
    body: bytes


@dataclass(frozen=True)
class ImportDoc:
    """One import file (JSONL or CSV) and the demo source it is imported as."""

    source: str
    filename: str
    fmt: str
    body: bytes


def _rfc822(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC), usegmt=True)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _byline(post: DemoPost) -> str:
    """Feed authors have no handle of their own (the connector derives one from the name and the
    site), so the demo label goes into the name."""
    assert post.author is not None
    name = post.author.name
    return name if name.endswith(DEMO_AUTHOR_SUFFIX) else f"{name} {DEMO_AUTHOR_SUFFIX}"


def _html(post: DemoPost) -> str:
    return f"<p>{escape(post.text)}</p><p><em>{DEMO_MARK}: fiktives Beispiel / fictional example.</em></p>"


def _rss(title: str, link: str, description: str, items: list[str], *, built: datetime, lang: str) -> bytes:
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
        'xmlns:slash="http://purl.org/rss/1.0/modules/slash/" xmlns:atom="http://www.w3.org/2005/Atom">\n'
        "<channel>\n"
        f"<title>{escape(title)}</title>\n<link>{escape(link)}</link>\n"
        f"<description>{escape(description)}</description>\n<language>{lang}</language>\n"
        f"<lastBuildDate>{_rfc822(built)}</lastBuildDate>\n"
    )
    return (head + "".join(items) + "</channel>\n</rss>\n").encode("utf-8")


def news_rss(posts: list[DemoPost], *, built: datetime) -> bytes:
    items = []
    for p in sorted(posts, key=lambda p: (p.published_at, p.id), reverse=True):
        assert p.title is not None and p.author is not None
        items.append(
            f"<item>\n<title>{escape(p.title)}</title>\n<link>{escape(p.url)}</link>\n"
            f'<guid isPermaLink="true">{escape(p.id)}</guid>\n<pubDate>{_rfc822(p.published_at)}</pubDate>\n'
            f"<dc:creator>{escape(_byline(p))}</dc:creator>\n<category>{DEMO_MARK}</category>\n"
            f"<description>{escape(_html(p))}</description>\n<demo>true</demo>\n</item>\n"
        )
    return _rss(
        f"{DEMO_MARK} – Nordküste Kurier: Mobilität",
        "https://nordkurier.example/mobilitaet/",
        "Fiktiver Nachrichten-Feed für die Resonanz-Demo (DEMO DATA, keine echten Nachrichten).",
        items,
        built=built,
        lang="de",
    )


def news_atom(posts: list[DemoPost], *, built: datetime) -> bytes:
    entries = []
    for p in sorted(posts, key=lambda p: (p.published_at, p.id), reverse=True):
        assert p.title is not None and p.author is not None
        entries.append(
            f"<entry>\n<id>{escape(p.id)}</id>\n<title>{escape(p.title)}</title>\n"
            f'<link rel="alternate" type="text/html" href={quoteattr(p.url)}/>\n'
            f"<published>{_iso(p.published_at)}</published>\n<updated>{_iso(p.published_at)}</updated>\n"
            f"<author><name>{escape(_byline(p))}</name></author>\n"
            f'<category term="demo" label="{DEMO_MARK}"/>\n'
            f'<content type="html">{escape(_html(p))}</content>\n<demo>true</demo>\n</entry>\n'
        )
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">\n'
        f"<id>tag:mobilitywire.example,2026:feed</id>\n<title>{DEMO_MARK} – Mobility Wire</title>\n"
        "<subtitle>Fictional news feed for the Resonanz demo (DEMO DATA, not real news).</subtitle>\n"
        f'<link rel="self" href="{NEWS_EN_URL}"/>\n<link rel="alternate" href="https://mobilitywire.example/"/>\n'
        f"<updated>{_iso(built)}</updated>\n"
    )
    return (head + "".join(entries) + "</feed>\n").encode("utf-8")


def blog_rss(posts: list[DemoPost], comments: list[DemoPost], *, built: datetime) -> bytes:
    """WordPress' ``/feed/``: guid ``?p=N`` (not a permalink), comment count and comments feed."""
    per_post: dict[str, int] = {}
    for c in comments:
        assert c.parent_id is not None
        per_post[c.parent_id] = per_post.get(c.parent_id, 0) + 1
    items = []
    for p in sorted(posts, key=lambda p: (p.published_at, p.id), reverse=True):
        assert p.title is not None and p.author is not None
        items.append(
            f"<item>\n<title>{escape(p.title)}</title>\n<link>{escape(p.url)}</link>\n"
            f"<comments>{escape(p.url)}#comments</comments>\n"
            f"<dc:creator><![CDATA[{_byline(p)}]]></dc:creator>\n<pubDate>{_rfc822(p.published_at)}</pubDate>\n"
            f"<category><![CDATA[{DEMO_MARK}]]></category>\n"
            f'<guid isPermaLink="false">{escape(p.id)}</guid>\n'
            f"<description><![CDATA[{p.text}]]></description>\n"
            f"<content:encoded><![CDATA[{_html(p)}]]></content:encoded>\n"
            f"<wfw:commentRss>{escape(p.url)}feed/</wfw:commentRss>\n"
            f"<slash:comments>{per_post.get(p.id, 0)}</slash:comments>\n<demo>true</demo>\n</item>\n"
        )
    return _rss(
        f"{DEMO_MARK} – {OWN.short} Blog",
        f"https://blog.{OWN.domain}/",
        f"Das fiktive Unternehmensblog von {OWN.name} (DEMO DATA)",
        items,
        built=built,
        lang="de-DE",
    )


def blog_comments_rss(comments: list[DemoPost], *, built: datetime) -> bytes:
    """WordPress' ``/comments/feed/``: comment guids are the post's guid plus ``#comment-N``."""
    items = []
    for c in sorted(comments, key=lambda p: (p.published_at, p.id), reverse=True):
        assert c.title is not None and c.author is not None
        items.append(
            f"<item>\n<title>{escape(c.title)}</title>\n<link>{escape(c.url)}</link>\n"
            f"<dc:creator><![CDATA[{_byline(c)}]]></dc:creator>\n<pubDate>{_rfc822(c.published_at)}</pubDate>\n"
            f'<guid isPermaLink="false">{escape(c.id)}</guid>\n'
            f"<description><![CDATA[{c.text}]]></description>\n"
            f"<content:encoded><![CDATA[<p>{escape(c.text)}</p>]]></content:encoded>\n<demo>true</demo>\n</item>\n"
        )
    return _rss(
        f"{DEMO_MARK} – Kommentare für {OWN.short} Blog",
        f"https://blog.{OWN.domain}/",
        "Kommentare im fiktiven Blog (DEMO DATA)",
        items,
        built=built,
        lang="de-DE",
    )


def record(p: DemoPost) -> dict[str, object]:
    """A post as an import record (docs/import-format.md); ``demo`` marks it, and is kept in raw."""
    assert p.author is not None
    rec: dict[str, object] = {
        "id": p.id,
        "platform": p.platform,
        "kind": "review" if p.channel == "reviews" else ("comment" if p.parent_id else "post"),
        "text": p.text,
        "published_at": _iso(p.published_at),
        "author": {"handle": p.author.handle, "name": p.author.name, "followers": p.author.followers},
        "url": p.url,
        "parent_id": p.parent_id,
        "language": p.language,
        "metrics": p.metrics,
        "demo": True,
        "demo_label": {"category": p.category, "sentiment": p.sentiment},
    }
    if p.repost_of:
        rec["demo_label"] = {"category": p.category, "sentiment": p.sentiment, "repost_of": p.repost_of}
    return rec


def social_jsonl(posts: list[DemoPost]) -> bytes:
    lines = [json.dumps(record(p), ensure_ascii=False, sort_keys=True) for p in posts]
    return ("\n".join(lines) + "\n").encode("utf-8")


CSV_COLUMNS = (
    "id", "platform", "kind", "published_at", "author_handle", "author_name", "author_followers",
    "text", "url", "language", "rating", "demo",
)  # fmt: skip


def reviews_csv(posts: list[DemoPost]) -> bytes:
    """App-store reviews as a spreadsheet export: flat author columns, the star rating as its own
    column (imported as an unknown field, so it stays in raw) and in ``metrics``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*CSV_COLUMNS, "metrics"))
    for p in posts:
        assert p.author is not None
        writer.writerow(
            (
                p.id, p.platform, "review", _iso(p.published_at), p.author.handle, p.author.name,
                p.author.followers, p.text, p.url, p.language, p.metrics.get("rating", ""), "true",
                json.dumps(p.metrics, sort_keys=True),
            )
        )  # fmt: skip
    return out.getvalue().encode("utf-8")


def render(data: DemoDataset) -> tuple[list[FeedDoc], list[ImportDoc]]:
    """All demo documents. Feed documents are ordered so posts come before their comments."""
    built = datetime.combine(data.anchor, time(23, 0), tzinfo=UTC)
    feeds = [
        FeedDoc("demo-news-nordkurier", NEWS_DE_URL, "Nordküste Kurier (RSS 2.0)", news_rss(data.channel("news-de"), built=built)),  # noqa: E501
        FeedDoc("demo-news-mobilitywire", NEWS_EN_URL, "Mobility Wire (Atom)", news_atom(data.channel("news-en"), built=built)),  # noqa: E501
        FeedDoc("demo-blog", BLOG_URL, f"{OWN.short} Blog (WordPress)", blog_rss(data.channel("blog"), data.channel("blog-comment"), built=built)),  # noqa: E501
        FeedDoc("demo-blog-comments", BLOG_COMMENTS_URL, f"{OWN.short} Blog comments", blog_comments_rss(data.channel("blog-comment"), built=built)),  # noqa: E501
    ]  # fmt: skip
    files = [
        ImportDoc("demo-social", "demo-social.jsonl", "jsonl", social_jsonl(data.channel("social"))),
        ImportDoc("demo-app-reviews", "demo-app-reviews.csv", "csv", reviews_csv(data.channel("reviews"))),
    ]
    return feeds, files


def fingerprint(feeds: list[FeedDoc], files: list[ImportDoc]) -> str:
    """SHA-256 over every document: equal fingerprints mean byte-identical demo data."""
    h = hashlib.sha256()
    for name, body in [(f.source, f.body) for f in feeds] + [(f.filename, f.body) for f in files]:
        h.update(name.encode() + b"\0" + len(body).to_bytes(8, "big") + body)
    return h.hexdigest()


def write_files(files: list[ImportDoc], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in files:
        path = directory / f.filename
        path.write_bytes(f.body)
        paths.append(path)
    return paths

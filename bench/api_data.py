"""The data set of the API benchmark (bench/api.py): N mentions written straight into a SQLite file.

Going through ``import_file`` would take minutes per million (about 17,000 mentions/s, see the
ingest section of docs/benchmarks.md) and would still leave the analysis columns empty; this
writes the same rows the ingest and analysis paths write (mention, author, source, the FTS5
index) with one ``executemany`` per table, in the stored formats of :mod:`resonanz.mentions.bulk`.

The distributions are chosen so that filters are as selective as on real data: platforms and
sources of very different size, a few authors who post a lot, German and English with a tail
of other languages, half the mentions neutral, a tenth replies, 2% reposts, 4% back-filled
(imported later than newer posts, so ingest order is not publish order), engagement with a long
tail. Deterministic for a given seed.
"""

from __future__ import annotations

import random
import sqlite3
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from resonanz.db.engine import make_engine
from resonanz.db.migrate import upgrade
from resonanz.demo.writer import TextWriter
from resonanz.mentions.prepared import dumps, sqlite_datetime
from resonanz.mentions.search_index import index_body

PLATFORMS = {  # platform -> (share of mentions, number of sources)
    "mastodon": (0.30, 6),
    "bluesky": (0.22, 4),
    "reddit": (0.15, 3),
    "feed": (0.14, 8),
    "youtube": (0.10, 2),
    "hackernews": (0.05, 1),
    "email": (0.04, 1),
}
LANGS = (("de", 0.58), ("en", 0.32), ("fr", 0.03), ("es", 0.02), ("nl", 0.02), ("und", 0.03))
SENTIMENTS = (("neutral", 0.50), ("negative", 0.28), ("positive", 0.22))
INTENTS = (("other", 0.55), ("question", 0.16), ("complaint", 0.14), ("praise", 0.10), ("suggestion", 0.05))
CATEGORIES = ("complaint", "question", "praise", "competitor", "crisis")
AUTHORS = 60_000
START = datetime(2025, 11, 1, tzinfo=UTC)
SPAN_S = 365 * 86400
#: Words a search for the benchmark can use (they occur in the demo's phrases).
SEARCH_WORDS = ("app", "verspätung", "kundenservice")

_MENTION_COLS = (
    "id", "platform", "external_id", "source_id", "kind", "url", "author_id", "parent_external_id", "parent_id",
    "thread_external_id", "published_at", "fetched_at", "updated_at", "title", "text", "html", "language_hint",
    "media", "metrics", "raw", "content_hash", "revision_hash", "duplicate_of_id", "revision", "lang",
    "lang_confidence", "sentiment", "sentiment_score", "intent", "needs_response", "risk_score", "offensive",
)  # fmt: skip


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...], n: int) -> list[str]:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table], k=n)


def generate(path: Path, count: int, *, seed: int = 11, chunk: int = 50_000, progress: bool = True) -> None:
    """Create ``path`` (migrated to head) and fill it with ``count`` mentions."""
    if path.exists():
        path.unlink()
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    rng = random.Random(seed)
    writer = TextWriter(rng)
    pool = {
        lang: [writer.post("de" if lang == "de" else "en", rng.choice(CATEGORIES)) for _ in range(4000)]
        for lang in ("de", "en")
    }
    now = sqlite_datetime(START + timedelta(seconds=SPAN_S + 3600))
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")
    con.execute("BEGIN")
    sources: list[tuple[int, str]] = []
    for platform, (_, n) in PLATFORMS.items():
        for i in range(n):
            sid = len(sources) + 1
            sources.append((sid, platform))
            con.execute(
                "INSERT INTO source (id, name, kind, config, enabled, interval_s, cursor, health, "
                "consecutive_failures, created_at) VALUES (?, ?, ?, '{}', 1, 900, '{}', 'ok', 0, ?)",
                (sid, f"{platform} {i + 1}", "file", now),
            )
    by_platform: dict[str, list[int]] = {}
    for sid, platform in sources:
        by_platform.setdefault(platform, []).append(sid)
    # Source sizes within a platform are skewed too (the first source of a platform is the big one).
    source_weights = {p: [1.0 / (i + 1) for i in range(len(ids))] for p, ids in by_platform.items()}
    author_rows = []
    for i in range(AUTHORS):
        followers = int(rng.lognormvariate(5, 1.6))
        author_rows.append((i + 1, "bench", f"user{i}", f"User {i}", None, followers, 0, now, now))
    author_weights = [1.0 / (i + 1) ** 0.8 for i in range(AUTHORS)]
    platforms = list(PLATFORMS)
    platform_weights = [s for s, _ in PLATFORMS.values()]
    mention_count = [0] * (AUTHORS + 1)
    first_seen: list[str | None] = [None] * (AUTHORS + 1)
    last_seen: list[str | None] = [None] * (AUTHORS + 1)
    started = time.perf_counter()
    recent_texts: list[tuple[int, str]] = []
    for base in range(0, count, chunk):
        n = min(chunk, count - base)
        langs = _pick(rng, LANGS, n)
        sentiments = _pick(rng, SENTIMENTS, n)
        intents = _pick(rng, INTENTS, n)
        authors = rng.choices(range(1, AUTHORS + 1), weights=author_weights, k=n)
        plats = rng.choices(platforms, weights=platform_weights, k=n)
        rows: list[tuple[Any, ...]] = []
        fts: list[tuple[int, str]] = []
        for k in range(n):
            mid = base + k + 1
            platform = plats[k]
            source_id = rng.choices(by_platform[platform], weights=source_weights[platform])[0]
            offset = mid * SPAN_S / count
            if rng.random() < 0.04:  # back-filled: published well before it was ingested
                offset = max(0.0, offset - rng.uniform(0, 60 * 86400))
            published = START + timedelta(seconds=offset + rng.uniform(0, 30))
            # ties on published_at happen: whole seconds, as many platforms report them
            published_s = sqlite_datetime(published.replace(microsecond=0))
            lang = langs[k]
            duplicate_of = None
            if recent_texts and rng.random() < 0.02:
                duplicate_of, body = rng.choice(recent_texts[-2000:])
            else:
                words = pool["de" if lang == "de" else "en"]
                body = rng.choice(words) + " " + rng.choice(words)
                body = body[:280]
                recent_texts.append((mid, body))
            parent_id = parent_ext = None
            kind = "post"
            if mid > 100 and rng.random() < 0.10:
                parent_id = rng.randint(max(1, mid - 2000), mid - 1)
                parent_ext = f"m{parent_id}"
                kind = "comment"
            author = authors[k]
            mention_count[author] += 1
            first_seen[author] = first_seen[author] or published_s
            last_seen[author] = published_s
            sentiment = sentiments[k]
            intent = intents[k]
            likes = int(rng.paretovariate(1.3)) - 1
            metrics = {"likes": likes, "shares": likes // 7, "replies": int(rng.expovariate(0.5))}
            raw = {"id": f"m{mid}", "text": body, "author": f"user{author - 1}"}
            rows.append((
                mid, platform, f"m{mid}", source_id, kind, f"https://social.example/@user{author - 1}/{mid}", author,
                parent_ext, parent_id, None, published_s, now, now, None, body, None, None, "[]", dumps(metrics),
                dumps(raw), f"{zlib.crc32(body.encode()):016x}", f"{mid:016x}", duplicate_of, 1, lang,
                round(rng.uniform(0.6, 1.0), 3), sentiment, round(rng.uniform(0.4, 1.0), 3), intent,
                intent in ("complaint", "question") and rng.random() < 0.8, round(rng.betavariate(1.2, 9), 3),
                rng.random() < 0.01,
            ))  # fmt: skip
            fts.append((mid, index_body(None, body)))
        con.executemany(
            f"INSERT INTO mention ({', '.join(_MENTION_COLS)}) VALUES ({', '.join('?' for _ in _MENTION_COLS)})", rows
        )
        con.executemany("INSERT INTO mention_fts (rowid, body) VALUES (?, ?)", fts)
        if progress:
            done = base + n
            print(f"  {done:,} mentions ({done / (time.perf_counter() - started):,.0f}/s)", flush=True)
    author_out = []
    for row in author_rows:
        aid = row[0]
        seen_first = first_seen[aid] or now
        author_out.append((*row[:6], mention_count[aid], seen_first, last_seen[aid] or now))
    con.executemany(
        "INSERT INTO author (id, platform, handle, name, url, followers, mention_count, first_seen_at, last_seen_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        author_out,
    )
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()

"""Listening benchmark: (a) the streaming matcher, 1,000 realistic queries against N mentions on one
core; (b) ``query test`` (count + daily curve + 5 samples) on a large SQLite store.

    .venv/bin/python bench/listening.py                         # (a) 100,000 mentions, (b) 200,000 stored
    .venv/bin/python bench/listening.py --store-count 1000000   # (b) on a million mentions
    .venv/bin/python bench/listening.py --skip-store --json
    .venv/bin/python bench/listening.py --database-url postgresql://postgres@127.0.0.1:5432/resonanz_bench

The mentions are the analysis benchmark's (``bench/analyze.py``: the demo's German/English posts,
replies and articles with handles, links, emojis). The queries are built from the words of those
mentions, the way a team writes them: brand names and their aliases OR'ed, a brand NEAR/n problem
words, wildcards with exclusions, phrases with a language, hashtags and handles, sentiment and
intent fields, a few ``?`` wildcards (see :func:`make_queries`). Deterministic per seed.

(a) times ``Matcher.match_batch`` over the stream in batches of 1,000 (what ingest calls; the
headline, the best of three passes), folding and splitting the text included; then
``Matcher.match`` one mention at a time; then the batches given each mention's folded body (ingest
folds it once, for the content hash and the index, and hands it over: the matcher still splits the
words); then given each mention already prepared (folded and split outside the timing); then the
headline's path with the pure-Python key finder (``Matcher(native=False)``: an install without a C
compiler); not building the matcher (reported apart). The input list is moved out of the garbage
collector's way (``gc.freeze``) as a worker's start-up heap is.
Candidate and match counts come from an untimed pass. (b) stores the mentions first (untimed;
language and sentiment columns set as the analysis would), then runs each draft query ``--repeat``
times through :func:`resonanz.listening.service.try_query` and reports p50/p95.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from analyze import make_texts  # bench/ is the script's directory

from resonanz.config import Settings
from resonanz.db.database import open_database
from resonanz.listening.query import CompiledQuery, Doc, Matcher, PreparedDoc, QuerySyntaxError, compile_query
from resonanz.listening.service import try_query
from resonanz.mentions.ingest import store_batch
from resonanz.mentions.schemas import MentionIn
from resonanz.mentions.text import fold
from resonanz.mentions.tokens import words

#: mentions per Matcher.match_batch call in the stream figure (ingest matches 500 at a time)
STREAM_BATCH = 1000
#: passes over the stream for the headline figure, the fastest reported
HEADLINE_PASSES = 3
PROBLEMS = ["verspätung", "ausfall", "störung", "kaputt", "delay", "cancel*", "app", "hotline", "preis*", "abo"]
DRAFTS = [
    "nordwelle",
    '"nordwelle kundenservice" OR nordwellego',
    "nordwelle* NOT (job* OR stelle*)",
    "(nordwelle OR rheinkurve) NEAR/5 (verspätung OR ausfall OR störung)",
    "#nordwelledown OR (nordwelle ONEAR/3 down)",
    "rheinkurve lang:de sentiment:negative",
    "alpenblitz OR blitzpass OR blitzer",
    "m?ller OR h?uke",
    "has:link site:social.example nordwelle",
    "intent:complaint lang:en",
]


def make_queries(texts: list[str], count: int, *, seed: int = 3) -> list[str]:
    """``count`` queries over the mentions' own vocabulary (mid-frequency words: what queries name)."""
    rng = random.Random(seed)
    freq: Counter[str] = Counter()
    for text in texts[:20_000]:
        freq.update(w for w in words(fold(text)) if len(w) >= 4 and not w.isdigit())
    ranked = [w for w, _ in freq.most_common()]
    # the 300 commonest words are function words and the demo's brand names; queries name rarer ones
    common, mid = ranked[300:1000], ranked[1000:8000] or ranked
    brands = ["nordwelle", "nordwellego", "rheinkurve", "alpenblitz", "welleabo", "kurveflat", "blitzpass", "wusel"]

    def word() -> str:
        return rng.choice(mid) if rng.random() < 0.7 else rng.choice(common)

    def alt(n: int) -> str:
        items = [word() for _ in range(n)]
        return items[0] if n == 1 else "(" + " OR ".join(items) + ")"

    queries: list[str] = []
    while len(queries) < count:
        roll = rng.random()
        if roll < 0.25:
            text = " OR ".join([f'"{word()} {word()}"', word(), word()])
        elif roll < 0.45:
            text = f"{alt(rng.randint(1, 3))} NEAR/{rng.randint(2, 8)} {alt(rng.randint(1, 3))}"
        elif roll < 0.60:
            text = f"{word()[:5]}* {word()} NOT {word()}"
        elif roll < 0.70:
            text = f'"{word()} {word()}" lang:{rng.choice(["de", "en"])}'
        elif roll < 0.80:
            text = f"#{word()} OR @{word()}"
        elif roll < 0.90:
            text = f"{rng.choice(brands)} {rng.choice(PROBLEMS)} sentiment:negative"
        else:
            stem = word()
            text = f"{stem[:4]}?{stem[5:]} OR {word()} ONEAR/3 {word()}"  # a spelling variant: organi?ation
        try:
            compile_query(text)
        except QuerySyntaxError:  # a generated word may be unusable (too short): draw again
            continue
        queries.append(text)
    return queries


def bench_stream(texts: list[tuple[str, str | None, int]], queries: list[str]) -> dict[str, Any]:
    started = time.perf_counter()
    compiled: dict[int, CompiledQuery] = {i: compile_query(q) for i, q in enumerate(queries)}
    matcher = Matcher(compiled)
    build_s = time.perf_counter() - started
    rng = random.Random(5)
    sentiments = ["negative", "neutral", "positive"]
    docs = [
        Doc(text=t, title=title, lang="en" if rng.random() < 0.15 else "de", sentiment=rng.choice(sentiments))
        for t, title, _ in texts
    ]
    # untimed: how many queries a mention triggers and matches
    candidates = matched = 0
    for doc in docs:
        prepared = PreparedDoc(doc)
        candidates += len(matcher.candidates(prepared))
        matched += len(matcher.match(prepared))
    # the inputs stay alive for the whole run (a worker holds only its batch): out of the
    # collector's way, as `resonanz serve` and the worker freeze their start-up heap
    gc.collect()
    gc.freeze()
    # the headline: the stream as ingest matches it, batches of Docs in, each one's keys out,
    # folding and splitting the text included (Matcher.match_batch, numpy bookkeeping per batch)
    # the best of HEADLINE_PASSES passes: the shared VM's neighbours move a single pass by ±15 %
    wall_s = cpu_s = float("inf")
    for _ in range(HEADLINE_PASSES):
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(docs), STREAM_BATCH):
            matcher.match_batch(docs[start : start + STREAM_BATCH])
        wall_s, cpu_s = min(wall_s, time.perf_counter() - wall), min(cpu_s, time.process_time() - cpu)
    # one mention at a time (Matcher.match: what an alert or a single re-check pays)
    cpu1 = time.process_time()
    for doc in docs:
        matcher.match(doc)
    cpu1_s = time.process_time() - cpu1
    # given the body ingest folded for the content hash and the index (what ingest hands over):
    # the matcher splits the words and matches
    bodies = [fold(f"{title}\n{t}" if title else t) for t, title, _ in texts]
    gc.collect()
    cpu3 = time.process_time()
    for start in range(0, len(docs), STREAM_BATCH):
        matcher.match_batch(docs[start : start + STREAM_BATCH], bodies[start : start + STREAM_BATCH])
    cpu3_s = time.process_time() - cpu3
    # the matcher alone, given the folded text and words already split
    prepared_docs = [PreparedDoc(doc) for doc in docs]
    gc.collect()
    cpu2 = time.process_time()
    for start in range(0, len(docs), STREAM_BATCH):
        matcher.match_batch(prepared_docs[start : start + STREAM_BATCH])
    cpu2_s = time.process_time() - cpu2
    # the pure-Python key finder (an install without a C compiler): the headline's path
    pure = Matcher(compiled, native=False)
    gc.collect()
    cpu4 = time.process_time()
    for start in range(0, len(docs), STREAM_BATCH):
        pure.match_batch(docs[start : start + STREAM_BATCH])
    cpu4_s = time.process_time() - cpu4
    gc.unfreeze()
    return {
        "queries": len(queries),
        "mentions": len(docs),
        "build_matcher_s": round(build_s, 3),
        "keys_in_automaton": matcher.atom_count,
        "always_checked_queries": len(matcher.always),
        "batch": STREAM_BATCH,
        "mentions_per_s_wall": round(len(docs) / wall_s),
        "mentions_per_s_cpu": round(len(docs) / cpu_s),
        "us_per_mention_cpu": round(cpu_s / len(docs) * 1e6, 2),
        "one_at_a_time_mentions_per_s_cpu": round(len(docs) / cpu1_s),
        "folded_given_mentions_per_s_cpu": round(len(docs) / cpu3_s),
        "folded_given_us_per_mention_cpu": round(cpu3_s / len(docs) * 1e6, 2),
        "prepared_mentions_per_s_cpu": round(len(docs) / cpu2_s),
        "prepared_us_per_mention_cpu": round(cpu2_s / len(docs) * 1e6, 2),
        "key_finder": type(matcher._finder).__name__,
        "pure_python_finder_mentions_per_s_cpu": round(len(docs) / cpu4_s),
        "candidates_per_mention": round(candidates / len(docs), 2),
        "matches_per_mention": round(matched / len(docs), 3),
    }


def bench_processes(texts: list[tuple[str, str | None, int]], queries: list[str], processes: int) -> dict[str, Any]:
    """The deployable throughput on several cores (an aggregate, not the headline): ``processes``
    forked workers, each building its own matcher and matching its share of the mentions (the
    analysis worker can run several processes). Mentions per second are the count over the
    slowest worker's CPU time (and wall time, the shared machine's figure)."""
    rng = random.Random(5)
    sentiments = ["negative", "neutral", "positive"]
    docs = [
        Doc(text=t, title=title, lang="en" if rng.random() < 0.15 else "de", sentiment=rng.choice(sentiments))
        for t, title, _ in texts
    ]
    read, write = os.pipe()
    children = []
    for worker in range(processes):
        child = os.fork()
        if child == 0:  # the worker: its own matcher, its share, its times down the pipe
            os.close(read)
            matcher = Matcher({i: compile_query(q) for i, q in enumerate(queries)})
            share = docs[worker::processes]
            gc.collect()
            gc.freeze()
            wall, cpu = time.perf_counter(), time.process_time()
            for start in range(0, len(share), STREAM_BATCH):
                matcher.match_batch(share[start : start + STREAM_BATCH])
            times = [time.process_time() - cpu, time.perf_counter() - wall]
            os.write(write, (json.dumps(times) + "\n").encode())
            os._exit(0)
        children.append(child)
    os.close(write)
    with os.fdopen(read) as pipe:
        results = [json.loads(line) for line in pipe.read().splitlines() if line]
    for child in children:
        os.waitpid(child, 0)
    if len(results) != processes:
        raise RuntimeError(f"{processes - len(results)} worker(s) failed")
    slowest_cpu, slowest_wall = max(r[0] for r in results), max(r[1] for r in results)
    return {
        "processes": processes,
        "mentions": len(docs),
        "worker_cpu_s": [round(r[0], 3) for r in results],
        "aggregate_mentions_per_s_cpu": round(len(docs) / slowest_cpu),
        "aggregate_mentions_per_s_wall": round(len(docs) / slowest_wall),
    }


def fill_store(url: str | None, data_dir: Path, texts: list[tuple[str, str | None, int]], count: int) -> Any:
    settings = Settings(data_dir=data_dir, database_url=url, worker_threads=0)
    db = open_database(settings)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rng = random.Random(9)
    batch: list[MentionIn] = []
    with db.sessions() as session:
        for i in range(count):
            text, title, _ = texts[i % len(texts)]
            published = start + timedelta(seconds=rng.randint(0, 90 * 86400))
            batch.append(
                MentionIn(platform="bench", external_id=str(i), published_at=published, text=text, title=title)
            )
            if len(batch) == 2000:
                store_batch(session, batch, source_id=None, now=start)
                session.commit()
                batch = []
        if batch:
            store_batch(session, batch, source_id=None, now=start)
        from sqlalchemy import text as sql

        session.execute(sql("UPDATE mention SET lang = CASE WHEN id % 7 = 0 THEN 'en' ELSE 'de' END"))
        session.execute(
            sql(
                "UPDATE mention SET sentiment = CASE WHEN id % 3 = 0 THEN 'negative' "
                "WHEN id % 3 = 1 THEN 'neutral' ELSE 'positive' END, intent = CASE WHEN id % 4 = 0 "
                "THEN 'complaint' ELSE 'other' END"
            )
        )
        session.commit()
    return db


def bench_store(db: Any, repeat: int) -> list[dict[str, Any]]:
    rows = []
    with db.sessions() as session:
        for draft in DRAFTS:
            times, result = [], None
            for _ in range(repeat):
                started = time.perf_counter()
                result = try_query(session, query=draft, samples=5)
                times.append((time.perf_counter() - started) * 1000)
                session.rollback()
            assert result is not None
            times.sort()
            rows.append(
                {
                    "query": draft,
                    "exact": result.exact,
                    "count": result.count,
                    "checked": result.checked,
                    "truncated": result.truncated,
                    "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], 1),
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=100_000, help="mentions streamed through the matcher")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--store-count", type=int, default=200_000, help="mentions stored for query test")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--skip-store", action="store_true")
    parser.add_argument("--skip-stream", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--processes", type=int, default=0, help="also match in N forked processes (an aggregate figure; 0: not)"
    )
    args = parser.parse_args(argv)
    texts = make_texts(max(args.count, min(args.store_count, 200_000)))
    report: dict[str, Any] = {"python": platform.python_version(), "machine": platform.machine()}
    queries = make_queries([t for t, _, _ in texts], args.queries)
    if not args.skip_stream:
        report["stream"] = bench_stream(texts[: args.count], queries)
        if not args.json:
            print(json.dumps(report["stream"], indent=2), flush=True)
        if args.processes > 1:
            report["stream_processes"] = bench_processes(texts[: args.count], queries, args.processes)
            if not args.json:
                print(json.dumps(report["stream_processes"], indent=2), flush=True)
    if not args.skip_store:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            db = fill_store(args.database_url, Path(tmp), texts, args.store_count)
            report["store"] = {
                "engine": db.engine.dialect.name,
                "mentions": args.store_count,
                "fill_s": round(time.perf_counter() - started, 1),
                "drafts": bench_store(db, args.repeat),
            }
            db.dispose()
        if not args.json:
            for row in report["store"]["drafts"]:
                print(json.dumps(row), flush=True)
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Ingest benchmark: import N generated JSONL mentions into a fresh SQLite database and a fresh
PostgreSQL database through the real import path, and report mentions/s and peak memory.

    .venv/bin/python bench/ingest.py                      # 200,000 mentions, SQLite and PostgreSQL
    .venv/bin/python bench/ingest.py --count 20000 --sqlite-only --json
    .venv/bin/python bench/ingest.py --profile sqlite     # cProfile of the SQLite import, top 30

Each engine runs in its own child process, so the peak RSS (``resource.getrusage(RUSAGE_SELF)
.ru_maxrss``) belongs to that import alone and not to the generator or the other engine. The
timed part is ``import_file`` (read, parse, validate, store, full-text index, commit); making
the file and creating the schema are not timed. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import pstats
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from resonanz.config import Settings
from resonanz.db.database import open_database
from resonanz.demo.writer import TextWriter

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "resonanz_bench"
CATEGORIES = ("complaint", "question", "praise", "competitor", "crisis")


def make_jsonl(path: Path, count: int, *, seed: int = 7) -> int:
    """Write ``count`` records of about 200 characters of text each; returns the file size.

    German and English in the ratio of the demo, 5,000 authors of whom a few post a lot, 2% exact
    reposts, 10% replies. Deterministic for a given seed.
    """
    rng = random.Random(seed)
    writer = TextWriter(rng)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    authors = [(f"bench_user_{i}", f"Bench User {i}", int(rng.lognormvariate(5, 1.3))) for i in range(5000)]
    weights = [1.0 / (i + 1) ** 0.7 for i in range(len(authors))]
    picked = rng.choices(authors, weights=weights, k=count)
    # Pairs from a pool of demo sentences: fast to make, and about 10^8 combinations.
    pool = {lang: [writer.post(lang, rng.choice(CATEGORIES)) for _ in range(6000)] for lang in ("de", "en")}
    texts: list[str] = []
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            lang = "en" if rng.random() < 0.15 else "de"
            if texts and rng.random() < 0.02:
                body = rng.choice(texts[-1000:])
            else:
                body = rng.choice(pool[lang]) + " " + rng.choice(pool[lang])
                while len(body) < 180:
                    body += " " + rng.choice(pool[lang])
                body = body[:230]
                texts.append(body)
            handle, name, followers = picked[n]
            record: dict[str, Any] = {
                "id": f"b{n}",
                "platform": "bench",
                "text": body,
                "published_at": (t0 + timedelta(seconds=n * 13)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "author": {"handle": handle, "name": name, "followers": followers},
                "url": f"https://social.example/@{handle}/{n}",
                "language": lang,
                "metrics": {"likes": rng.randint(0, 50), "shares": rng.randint(0, 5)},
            }
            if n > 10 and rng.random() < 0.1:
                record["parent_id"] = f"b{rng.randint(max(0, n - 500), n - 1)}"
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path.stat().st_size


def _fallback_import(db: Any, *, path: Path, fmt: str, source_name: str) -> Any:
    """Until ``resonanz.sources.imports.import_file`` exists: the same parse and store path, one
    transaction per 10,000 lines."""
    from resonanz.clock import now
    from resonanz.connectors.base import RawItem
    from resonanz.connectors.file.connector import FileConnector
    from resonanz.db.engine import transaction
    from resonanz.mentions.ingest import IngestCounts
    from resonanz.sources.models import RunKind, Source
    from resonanz.sources.pipeline import finish_run, ingest_items, start_run

    total = IngestCounts()
    with transaction(db.sessions) as session:
        source = Source(name=source_name, kind="file", config={}, enabled=False, created_at=now())
        session.add(source)
        session.flush()
        run = start_run(session, kind=RunKind.IMPORT, source_id=source.id)
        run_id = run.id
    with path.open("rb") as handle:
        batch: list[RawItem] = []
        for number, line in enumerate(handle, start=1):
            batch.append(RawItem(payload=line.rstrip(b"\n"), location=f"line {number}"))
            if len(batch) == 10_000:
                with transaction(db.sessions) as session:
                    run = session.get(type(run), run_id)
                    total.add(ingest_items(session, cls=FileConnector, items=batch, run=run, max_item_bytes=10**6))
                batch = []
        with transaction(db.sessions) as session:
            run = session.get(type(run), run_id)
            total.add(ingest_items(session, cls=FileConnector, items=batch, run=run, max_item_bytes=10**6))
            finish_run(run, total)
    return run


def _import(url: str, path: Path, data_dir: Path, result: Any, profile: bool, pipeline: bool) -> None:
    """Child process: open (and migrate) the database, then time the import."""
    db = open_database(Settings(database_url=url, data_dir=data_dir))
    profiler = cProfile.Profile() if profile else None
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    import_file = _fallback_import
    if not pipeline:
        try:
            from resonanz.sources.imports import import_file  # type: ignore[no-redef,unused-ignore]
        except ImportError:
            print("resonanz.sources.imports is missing: using the pipeline directly", file=sys.stderr)
    run = import_file(db, path=path, fmt="jsonl", source_name="bench")
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - start
    with db.engine.connect() as conn:
        stored = conn.execute(text("SELECT COUNT(*) FROM mention")).scalar_one()
    db.dispose()
    if profiler:
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(25)
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the import's parse worker
    result.update(
        seconds=seconds,
        cpu_main_s=me.ru_utime + me.ru_stime - cpu_before,
        cpu_worker_s=children.ru_utime + children.ru_stime,
        peak_rss_worker_mb=children.ru_maxrss / 1024,
        stored=int(stored),
        new=run.new,
        duplicate=run.duplicate,
        rejected=run.rejected,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def run_engine(
    url: str, path: Path, data_dir: Path, *, profile: bool = False, pipeline: bool = False
) -> dict[str, Any]:
    with multiprocessing.Manager() as manager:
        result = manager.dict()
        proc = multiprocessing.get_context("fork").Process(
            target=_import, args=(url, path, data_dir, result, profile, pipeline)
        )
        proc.start()
        proc.join()
        if proc.exitcode != 0:
            raise SystemExit(f"import into {url} failed (exit {proc.exitcode})")
        return dict(result)


def fresh_pg(admin_url: str) -> str:
    """Drop and create the bench database; returns its URL."""
    engine = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {BENCH_DB}"))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{BENCH_DB}"


def drop_pg(admin_url: str) -> None:
    engine = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"))
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200_000, help="mentions to import (default 200,000)")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="an admin URL; the bench database is made beside it")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--profile", choices=("sqlite", "postgresql"), help="cProfile one engine's import")
    parser.add_argument(
        "--pipeline", action="store_true", help="bypass import_file: feed raw lines to the ingest pipeline directly"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="resonanz-bench-") as tmp:
        work = Path(tmp)
        path = work / "mentions.jsonl"
        t = time.perf_counter()
        size = make_jsonl(path, args.count)
        made = time.perf_counter() - t
        if not args.json:
            print(f"generated {args.count:,} mentions ({size / 1e6:.1f} MB) in {made:.1f} s", file=sys.stderr)
        results: dict[str, dict[str, Any]] = {}
        engines = ["sqlite"] if args.sqlite_only or args.profile == "sqlite" else ["sqlite", "postgresql"]
        if args.profile == "postgresql":
            engines = ["postgresql"]
        for engine in engines:
            url = f"sqlite:///{work / 'bench.db'}" if engine == "sqlite" else fresh_pg(args.pg_url)
            try:
                results[engine] = run_engine(url, path, work, profile=args.profile == engine, pipeline=args.pipeline)
            finally:
                if engine == "postgresql":
                    drop_pg(args.pg_url)
            r = results[engine]
            r["mentions_per_s"] = args.count / r["seconds"]
    if args.json:
        print(json.dumps({"count": args.count, "file_bytes": size, "results": results}, indent=2))
        return 0
    print(
        f"\n{'engine':<12}{'mentions':>10}{'seconds':>10}{'mentions/s':>12}{'peak RSS MB':>13}{'new':>9}{'dup':>8}"
        f"{'CPU µs/mention main+worker':>28}"
    )
    for engine, r in results.items():
        print(
            f"{engine:<12}{r['stored']:>10,}{r['seconds']:>10.1f}{r['mentions_per_s']:>12,.0f}"
            f"{r['peak_rss_mb']:>13,.0f}{r['new']:>9,}{r['duplicate']:>8,}"
            f"{r['cpu_main_s'] / r['stored'] * 1e6:>20.1f} + {r['cpu_worker_s'] / r['stored'] * 1e6:.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

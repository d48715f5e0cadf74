"""Dashboard aggregations over 1,000,000 mentions: p50/p95 ms per analytics function (issue 5 (b)).

Reuses the API benchmark's cached SQLite data set (``bench/api_data.py``, /tmp/rzbench/m1.db: 1M
mentions over one year) and adds what dashboards read, once (marker file ``*.dashboards``):

* 3 brands (Nordwelle Mobil own; Rheinkurve Bahn, Alpenblitz Mobility competitors) with 4 queries,
  their ``query_match`` rows decided by the words in each text (as the streaming matcher would);
* the entities stage's stored result (hashtags, links, key phrases) for every mention, computed by
  the real stage;
* the rollups (hourly, daily, match sets, ledger), built by
  :func:`resonanz.listening.rollups.rebuild` (timed).

Then each function of :mod:`resonanz.listening.analytics` runs ``--reps`` times per case (scope:
all mentions / one query / one brand / two queries chosen together; range and interval: 24 h
hourly, 7 d hourly, 30 d daily, 30 d hourly, 90 d daily), each time over a different random window
of the year, in Europe/Berlin. The raw 30-day hourly-by-language GROUP BY the issue measured is
timed for comparison, and so is the ingest hook: a 500-mention batch refreshed unchanged, and
relabelled (each rolled back).

``--pg`` copies the same rows into a PostgreSQL database (``resonanz_bench_dash`` beside
``--pg-url``) and runs the same cases there; ``--pg-drop`` drops that database at the end.

    .venv/bin/python bench/dashboards.py [--reps 15] [--pg] [--pg-drop] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from sqlalchemy import text
from sqlalchemy.orm import Session

from resonanz.analysis.stages.entities import EntitiesStage
from resonanz.config import Settings
from resonanz.db.base import Base
from resonanz.db.engine import make_engine, make_session_factory
from resonanz.listening import analytics
from resonanz.listening.analytics import Scope
from resonanz.listening.analytics_tops import tops
from resonanz.listening.rollups import rebuild, refresh_mentions

BRANDS = (("Nordwelle Mobil", "own"), ("Rheinkurve Bahn", "competitor"), ("Alpenblitz Mobility", "competitor"))
#: query name -> (brand index, words: a text matches when it contains any, lower case)
QUERIES = {
    "nordwelle": (0, ("nordwelle",)),
    "welleabo": (0, ("welleabo", "nordwellego")),
    "rheinkurve": (1, ("rheinkurve",)),
    "alpenblitz": (2, ("alpenblitz",)),
}
CASES = (("24h", timedelta(hours=24), "hour"), ("7d", timedelta(days=7), "hour"), ("30d", timedelta(days=30), "day"),
         ("30d-hourly", timedelta(days=30), "hour"), ("90d", timedelta(days=90), "day"))  # fmt: skip
TZ = "Europe/Berlin"
PG_NAME = "resonanz_bench_dash"
#: the tables the rollups use (created here when the cached file predates them)
ROLLUP_TABLES = ("rollup_hour", "rollup_day", "rollup_set", "rollup_set_query", "rollup_mention")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def prepare_sqlite(path: Path) -> None:
    """Add brands, queries, matches, entities results and rollups to the cached data set, once."""
    marker = path.with_suffix(".dashboards2")
    if marker.exists():
        return
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine, tables=[Base.metadata.tables[t] for t in ROLLUP_TABLES])
    engine.dispose()
    if not path.with_suffix(".dashdata").exists():
        add_matches_and_entities(path)
        path.with_suffix(".dashdata").write_text("1\n")
    engine = make_engine(f"sqlite:///{path}")
    factory = make_session_factory(engine)
    started = time.perf_counter()
    with factory() as session, session.begin():
        rows_written = rebuild(session)
    print(f"  rollups rebuilt: {rows_written:,} buckets in {time.perf_counter() - started:.1f} s", flush=True)
    engine.dispose()
    marker.write_text(f"{rows_written}\n")


def add_matches_and_entities(path: Path) -> None:
    """Brands, queries, their matches and the entities results, straight into the file."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("BEGIN")
    for table in ("query_match", "listening_query", "brand"):
        con.execute(f"DELETE FROM {table}")
    con.execute("DELETE FROM analysis_result WHERE stage = 'entities'")
    now = "2026-11-01 00:00:00.000000"
    for i, (name, kind) in enumerate(BRANDS, 1):
        con.execute("INSERT INTO brand (id, name, kind, created_at) VALUES (?, ?, ?, ?)", (i, name, kind, now))
    for i, (name, (brand, _words)) in enumerate(QUERIES.items(), 1):
        con.execute(
            "INSERT INTO listening_query (id, name, brand_id, text, version, active, created_at, updated_at, "
            "applied_version) VALUES (?, ?, ?, ?, 1, 1, ?, ?, 1)",
            (i, name, brand + 1, name, now, now),
        )
    stage = EntitiesStage(Settings())
    words = [(i, ws) for i, (_b, ws) in enumerate(QUERIES.values(), 1)]
    started = time.perf_counter()
    last = 0
    cur = con.cursor()
    while True:
        rows = cur.execute(
            "SELECT id, published_at, coalesce(title, '') || ' ' || text FROM mention "
            "WHERE id > ? ORDER BY id LIMIT 50000",
            (last,),
        ).fetchall()
        if not rows:
            break
        matches, results = [], []
        for mid, published, body in rows:
            low = body.lower()
            matches += [(qid, mid, published, 1) for qid, ws in words if any(w in low for w in ws)]
            results.append((mid, "entities", "1", 1, json.dumps(stage.one(body)), now))
        con.executemany("INSERT INTO query_match VALUES (?, ?, ?, ?)", matches)
        con.executemany(
            "INSERT INTO analysis_result (mention_id, stage, version, revision, result, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            results,
        )
        last = rows[-1][0]
        print(f"  matched + entities: {last:,} ({time.perf_counter() - started:.0f} s)", flush=True)
    con.execute("COMMIT")
    con.close()


def scopes(session: Session) -> dict[str, dict[str, Any]]:
    return {"all": {}, "query": {"query_ids": [1]}, "brand": {"brand_ids": [1]}, "two queries": {"query_ids": [1, 3]}}


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "volume": analytics.volume,
    "sentiment": analytics.sentiment_over_time,
    "share_of_voice": analytics.share_of_voice,
    "languages": analytics.languages,
    "platforms": analytics.platforms,
    "sources": analytics.sources,
    "tops (terms+tags+links+authors)": tops,
    "emerging_terms": analytics.emerging_terms,
    "dashboard (all of it)": analytics.dashboard,
}


def server_cpu(session: Session) -> float:
    """CPU seconds the PostgreSQL backend of this session has used (``/proc``, a local server;
    clock-tick resolution, 10 ms), so that the server's share is a figure the load does not
    inflate; 0 on SQLite (in-process: its work is in the process's own CPU time)."""
    if session.get_bind().dialect.name != "postgresql":
        return 0.0
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_cases(
    url: str, reps: int, seed: int = 7, only: str | None = None, scope_names: list[str] | None = None
) -> dict[str, Any]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    rng = random.Random(seed)
    start, end = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC)
    results: dict[str, Any] = {}
    with factory() as session:
        for scope_name, scope_kw in scopes(session).items():
            if scope_names and scope_name not in scope_names:
                continue
            for case, length, interval in CASES:
                for fname, fn in FUNCTIONS.items():
                    if only and only not in f"{scope_name}/{case}/{fname}":
                        continue
                    times, cpu, srv = [], [], []
                    for _ in range(reps):
                        until = start + (end - start) * rng.random()
                        scope = Scope(since=until - length, until=until, tz=TZ, interval=interval, **scope_kw)
                        s0 = server_cpu(session)
                        t, c = time.perf_counter(), time.process_time()
                        fn(session, scope=scope)
                        times.append((time.perf_counter() - t) * 1000)
                        cpu.append((time.process_time() - c) * 1000)
                        srv.append((server_cpu(session) - s0) * 1000)
                        session.rollback()
                    key = f"{scope_name}/{case}/{fname}"
                    both = [c + s for c, s in zip(cpu, srv, strict=True)]
                    r = results[key] = {
                        "p50": statistics.median(times),
                        "p95": percentile(times, 95),
                        "cpu_p50": statistics.median(cpu),
                        "cpu_p95": percentile(cpu, 95),
                        "server_cpu_p50": statistics.median(srv),
                        "server_cpu_p95": percentile(srv, 95),
                        # per call, client + server: what a call costs whatever the load (the
                        # p95 of the sum, not the sum of the two p95s)
                        "total_cpu_p50": statistics.median(both),
                        "total_cpu_p95": percentile(both, 95),
                        "load": os.getloadavg()[0],
                    }
                    print(
                        f"{key:52} wall p50 {r['p50']:7.1f} p95 {r['p95']:7.1f} ms | "
                        f"cpu p50 {r['cpu_p50']:6.1f} p95 {r['cpu_p95']:6.1f} ms"
                        + (
                            f" | server cpu p50 {r['server_cpu_p50']:6.1f} p95 {r['server_cpu_p95']:6.1f} ms"
                            f" | client+server p50 {r['total_cpu_p50']:6.1f} p95 {r['total_cpu_p95']:6.1f} ms"
                            if any(srv)
                            else ""
                        )
                        + f" | load {r['load']:.1f}",
                        flush=True,
                    )
        if not only:  # --only times the chosen cases alone
            results["raw 30d hourly-by-language GROUP BY"] = raw_group_by(session, rng, reps, start, end)
            results.update(hook_cost(session, rng, reps))
    engine.dispose()
    return results


def raw_group_by(session: Session, rng: random.Random, reps: int, start: datetime, end: datetime) -> dict[str, float]:
    """The issue's reference query, straight over ``mention`` (what the rollups replace)."""
    pg = session.get_bind().dialect.name == "postgresql"
    hour = "date_trunc('hour', published_at)" if pg else "strftime('%Y-%m-%d %H', published_at)"
    sql = text(
        f"SELECT {hour}, lang, count(*) FROM mention WHERE published_at >= :a AND published_at < :b GROUP BY 1, 2"
    )
    times = []
    for _ in range(reps):
        until = start + (end - start) * rng.random()
        since = until - timedelta(days=30)
        a, b = (since, until) if pg else (since.strftime("%Y-%m-%d %H:%M:%S"), until.strftime("%Y-%m-%d %H:%M:%S"))
        t = time.perf_counter()
        session.execute(sql, {"a": a, "b": b}).all()
        times.append((time.perf_counter() - t) * 1000)
    out = {"p50": statistics.median(times), "p95": percentile(times, 95)}
    print(f"{'raw 30d hourly-by-language GROUP BY':60} p50 {out['p50']:7.1f} ms  p95 {out['p95']:7.1f} ms", flush=True)
    return out


def hook_cost(session: Session, rng: random.Random, reps: int) -> dict[str, dict[str, float]]:
    """Refresh for a batch of 500 consecutive mentions (as ingest stores them), rolled back: as
    they are (a repeated batch), and after relabelling each (re-analysis)."""
    top = session.execute(text("SELECT max(id) FROM mention")).scalar_one()
    out: dict[str, dict[str, float]] = {}
    for name, relabel in (("unchanged", False), ("relabelled", True)):
        times, cpu = [], []
        for _ in range(reps):
            first = rng.randrange(1, top - 500)
            ids = list(range(first, first + 500))
            if relabel:
                session.execute(
                    text(
                        "UPDATE mention SET sentiment = CASE WHEN sentiment = 'positive' THEN 'negative' "
                        "ELSE 'positive' END WHERE id >= :a AND id < :b"
                    ),
                    {"a": first, "b": first + 500},
                )
            t, c = time.perf_counter(), time.process_time()
            refresh_mentions(session, mention_ids=ids)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
            session.rollback()
        key = f"ingest hook: refresh a 500-mention batch, {name}"
        r = out[key] = {
            "p50": statistics.median(times),
            "p95": percentile(times, 95),
            "cpu_p50": statistics.median(cpu),
            "cpu_p95": percentile(cpu, 95),
        }
        print(
            f"{key:60} wall p50 {r['p50']:7.1f} p95 {r['p95']:7.1f} ms | cpu p50 {r['cpu_p50']:6.1f} "
            f"p95 {r['cpu_p95']:6.1f} ms",
            flush=True,
        )
    return out


def copy_to_postgres(sqlite_path: Path, admin_url: str) -> str:
    """The same rows in a fresh PostgreSQL database ``resonanz_bench_dash`` (made once; marker table)."""
    import psycopg

    from resonanz.db.migrate import upgrade

    base = admin_url.rsplit("/", 1)[0]
    url = f"{base}/{PG_NAME}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_NAME,)).fetchone()
        if exists:
            with psycopg.connect(url) as con:
                if con.execute("SELECT to_regclass('bench_ready')").fetchone() != (None,):
                    return Settings(database_url=url).resolved_database_url
            admin.execute(f'DROP DATABASE "{PG_NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{PG_NAME}"')
    engine = make_engine(Settings(database_url=url).resolved_database_url)
    upgrade(engine)
    engine.dispose()
    src = sqlite3.connect(sqlite_path)
    tables = {
        "source": "id, name, kind, config, enabled, interval_s, cursor, health, consecutive_failures, created_at",
        "author": "id, platform, handle, name, followers, mention_count, first_seen_at, last_seen_at",
        "mention": "id, platform, external_id, source_id, kind, author_id, published_at, fetched_at, updated_at, "
        "text, media, metrics, content_hash, revision_hash, revision, lang, sentiment, intent",
        "brand": "id, name, kind, created_at",
        "listening_query": "id, name, brand_id, text, version, active, created_at, updated_at, applied_version",
        "query_match": "query_id, mention_id, published_at, query_version",
        "analysis_result": "mention_id, stage, version, revision, result, created_at",
        "rollup_hour": "scope_kind, scope_id, dim, hour, value, count, reach",
        "rollup_day": "scope_kind, scope_id, dim, day, value, count, reach",
        "rollup_set": "id, digest, query_ids",
        "rollup_set_query": "query_id, set_id",
        "rollup_mention": "mention_id, hour, sentiment, lang, platform, source, reach, scopes, level",
    }
    bools = {"enabled", "active"}
    with psycopg.connect(url) as con:
        con.execute("SET TIME ZONE 'UTC'")  # SQLite holds naive UTC
        for table, cols in tables.items():
            names = [c.strip() for c in cols.split(",")]
            started = time.perf_counter()
            with con.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in src.execute(f"SELECT {cols} FROM {table}"):
                    copy.write_row(
                        [bool(v) if n in bools and v is not None else v for n, v in zip(names, row, strict=True)]
                    )
            print(f"  copied {table} in {time.perf_counter() - started:.0f} s", flush=True)
        con.execute("SELECT setval('rollup_set_id_seq', (SELECT max(id) FROM rollup_set))")
        con.execute("ANALYZE")
        con.execute("CREATE TABLE bench_ready (x int)")
        con.commit()
    return Settings(database_url=url).resolved_database_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/rzbench/m1.db"), help="the cached 1M data set")
    parser.add_argument("--reps", type=int, default=15, help="timed calls per case")
    parser.add_argument("--pg", action="store_true", help="also on PostgreSQL (copies the data once)")
    parser.add_argument("--pg-only", action="store_true")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-drop", action="store_true", help="drop the PostgreSQL copy at the end")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() before timing (as a server can after start-up): full collections then skip the "
        "long-lived objects, whose scan is most of a full collection in this process",
    )
    parser.add_argument("--scopes", help="comma-separated scope names (all, query, brand, two queries)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", help="run only the cases whose name contains this (e.g. dashboard)")
    args = parser.parse_args(argv)
    from api import prepare_db  # bench/api.py: builds the 1M data set when missing

    prepare_db(args.db, 1_000_000)
    prepare_sqlite(args.db)
    with args.db.open("rb") as f:  # into the OS cache, as on a server that has been running
        while f.read(1 << 24):
            pass
    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}", flush=True)
    out: dict[str, Any] = {}
    names = args.scopes.split(",") if args.scopes else None
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    if not args.pg_only:
        print("== SQLite", flush=True)
        out["sqlite"] = run_cases(f"sqlite:///{args.db}", args.reps, only=args.only, scope_names=names)
    if args.pg or args.pg_only:
        url = copy_to_postgres(args.db, args.pg_url)
        print("== PostgreSQL", flush=True)
        out["postgresql"] = run_cases(url, args.reps, only=args.only, scope_names=names)
    if args.pg_drop:
        import psycopg

        with psycopg.connect(args.pg_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
    if args.json:
        print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

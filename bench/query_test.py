"""``query test`` on 1,000,000 stored mentions, SQLite (FTS5) and PostgreSQL (tsvector): p50/p95
CPU and wall milliseconds per draft query (issue 5 (b): "in well under a second on 1M mentions").

The store is the API benchmark's data set (``bench/api_data.py``: 1M mentions over one year, the
demo's German and English posts in pairs, analysis columns filled), made once and cached at
``--db``. ``--pg`` copies it (mention, source, author and the full-text index, as tsvector
literals of the same folded bodies) into the PostgreSQL database ``resonanz_bench_qt`` beside
``--pg-url``, once (marker table ``bench_ready``); ``--drop-pg`` removes that database.

Each draft runs ``--repeat`` times through :func:`resonanz.listening.service.try_query` with the
live editor's time limit (``TEST_TIME_LIMIT_S`` of the API), after one untimed warm-up run. CPU is
``time.process_time`` of this process (the database is in-process for SQLite; for PostgreSQL the
server's work is only in the wall figure).

    .venv/bin/python bench/query_test.py [--db /tmp/qt/m1.db] [--repeat 5] [--pg] [--json]
    .venv/bin/python bench/query_test.py --only '#nordwelledown' --limit 10
    .venv/bin/python bench/query_test.py --days 30 --pg    # the editor's period: the last 30 days
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import time
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).parent))

from api_data import generate  # bench/ is the script's directory

from resonanz.api.v1.listening import TEST_TIME_LIMIT_S
from resonanz.config import Settings
from resonanz.db.database import open_database
from resonanz.errors import InputError
from resonanz.listening.service import try_query
from resonanz.mentions.models import Mention
from resonanz.mentions.tokens import tsvector_literal

#: (what it stands for, draft) — the words occur in the data set's texts (the demo's posts)
DRAFTS = [
    ("single word", "kundenservice"),
    ("very common word", "nordwelle"),
    ("OR of brand names", "rheinkurve OR alpenblitz OR wusel"),
    ("phrase", '"nordwelle kundenservice"'),
    ("AND NOT", "app NOT (nordwellego OR ticket)"),
    ("wildcard stem", "verspae*"),
    ("? wildcard", "m?ller OR h?tline"),
    ("NEAR", "(nordwelle OR rheinkurve) NEAR/5 (hotline OR app)"),
    ("ONEAR", "nordwelle ONEAR/3 kundenservice"),
    ("#hashtag", "#nordwelledown"),
    ("site:", "site:social.example kundenservice"),
    ("fields + word", "alpenblitz lang:de sentiment:negative"),
    ("fields only", "intent:complaint lang:en"),
]
PG_DB = "resonanz_bench_qt"
#: the true match counts of the drafts on the default 1M data set (SQLite's exact answers, and a
#: full scan for the checked ones), to show how far an estimate is off
TRUE_COUNTS = {
    "kundenservice": 154_269,
    "nordwelle": 676_099,
    "rheinkurve OR alpenblitz OR wusel": 381_960,
    '"nordwelle kundenservice"': 143_738,
    "app NOT (nordwellego OR ticket)": 8_363,
    "verspae*": 18_850,
    "m?ller OR h?tline": 44_435,
    "(nordwelle OR rheinkurve) NEAR/5 (hotline OR app)": 96_483,
    "nordwelle ONEAR/3 kundenservice": 144_372,
    "#nordwelledown": 356_274,
    "site:social.example kundenservice": 154_269,
    "alpenblitz lang:de sentiment:negative": 23_637,
    "intent:complaint lang:en": 44_412,
}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def copy_to_postgres(sqlite_path: Path, admin_url: str) -> str:
    """The SQLite store's rows in ``resonanz_bench_qt`` (made once; marker table ``bench_ready``)."""
    import psycopg

    from resonanz.db.engine import make_engine
    from resonanz.db.migrate import upgrade

    url = f"{admin_url.rsplit('/', 1)[0]}/{PG_DB}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DB,)).fetchone():
            with psycopg.connect(url) as con:
                if con.execute("SELECT to_regclass('bench_ready')").fetchone() != (None,):
                    return Settings(database_url=url).resolved_database_url
            admin.execute(f'DROP DATABASE "{PG_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{PG_DB}"')
    engine = make_engine(Settings(database_url=url).resolved_database_url)
    upgrade(engine)
    engine.dispose()
    src = sqlite3.connect(sqlite_path)
    tables = {
        "source": "id, name, kind, config, enabled, interval_s, cursor, health, consecutive_failures, created_at",
        "author": "id, platform, handle, name, followers, mention_count, first_seen_at, last_seen_at",
        "mention": "id, platform, external_id, source_id, kind, url, author_id, parent_external_id, parent_id, "
        "published_at, fetched_at, updated_at, title, text, media, metrics, content_hash, revision_hash, "
        "revision, lang, sentiment, intent",
    }
    with psycopg.connect(url) as con:
        con.execute("SET TIME ZONE 'UTC'")  # SQLite holds naive UTC
        for table, cols in tables.items():
            started = time.perf_counter()
            names = [c.strip() for c in cols.split(",")]
            with con.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in src.execute(f"SELECT {cols} FROM {table}"):
                    copy.write_row([bool(v) if n == "enabled" else v for n, v in zip(names, row, strict=True)])
            print(f"  copied {table} in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        with con.cursor().copy("COPY mention_search (mention_id, vector) FROM STDIN") as copy:
            for mid, body in src.execute("SELECT rowid, body FROM mention_fts"):
                copy.write_row([mid, tsvector_literal(body)])
        print(f"  copied the full-text index in {time.perf_counter() - started:.0f} s", flush=True)
        con.execute("CREATE TABLE bench_ready (x int)")
        con.commit()
    with psycopg.connect(url, autocommit=True) as con:  # as autovacuum would leave it: visibility map set
        con.execute("VACUUM ANALYZE")
    return Settings(database_url=url).resolved_database_url


def drop_postgres(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')


def run_drafts(
    url: str, repeat: int, only: str | None, limit_s: float, days: int | None = None
) -> list[dict[str, Any]]:
    db = open_database(Settings(database_url=url, worker_threads=0, data_dir=Path("/tmp/qt")))
    rows = []
    try:
        with db.sessions() as session:
            since = None
            if days is not None:  # the editor's period: the last ``days`` before the newest mention
                newest = session.scalar(select(func.max(Mention.published_at)))
                assert newest is not None
                since = newest.replace(tzinfo=newest.tzinfo or UTC) - timedelta(days=days)
            for label, draft in DRAFTS:
                if only and only not in (label, draft):
                    continue
                cpu, wall, result, error = [], [], None, None
                for run in range(repeat + 1):  # the first run warms the caches, untimed
                    c0, w0 = time.process_time(), time.perf_counter()
                    try:
                        result = try_query(session, query=draft, time_limit_s=limit_s, since=since)
                    except InputError as exc:  # the time limit stopped a statement: no answer at all
                        error = str(exc)
                    if run:
                        cpu.append((time.process_time() - c0) * 1000)
                        wall.append((time.perf_counter() - w0) * 1000)
                    session.rollback()
                times = {
                    "cpu_p50": round(statistics.median(cpu)),
                    "cpu_p95": round(percentile(cpu, 0.95)),
                    "wall_p50": round(statistics.median(wall)),
                    "wall_p95": round(percentile(wall, 0.95)),
                }
                if result is None:
                    row = {"label": label, "query": draft, "error": error, **times}
                    rows.append(row)
                    print(json.dumps(row, ensure_ascii=False), flush=True)
                    continue
                row = {
                    "label": label,
                    "query": draft,
                    "error": error,
                    "exact": result.exact,
                    "count": result.count,
                    "checked": result.checked,
                    "partial": result.truncated,
                    **{k: getattr(result, k) for k in ("candidates", "estimate") if hasattr(result, k)},
                    "days": len(result.curve),
                    "curve_every": result.curve_every,
                    **times,
                }
                rows.append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)
    finally:
        db.dispose()
    return rows


def table(rows: list[dict[str, Any]], *, whole_history: bool = True) -> str:
    out = [
        "| draft | query | exact | matches | checked | partial | off by | CPU p50 / p95 ms | wall p50 / p95 ms |",
        "| --- | --- | :---: | ---: | ---: | :---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        if r.get("error") and "count" not in r:
            out.append(
                f"| {r['label']} | `{r['query']}` | | **error: {r['error']}** | | | | "
                f"{r['cpu_p50']:,} / {r['cpu_p95']:,} | {r['wall_p50']:,} / {r['wall_p95']:,} |"
            )
            continue
        partial = "yes" if r["partial"] else ""
        answer = r["count"]
        if r.get("estimate") is not None and r["partial"]:
            partial += f" (~{r['estimate']:,})"
            answer = r["estimate"]
        true = TRUE_COUNTS.get(r["query"]) if whole_history else None
        off = f"{(answer - true) / true:+.1%}" if true and r["partial"] else "0" if true == answer else ""
        out.append(
            f"| {r['label']} | `{r['query']}` | {'yes' if r['exact'] else 'no'} | {r['count']:,} | "
            f"{r['checked']:,} | {partial} | {off} | {r['cpu_p50']:,} / {r['cpu_p95']:,} | "
            f"{r['wall_p50']:,} / {r['wall_p95']:,} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--db", type=Path, default=Path("/tmp/qt/m1.db"))
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--limit", type=float, default=TEST_TIME_LIMIT_S, help="time limit per draft, seconds")
    parser.add_argument("--only", default=None, help="one draft (its label or text)")
    parser.add_argument("--pg", action="store_true", help="also on PostgreSQL")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--drop-pg", action="store_true", help="drop the PostgreSQL copy and exit")
    parser.add_argument("--days", type=int, default=None, help="the editor's period: the last N days only")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.drop_pg:
        drop_postgres(args.pg_url)
        return 0
    if not args.db.exists():
        generate(args.db, args.count)
    report: dict[str, Any] = {"load": os.getloadavg()}
    if not args.no_sqlite:
        report["sqlite"] = run_drafts(f"sqlite:///{args.db}", args.repeat, args.only, args.limit, args.days)
    if args.pg:
        url = copy_to_postgres(args.db, args.pg_url)
        report["postgresql"] = run_drafts(url, args.repeat, args.only, args.limit, args.days)
    report["load_after"] = os.getloadavg()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for engine in ("sqlite", "postgresql"):
            if engine in report:
                rows = table(report[engine], whole_history=args.days is None)
                print(f"\n{engine}, load {report['load']} -> {report['load_after']}\n\n{rows}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What streaming matching adds to analysis, per mention: :func:`resonanz.listening.matching.
match_mentions` over stored mentions in the analysis runner's batches (500), with 0, 100 and
1,000 active queries.

    .venv/bin/python bench/listening_match.py                  # 20,000 stored mentions, SQLite
    .venv/bin/python bench/listening_match.py --count 50000 --json
    .venv/bin/python bench/listening_match.py --database-url postgresql://postgres@127.0.0.1:5432/resonanz_bench

The mentions and queries are ``bench/listening.py``'s (the demo's posts; queries made from their
words). Each run deletes the matches first, then times every batch: reading the batch's mentions,
preparing them (fold + words), the matcher, deleting the batch's old matches and inserting the new
ones; once without and once with the ``mentions_matched`` hook (the installed plugins: rollups,
case intake), so the matcher's own cost and the hooks' are told apart. The compiled matcher is
built once before the timing (reported apart); per batch the cheap change check runs as in
production. CPU time (``process_time``) is the guide on a shared machine; wall time is reported too.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from analyze import make_texts  # bench/ is the script's directory
from sqlalchemy import delete, func, select

from listening import fill_store, make_queries
from resonanz.clock import now
from resonanz.listening import matching
from resonanz.listening.models import Query, QueryMatch
from resonanz.mentions.models import Mention


def set_queries(db: Any, texts: list[str]) -> None:
    with db.sessions() as session:
        session.execute(delete(QueryMatch))
        session.execute(delete(Query))
        stamp = now()
        for i, text in enumerate(texts):
            session.add(Query(name=f"q{i}", text=text, version=1, active=True, created_at=stamp, updated_at=stamp))
        session.commit()


class _NoHook:
    """Stands in for the plugin manager: the matcher's own cost, without the installed hooks."""

    class hook:  # noqa: N801 - mirrors pluggy's attribute
        @staticmethod
        def mentions_matched(**_kw: Any) -> None:
            return None


def run(db: Any, ids: list[int], batch: int) -> dict[str, Any]:
    with db.sessions() as session:
        started = time.perf_counter()
        built = matching.active_matcher(session)
        build_s = time.perf_counter() - started
        session.rollback()
    cpu, wall, written = 0.0, 0.0, 0
    with db.sessions() as session:
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            c0, w0 = time.process_time(), time.perf_counter()
            written += matching.match_mentions(session, mention_ids=chunk)
            session.flush()
            cpu += time.process_time() - c0
            wall += time.perf_counter() - w0
            session.commit()
        count = int(session.scalar(select(func.count()).select_from(QueryMatch)) or 0)
    assert count == written
    return {
        "queries": len(built.matcher),
        "build_s": round(build_s, 2),
        "matches_per_mention": round(written / len(ids), 2),
        "cpu_us_per_mention": round(cpu / len(ids) * 1e6, 1),
        "wall_us_per_mention": round(wall / len(ids) * 1e6, 1),
        "mentions_per_cpu_s": round(len(ids) / cpu) if cpu else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-hooks", action="store_true", help="only the matcher's own cost")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    texts = make_texts(args.count)
    all_queries = make_queries([t for t, _, _ in texts], 1000)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        db = fill_store(args.database_url, Path(tmp), texts, args.count)
        with db.sessions() as session:
            ids = list(session.scalars(select(Mention.id).order_by(Mention.id)))
        real_pm = matching.get_plugin_manager
        for n in (0, 100, 1000):
            set_queries(db, all_queries[:n])
            for hooks in (False,) if args.no_hooks else (False, True):
                matching.get_plugin_manager = real_pm if hooks else _NoHook  # type: ignore[assignment]
                matching.forget_cache()
                row = run(db, ids, args.batch)
                row.update(engine=db.engine.dialect.name, with_hooks=hooks)
                rows.append(row)
                if not args.json:
                    print(json.dumps(row), flush=True)
        matching.get_plugin_manager = real_pm
        db.dispose()
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

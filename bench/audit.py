"""Audit log reads on a large log (issue 6, admin page and API): ``page_events`` (a page of 50,
newest first) and ``count_events`` (capped at 10,000) for the filters the /admin/audit page offers.

    .venv/bin/python bench/audit.py --rows 200000

A fresh SQLite database gets ``--rows`` audit rows (8 actions, 5,000 cases, one row per 30 s);
each filter runs 20 times; the median CPU (``process_time``, SQLite runs in this process) and wall
milliseconds are printed as a markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from resonanz.audit.models import AuditEvent
from resonanz.audit.service import AuditFilter, count_events, page_events
from resonanz.config import Settings
from resonanz.db.database import Database, open_database

ACTIONS = (
    "case.status",
    "case.assign",
    "case.note",
    "reply.submit",
    "reply.approve",
    "reply.sent",
    "care.setting",
    "team.create",
)
START = datetime(2026, 1, 1, tzinfo=UTC)


def fill(db: Database, rows: int) -> None:
    with db.engine.begin() as conn:
        for first in range(0, rows, 20_000):
            batch = [
                {
                    "at": START + timedelta(seconds=30 * i),
                    "actor_user_id": None,
                    "action": ACTIONS[i % len(ACTIONS)],
                    "object_type": "case",
                    "object_id": str(i % 5000),
                    "before": {"status": "open"},
                    "after": {"status": "resolved"},
                    "ip": None,
                }
                for i in range(first, min(rows, first + 20_000))
            ]
            conn.execute(insert(AuditEvent), batch)


def filters() -> dict[str, AuditFilter]:
    return {
        "newest page, no filter": AuditFilter(),
        "action exact (reply.approve)": AuditFilter(action="reply.approve"),
        "action prefix (case.)": AuditFilter(action="case."),
        "one object (case 1234)": AuditFilter(object_type="case", object_id="1234"),
        "one day window": AuditFilter(since=START + timedelta(days=20), until=START + timedelta(days=21)),
        "rare action (care.setting) + 30-day window": AuditFilter(
            action="care.setting", since=START + timedelta(days=10), until=START + timedelta(days=40)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    db = open_database(
        Settings(data_dir=tmp, database_url=f"sqlite:///{tmp}/audit.db", worker_threads=0, periodic_jobs=False)
    )
    fill(db, args.rows)
    print(f"{args.rows:,} audit rows; median of {args.repeat}")
    print("| filter | page of 50: CPU ms | count (capped 10,000): CPU ms (matches) | wall ms page+count |")
    print("|---|---|---|---|")
    for name, where in filters().items():
        page_cpu: list[float] = []
        count_cpu: list[float] = []
        wall: list[float] = []
        total, capped = 0, False
        for _ in range(args.repeat):
            with db.sessions() as session:
                wall_start, cpu_start = time.perf_counter(), time.process_time()
                page_events(session, where=where, limit=50)
                cpu_mid = time.process_time()
                total, capped = count_events(session, where=where)
                cpu_end, wall_end = time.process_time(), time.perf_counter()
            page_cpu.append((cpu_mid - cpu_start) * 1000)
            count_cpu.append((cpu_end - cpu_mid) * 1000)
            wall.append((wall_end - wall_start) * 1000)
        matches = f"{total}{'+' if capped else ''}"
        print(
            f"| {name} | {statistics.median(page_cpu):.1f} | {statistics.median(count_cpu):.1f} ({matches}) "
            f"| {statistics.median(wall):.1f} |"
        )


if __name__ == "__main__":
    main()

"""``resonanz export`` at scale: rows/s and peak memory for CSV and Parquet of 1M mentions.

Each measurement runs in a fresh process, so its peak resident memory (``ru_maxrss``) is its own;
the figure reported is the peak minus the process's resident size just before the export
started (interpreter, SQLAlchemy, pyarrow imported). A streamed export keeps that difference
flat whether it writes 100,000 rows or 1,000,000.

    .venv/bin/python bench/api_data.py            # once: /tmp/rzbench/m1.db with 1M mentions
    .venv/bin/python bench/export.py [--db /tmp/rzbench/m1.db]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_DB = Path("/tmp/rzbench/m1.db")
#: (label, --until) - the benchmark data spans 2025-11-01 .. 2026-11-01 evenly
SIZES = (("~100k", "2025-12-08T00:00:00+00:00"), ("1M", None))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def one(db: Path, kind: str, fmt: str, until: str | None, pseudonymise: bool) -> dict[str, object]:
    import pyarrow.parquet  # noqa: F401  (imported before the baseline, like the CLI does on first use)

    from resonanz.db.engine import begin_read_only, make_engine, make_session_factory
    from resonanz.reports.export import ExportFormat, ExportKind, export, resolve_scope
    from resonanz.reports.pseudonyms import Pseudonymiser

    engine = make_engine(f"sqlite:///{db}")
    sessions = make_session_factory(engine)
    with tempfile.TemporaryDirectory() as tmp, sessions() as session:
        begin_read_only(session)
        out = Path(tmp) / f"export.{fmt}"
        scope = resolve_scope(
            session, query=None, brand=None, since=None, until=datetime.fromisoformat(until) if until else None
        )
        baseline = _rss_mb()
        cpu0 = _cpu_s()
        started = time.perf_counter()
        result = export(
            session,
            kind=ExportKind(kind),
            fmt=ExportFormat(fmt),
            out=out,
            scope=scope,
            pseudonymiser=Pseudonymiser(b"bench") if pseudonymise else None,
        )
        seconds = time.perf_counter() - started
        cpu = _cpu_s() - cpu0
        return {
            "kind": kind,
            "format": fmt,
            "pseudonymised": pseudonymise,
            "rows": result.rows,
            "seconds": round(seconds, 1),
            "rows_per_s": round(result.rows / seconds),
            "cpu_s": round(cpu, 1),
            "rows_per_cpu_s": round(result.rows / cpu),
            "file_mb": round(out.stat().st_size / 1e6, 1),
            "baseline_mb": round(baseline),
            "peak_over_baseline_mb": round(_rss_mb() - baseline),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--one", nargs=4, metavar=("KIND", "FORMAT", "UNTIL", "PSEUDO"))
    args = parser.parse_args()
    if args.one:
        kind, fmt, until, pseudo = args.one
        print(json.dumps(one(args.db, kind, fmt, None if until == "-" else until, pseudo == "1")))
        return
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.db}")
    cases = [("mentions", fmt, label, until, "0") for label, until in SIZES for fmt in ("csv", "parquet")]
    cases += [("mentions", "csv", "1M", None, "1"), ("aggregates", "parquet", "1M", None, "0")]
    for kind, fmt, label, until, pseudo in cases:
        out = subprocess.run(
            [sys.executable, __file__, "--db", str(args.db), "--one", kind, fmt, until or "-", pseudo],
            capture_output=True,
            text=True,
            check=True,
        )
        print(label, out.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()

"""The backtest on the demo data set: the demo's rules fire on the #NordwelleDown outage (and its
words drive the explanation) and on no ordinary day."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from resonanz.analysis.jobs import ANALYSIS_KIND
from resonanz.db.database import Database
from resonanz.demo.workspace import load_demo
from resonanz.listening.alerts.backtest import run_backtest
from resonanz.listening.alerts.service import list_rules
from resonanz.worker.runner import drain

SCALE = 0.3


def test_demo_backtest_fires_on_the_outage_only(db: Database) -> None:
    summary = load_demo(db, scale=SCALE)
    drain(db, kinds=[ANALYSIS_KIND])
    until = datetime.combine(summary.window_end, time(0), tzinfo=UTC) + timedelta(days=1)
    crisis = (summary.crisis_start, summary.crisis_end)
    with db.sessions() as session:
        rules = {r.kind: r for r in list_rules(session)}
        assert set(rules) == {"volume_spike", "negative_surge", "crisis", "keyword", "influencer"}
        for kind in ("volume_spike", "crisis", "keyword"):
            report = run_backtest(session, rule=rules[kind], until=until, days=90)
            days = {e.start.date() for e in report.episodes}
            assert days, kind
            assert all(crisis[0] <= d <= crisis[1] for d in days), (kind, sorted(days))
            assert report.buckets >= 90 * 24
            first = report.episodes[0].explanation
            assert first is not None and first["samples"]
            if kind != "keyword":
                assert "#nordwelledown" in [t["term"] for t in first["top_terms"]], (kind, first["top_terms"])

"""``resonanz alerts add|rules|backtest|evaluate|list|ack|resolve``: JSON output and exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from resonanz.cli.main import app
from resonanz.config import Settings
from resonanz.db.database import Database

from .alerts_factory import SPIKE, spike_history


def _cli(settings: Settings, *args: str) -> tuple[int, str]:
    base = ["--database-url", settings.database_url or "", "--data-dir", str(settings.data_dir)]
    result = CliRunner().invoke(app, [*base, *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_add_backtest_evaluate_ack(settings: Settings, db: Database) -> None:
    with db.sessions() as s:
        spike_history(s)
        s.commit()
    code, out = _cli(settings, "alerts", "add", "spikes", "--query", "Nordwelle", "--sensitivity", "high")
    assert code == 0, out
    assert _cli(settings, "alerts", "add", "spikes", "--query", "Nordwelle")[0] == 4
    assert _cli(settings, "alerts", "add", "x", "--query", "nope")[0] == 3
    code, out = _cli(settings, "alerts", "add", "x", "--query", "Nordwelle", "--sensitivity", "wild")
    assert code == 5 and "params.sensitivity" in out
    code, out = _cli(settings, "alerts", "add", "kw", "--kind", "keyword", "--query", "Nordwelle", "--text", "(a")
    assert code == 5 and "params.text" in out
    code, out = _cli(settings, "alerts", "rules", "--json")
    (rule,) = json.loads(out)
    code, out = _cli(settings, "alerts", "backtest", str(rule["id"]), "--days", "20", "--until",
                     (SPIKE.replace(hour=23)).isoformat(), "--json")  # fmt: skip
    assert code == 0, out
    report = json.loads(out)
    assert [e["start"] for e in report["episodes"]] == [SPIKE.isoformat()]
    code, out = _cli(settings, "alerts", "backtest", str(rule["id"]), "--days", "20", "--until",
                     SPIKE.replace(hour=23).isoformat())  # fmt: skip
    assert code == 0 and "1 episode(s)" in out and "zugausfall" in out
    code, out = _cli(settings, "alerts", "evaluate", "--json")  # first run: only the latest closed hour
    assert code == 0 and json.loads(out)["rules"][0]["buckets"] == 1
    assert _cli(settings, "alerts", "list", "--json")[1].strip() == "[]"
    assert _cli(settings, "alerts", "ack", "99")[0] == 3

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


def test_list_words_the_kind_in_the_cli_language(settings: Settings, db: Database) -> None:
    """The stored title is the watched scope only; ``alerts list`` words the kind itself."""
    from datetime import UTC, datetime

    from resonanz.listening.alerts.models import Alert

    with db.sessions() as s:
        spike_history(s)
        s.commit()
    assert _cli(settings, "alerts", "add", "spikes", "--query", "Nordwelle")[0] == 0
    (rule,) = json.loads(_cli(settings, "alerts", "rules", "--json")[1])
    at = datetime(2026, 10, 5, 12, tzinfo=UTC)
    with db.sessions() as s:
        s.add(Alert(rule_id=rule["id"], kind="volume_spike", status="open", title="Nordwelle", episode_start=at,
                    episode_end=at, fired_at=at, updated_at=at, observed=60.0, baseline=4.0, score=9.0, buckets=1,
                    explanation={}))  # fmt: skip
        s.commit()
    base = ["--database-url", settings.database_url or "", "--data-dir", str(settings.data_dir)]
    german = CliRunner().invoke(app, [*base, "alerts", "list"], env={"RESONANZ_LANGUAGE": "de", "COLUMNS": "200"})
    english = CliRunner().invoke(app, [*base, "alerts", "list"], env={"RESONANZ_LANGUAGE": "en", "COLUMNS": "200"})
    assert german.exit_code == 0 and "Volumenspitze: Nordwelle" in german.output
    assert english.exit_code == 0 and "Volume spike: Nordwelle" in english.output

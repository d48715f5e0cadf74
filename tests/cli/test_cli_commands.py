"""The CLI end to end through Typer's runner, against the test database."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from resonanz.cli.main import app
from resonanz.config import Settings
from resonanz.connectors.base import PullResult
from resonanz.db.database import Database
from tests.sources.fake_connector import FakeConnector, raw

runner = CliRunner()


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    base = ["--database-url", settings.database_url or "", "--data-dir", str(settings.data_dir)]
    result = runner.invoke(app, [*base, *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_source_lifecycle_pull_search_stats_quarantine(
    settings: Settings, db: Database, fake: type[FakeConnector]
) -> None:
    code, out = cli(settings, "source", "add", "fake", "demo-fake", "--set", "label=x", "--interval", "5m")
    assert code == 0, out
    code, out = cli(settings, "source", "add", "fake", "demo-fake")
    assert code == 4 and "exists already" in out
    code, out = cli(settings, "source", "list", "--json")
    (listed,) = json.loads(out)
    assert listed["name"] == "demo-fake" and listed["interval_s"] == 300 and listed["config"] == {"label": "x"}

    bad = type(raw(0))(payload=b'{"id": 7}', location="item 7")
    FakeConnector.script.append(PullResult(items=[raw(1, text="Die Straße ist gesperrt, Umleitung!"), bad]))
    code, out = cli(settings, "source", "pull", "demo-fake", "--json")
    assert code == 0, out
    run = json.loads(out)
    assert (run["new"], run["rejected"]) == (1, 1)

    code, out = cli(settings, "mentions", "search", "STRASSE", "--json")
    assert code == 0 and [m["external_id"] for m in json.loads(out)] == ["1"]
    code, out = cli(settings, "mentions", "search", '"unclosed', "--json")
    assert code == 5 and "column 1" in out

    code, out = cli(settings, "stats", "--json")
    assert json.loads(out) == {"mentions": 1, "authors": 0, "sources": 1, "quarantined": 1, "reposts": 0}

    code, out = cli(settings, "quarantine", "list", "--json")
    (q,) = json.loads(out)
    assert q["location"] == "item 7" and "text" in q["reason"]
    code, out = cli(settings, "quarantine", "show", str(q["id"]))
    assert code == 0 and '{"id": 7}' in out
    code, out = cli(settings, "quarantine", "replay", str(q["id"]))
    assert code == 1 and "still failing" in out
    FakeConnector.strict = False
    code, out = cli(settings, "quarantine", "replay", "--all", "--json")
    assert code == 0 and json.loads(out)[0]["ok"] is True

    code, out = cli(settings, "source", "show", "demo-fake", "--json")
    shown = json.loads(out)
    assert [r["kind"] for r in shown["runs"]] == ["replay", "replay", "pull"]
    code, out = cli(settings, "source", "remove", "demo-fake", "--yes")
    assert code == 0
    code, out = cli(settings, "source", "show", "demo-fake")
    assert code == 3 and "no source named" in out


def test_invalid_config_is_refused_with_field(settings: Settings, db: Database, fake: type[FakeConnector]) -> None:
    code, out = cli(settings, "source", "add", "fake", "x1", "--set", "label=[1,2]")
    assert code == 6 and "label" in out
    code, out = cli(settings, "source", "add", "nosuchkind", "x2")
    assert code == 6 and "unknown source kind" in out
    code, out = cli(settings, "source", "add", "fake", "x3", "--interval", "soon")
    assert code == 5 and "--interval" in out

"""``resonanz routing|sla|agents|care-metrics`` through Typer's runner against the test database."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from resonanz.cases.sla import parse_hours_spec
from resonanz.cli.main import app
from resonanz.config import Settings
from resonanz.db.database import Database
from tests.routing.routing_support import add_mention, make_agent, make_case, make_team

runner = CliRunner()


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    base = ["--database-url", settings.database_url or "", "--data-dir", str(settings.data_dir)]
    result = runner.invoke(app, [*base, *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_parse_hours_spec() -> None:
    office = [["09:00", "17:00"]]
    expected = {"mon": office, "tue": office, "wed": office, "sat": [["10:00", "14:00"]]}
    assert parse_hours_spec("mon-wed 09:00-17:00; sat 10:00-14:00") == expected


def test_routing_sla_agents_metrics_commands(settings: Settings, db: Database) -> None:
    with db.sessions() as session:
        agent = make_agent(session, "Anna")
        make_team(session, "Billing", [agent])
        case = make_case(session, lang="de")
        add_mention(session, case, text="Rechnung doppelt", lang="de")
        session.commit()
        email = agent.email
    code, out = cli(settings, "routing", "add", "billing", "rechnung AND lang:de", "--team", "Billing")
    assert code == 0, out
    code, out = cli(settings, "routing", "add", "broken", "lang:de AND (x", "--team", "Billing")
    assert code != 0 and "column 13" in out
    code, out = cli(settings, "routing", "rules", "--json")
    assert [r["name"] for r in json.loads(out)] == ["billing"]
    code, out = cli(settings, "routing", "test", "rechnung")
    assert code == 0 and "1 of 1 cases match" in out
    code, out = cli(settings, "routing", "test", "lang:fr")
    assert code == 1 and "matches none" in out
    code, out = cli(settings, "sla", "calendar", "Berlin", "--hours", "mon-fri 09:00-17:00", "--team", "Billing")
    assert code == 0, out
    code, out = cli(settings, "sla", "calendar", "Never", "--hours", "")
    assert code != 0 and "no working hours" in out
    code, out = cli(settings, "sla", "holidays", "Berlin", "--german", "2026", "--add", "2026-12-24:Heiligabend")
    assert code == 0 and "Karfreitag" in out and "Heiligabend" in out
    code, out = cli(
        settings,
        "sla",
        "set",
        "--priority",
        "normal",
        "--first-response",
        "60",
        "--resolution",
        "480",
        "--team",
        "Billing",
    )
    assert code == 0, out
    code, out = cli(settings, "sla", "policies")
    assert "Billing" in out and "480" in out
    code, out = cli(settings, "agents", "availability", email, "away", "--hours", "2", "--cap", "3")
    assert code == 0, out
    code, out = cli(settings, "agents", "availability", email, "asleep")
    assert code != 0
    code, out = cli(settings, "agents", "list", "--team", "Billing")
    assert "away" in out and "Anna" in out
    code, out = cli(settings, "care-metrics", "--csv", "-")
    assert code == 0 and out.startswith("group,key,name,cases")
    code, out = cli(settings, "sla", "check")
    assert code == 0 and "breaches" in out

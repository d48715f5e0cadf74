"""``resonanz audit list`` and ``resonanz care-settings …`` through Typer's runner."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from resonanz.accounts.models import Team
from resonanz.cli.main import app
from resonanz.config import Settings
from resonanz.db.database import Database
from tests.support.accounts_factory import make_user

runner = CliRunner()


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    base = ["--database-url", settings.database_url or "", "--data-dir", str(settings.data_dir)]
    result = runner.invoke(app, [*base, *args], catch_exceptions=False, env={"RESONANZ_LANGUAGE": "en"})
    return result.exit_code, result.output


def test_csat_switches_and_the_audit_log_shows_who_changed_them(settings: Settings, db: Database) -> None:
    with db.sessions() as session:
        session.add(Team(name="Billing"))
        boss = make_user(session, email="boss@example.org")
        session.commit()
        boss_id = boss.id
    assert cli(settings, "care-settings", "csat", "on", "--as", "boss@example.org")[0] == 0
    assert cli(settings, "care-settings", "csat", "off", "--team", "Billing")[0] == 0
    code, out = cli(settings, "care-settings", "csat", "--json")
    data = json.loads(out)
    assert code == 0 and data["enabled"] is True
    assert data["teams"] == [{"team_id": 1, "team": "Billing", "override": False, "effective": False}]
    assert cli(settings, "care-settings", "csat", "inherit")[0] == 5
    assert cli(settings, "care-settings", "csat", "maybe")[0] == 5
    assert cli(settings, "care-settings", "csat", "on", "--team", "Nobody")[0] == 3
    code, out = cli(settings, "audit", "list", "--actor", "boss@example.org", "--json")
    (event,) = json.loads(out)
    assert event["action"] == "care.setting" and event["actor_user_id"] == boss_id
    assert event["before"] == {"value": None} and event["after"] == {"value": True}
    code, out = cli(settings, "audit", "list", "--actor", "system", "--action", "care.", "--json")
    assert [e["action"] for e in json.loads(out)] == ["care.team_setting"]
    assert cli(settings, "audit", "list", "--since", "yesterday")[0] == 5


def test_audit_list_pages_and_profanity_phrases_rules_limits(settings: Settings, db: Database) -> None:
    for term in ("Depp", "Trottel", "Pfeife"):
        assert cli(settings, "care-settings", "profanity", "--add", term)[0] == 0
    code, out = cli(settings, "care-settings", "profanity", "--add", "Depp")
    assert code == 4 and "already" in out
    code, out = cli(settings, "audit", "list", "--action", "care.profanity.add", "--limit", "2")
    assert code == 0 and "older entries: add --before 2" in out
    code, out = cli(settings, "audit", "list", "--before", "2", "--json")
    assert [e["after"]["term"] for e in json.loads(out)] == ["Depp"]
    code, out = cli(settings, "care-settings", "profanity", "--remove", "1")
    assert code == 0 and "Depp" not in out and "Trottel" in out
    assert cli(settings, "replies", "block", "Umtausch garantiert", "--kind", "guarantee")[0] == 0
    code, out = cli(settings, "care-settings", "phrases", "--unblock", "1")
    assert code == 0 and "Umtausch" not in out
    assert cli(settings, "care-settings", "phrases", "--unblock", "1")[0] == 3
    assert cli(settings, "replies", "rule", "neu", "--kind", "new_agent", "--days", "14")[0] == 0
    assert cli(settings, "care-settings", "delete-rule", "1")[0] == 0
    assert cli(settings, "care-settings", "delete-rule", "1")[0] == 3
    code, out = cli(settings, "care-settings", "limits")
    assert code == 0 and "bluesky" in out and "graphemes" in out

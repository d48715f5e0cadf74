"""``resonanz cases``: list, show, status (with a stale --version and a forbidden move), assign,
note with @mention, merge, intake — the same actions as pages and API, with their exit codes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from resonanz.cases import actions
from resonanz.cli.main import app
from resonanz.config import Settings
from resonanz.db.database import Database
from tests.cases.cases_support import make_mention
from tests.support.accounts_factory import make_user

runner = CliRunner()


@pytest.fixture(autouse=True)
def _cli_db(settings: Settings, db: Database) -> None:
    global BASE
    BASE = ["--database-url", settings.database_url or "", "--data-dir", str(settings.data_dir)]


BASE: list[str] = []


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*BASE, "cases", *args])
    return result.exit_code, result.output


def test_cli_works_a_case(db: Database) -> None:
    with db.sessions() as s:
        anna = make_user(s, email="anna@example.test", display_name="Anna")
        make_user(s, email="bert@example.test", display_name="Bert")
        m1, m2 = make_mention(s, text="Wo ist mein Paket?"), make_mention(s, text="Zweite Frage")
        c1 = actions.do_create_case(s, mentions=[m1], route=False, actor=None)
        c2 = actions.do_create_case(s, mentions=[m2], route=False, actor=None)
        s.commit()
        ids = (c1.id, c2.id)
    code, out = run("list", "--json")
    assert code == 0 and json.loads(out)["total"] == 2
    code, out = run("status", str(ids[0]), "open", "--version", "1", "--as", "anna@example.test")
    assert code == 0 and "open" in out
    code, out = run("status", str(ids[0]), "pending", "--version", "1")
    assert code == 4 and "changed by Anna" in out
    code, out = run("status", str(ids[0]), "new")
    assert code == 4 and "may go to" in out
    code, out = run("status", str(ids[0]), "done")
    assert code == 5
    assert run("assign", str(ids[0]), "bert@example.test", "--as", "anna@example.test")[0] == 0
    code, out = run("note", str(ids[0]), "@bert bitte ansehen", "--as", "anna@example.test")
    assert code == 0 and "notified: 1" in out
    assert run("merge", str(ids[1]), str(ids[0]))[0] == 0
    code, out = run("show", str(ids[0]), "--json")
    shown = json.loads(out)
    assert code == 0 and len(shown["mention_ids"]) == 2 and shown["notes"][0]["body"] == "@bert bitte ansehen"
    assert run("show", "999999")[0] == 3
    assert anna.id


def test_cli_intake_creates_cases(db: Database) -> None:
    with db.sessions() as s:
        make_mention(s, intent="complaint")
        make_mention(s, intent="praise", needs_response=False)
        s.commit()
    code, out = run("intake")
    assert code == 0 and "1 cases created" in out
    assert run("intake")[1].startswith("0 cases created")

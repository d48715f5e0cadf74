"""``resonanz kb`` and ``resonanz replies`` through Typer's runner: exit codes name bad lines."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from resonanz.cli.main import app
from resonanz.config import Settings
from resonanz.db.database import Database

runner = CliRunner()


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    base = ["--database-url", settings.database_url or "", "--data-dir", str(settings.data_dir)]
    result = runner.invoke(app, [*base, *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_kb_add_import_list_review(settings: Settings, db: Database, tmp_path: Path) -> None:
    code, out = cli(settings, "kb", "add", "Lieferzeiten", "--body", "Meist 3 Werktage.", "--tag", "lieferung")
    assert code == 0, out
    good = tmp_path / "kb.jsonl"
    good.write_text(json.dumps({"title": "Returns", "body": "30 days.", "lang": "en", "tags": ["returns"]}) + "\n")
    assert cli(settings, "kb", "import", str(good))[0] == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps({"title": "ok", "body": "ok", "lang": "de"}) + "\n" + '{"title": "x", "lang": "fr", "body": "y"}\n'
    )
    code, out = cli(settings, "kb", "import", str(bad))
    assert code == 5 and "line 2" in out
    code, out = cli(settings, "kb", "list", "--json")
    assert sorted(a["title"] for a in json.loads(out)) == ["Lieferzeiten", "Returns"]  # the bad file added nothing
    assert cli(settings, "kb", "review", "1")[0] == 0
    assert cli(settings, "kb", "review", "99")[0] == 3
    code, out = cli(settings, "replies", "send-due")
    assert code == 0 and "nothing due" in out


def test_replies_rules_block_and_crisis(settings: Settings, db: Database) -> None:
    assert cli(settings, "replies", "rule", "neu", "--kind", "new_agent", "--days", "14")[0] == 0
    code, out = cli(settings, "replies", "rule", "x", "--kind", "new_agent", "--days", "0")
    assert code == 5 and "params.days" in out
    assert cli(settings, "replies", "block", "Rheinkurve", "--kind", "competitor")[0] == 0
    assert cli(settings, "replies", "block", "Rheinkurve", "--kind", "competitor")[0] == 4
    assert cli(settings, "replies", "crisis", "on")[0] == 0
    assert cli(settings, "replies", "crisis", "maybe")[0] == 5
    code, out = cli(settings, "replies", "rules")
    assert code == 0 and "neu" in out

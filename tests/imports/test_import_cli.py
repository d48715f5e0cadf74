"""``resonanz import`` through Typer's runner: summary, JSON, mapping flags, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from resonanz.cli.main import app
from resonanz.config import Settings
from resonanz.db.database import Database
from tests.imports.import_helpers import counts, jsonl, record, write

runner = CliRunner()


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    base = ["--database-url", settings.database_url or "", "--data-dir", str(settings.data_dir)]
    result = runner.invoke(app, [*base, *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_import_jsonl_summary_and_json(settings: Settings, db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "posts.jsonl", jsonl(record("1"), "{broken", record("2")))
    code, out = cli(settings, "import", str(path))
    assert code == 0, out
    assert "2 new" in out and "1 rejected" in out and "mentions/s" in out and "quarantine list" in out
    code, out = cli(settings, "import", str(path), "--json", "--source", "import")
    assert code == 0, out
    run = json.loads(out)
    assert (run["kind"], run["new"], run["duplicate"], run["rejected"]) == ("import", 0, 2, 1)
    assert run["mentions_per_s"] > 0


def test_import_csv_with_map_flags(settings: Settings, db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "sprout.csv", "Message ID,Sent,Body\nS1,2026-03-01 10:00,Wo bleibt meine Erstattung?\n")
    code, out = cli(
        settings, "import", str(path), "--source", "sprout", "--json",
        "--map", "id=Message ID", "--map", "published_at=Sent", "--map", "text=Body",
    )  # fmt: skip
    assert code == 0, out
    assert json.loads(out)["new"] == 1


def test_import_errors_exit_with_input_code(settings: Settings, db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "sprout.csv", "Message ID,Body\nS1,Hallo\n")
    code, out = cli(settings, "import", str(path), "--map", "id=Message ID", "--map", "text=Body")
    assert code == 5 and "missing required column 'published_at'" in out
    code, out = cli(settings, "import", str(path), "--map", "id")
    assert code == 5 and "FIELD=COLUMN" in out
    code, out = cli(settings, "import", str(tmp_path / "nope.csv"))
    assert code == 5 and "no such file" in out
    assert counts(db)["mentions"] == 0 and counts(db)["runs"] == 0

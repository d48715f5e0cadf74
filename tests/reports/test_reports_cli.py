"""``resonanz reports list|generate|send-due``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from resonanz.cli.main import app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.listening import rollups
from resonanz.reports.actions import do_create_report
from resonanz.reports.schemas import ReportCreate
from tests.reports.reports_data import build

runner = CliRunner()


def test_list_generate_and_send_due(settings: Settings, db: Database, tmp_path: Path) -> None:
    with db.sessions() as s, s.begin():
        ws = build(s, days=7)
        rollups.rebuild(s)
        do_create_report(
            s, data=ReportCreate(name="Woche", brand_ids=[ws.brands["Nordwelle"]], language="en"), actor=None
        )
    base = ["--database-url", settings.database_url or "", "--data-dir", str(settings.data_dir)]
    res = runner.invoke(app, [*base, "reports", "list", "--json"])
    assert res.exit_code == 0, res.output
    (listed,) = json.loads(res.stdout)
    assert listed["name"] == "Woche" and listed["next_run_at"]
    out = tmp_path / "w.pdf"
    res = runner.invoke(app, [*base, "reports", "generate", "Woche", "--out", str(out), "--at", "2026-03-04T12:00"])
    assert res.exit_code == 0, res.output
    assert out.read_bytes().startswith(b"%PDF") and "21 mentions" in res.output
    res = runner.invoke(app, [*base, "reports", "generate", "Nope", "--out", str(out)])
    assert res.exit_code == 3
    res = runner.invoke(app, [*base, "reports", "send-due"])
    assert res.exit_code == 0 and json.loads(res.stdout)["created"] == []  # created just now: nothing due yet

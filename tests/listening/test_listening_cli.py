"""``resonanz query add|list|show|history|edit|restore|reapply|remove`` and ``resonanz brand
add|list|remove``: JSON output, exit codes, versions and matches applied to history."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from resonanz.cli.main import app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.listening.query import Doc
from tests.listening.factories import store_docs


def _cli(settings: Settings, *args: str) -> tuple[int, str]:
    base = ["--database-url", settings.database_url or "", "--data-dir", str(settings.data_dir)]
    result = CliRunner().invoke(app, [*base, *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_brand_and_query_lifecycle(settings: Settings, db: Database) -> None:
    with db.sessions() as s:
        store_docs(s, [Doc(text="Nordwelle Tarif zu teuer"), Doc(text="Wellenreiter"), Doc(text="Nordwelle App")])
        s.commit()
    code, out = _cli(settings, "brand", "add", "Nordwelle", "--alias", "NW", "--json")
    assert code == 0, out
    assert json.loads(out)["aliases"] == ["NW"]
    assert _cli(settings, "brand", "add", "Nordwelle")[0] == 4
    assert _cli(settings, "brand", "add", "Other", "--kind", "enemy")[0] == 5
    code, out = _cli(settings, "query", "add", "nw", "nordwelle", "--brand", "Nordwelle", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["matches"] == 2 and data["applied"] is True and data["version"] == 1
    code, out = _cli(settings, "query", "add", "broken", "nordwelle AND (app")
    assert code == 5 and "^" in out
    assert _cli(settings, "query", "add", "nw", "x")[0] == 4
    code, out = _cli(settings, "query", "edit", "nw", "--text", "nordwelle app", "--note", "only the app", "--json")
    assert code == 0 and json.loads(out)["matches"] == 1 and json.loads(out)["version"] == 2
    code, out = _cli(settings, "query", "history", "nw", "--json")
    assert [(v["version"], v["note"]) for v in json.loads(out)] == [(2, "only the app"), (1, "created")]
    code, out = _cli(settings, "query", "restore", "nw", "1", "--json")
    assert code == 0 and json.loads(out)["version"] == 3 and json.loads(out)["matches"] == 2
    assert _cli(settings, "query", "restore", "nw", "7")[0] == 3
    code, out = _cli(settings, "query", "list", "--json")
    assert [q["name"] for q in json.loads(out)] == ["nw"]
    code, out = _cli(settings, "query", "list")
    assert code == 0 and "nordwelle" in out
    code, out = _cli(settings, "query", "reapply", "nw")
    assert code == 0 and "2 stored matches" in out
    code, out = _cli(settings, "brand", "list", "--json")
    assert json.loads(out)[0]["queries"] == 1
    assert _cli(settings, "query", "edit", "nw", "--inactive")[0] == 0
    assert json.loads(_cli(settings, "query", "list", "--json")[1]) == []
    assert _cli(settings, "brand", "remove", "Nordwelle")[0] == 0
    assert json.loads(_cli(settings, "query", "show", "nw", "--json")[1])["brand_id"] is None
    assert _cli(settings, "query", "remove", "nw")[0] == 0
    assert _cli(settings, "query", "show", "nw")[0] == 3

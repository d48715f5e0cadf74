"""`resonanz source add mastodon` explains the credentials and stores only the secret's name."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from resonanz.cli.main import app
from resonanz.config import Settings
from resonanz.db.database import Database

runner = CliRunner()


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    base = ["--database-url", settings.database_url or "", "--data-dir", str(settings.data_dir)]
    result = runner.invoke(app, [*base, *args], catch_exceptions=False)
    return result.exit_code, " ".join(result.output.split())  # the console wraps long lines


def test_add_without_a_name_shows_the_credentials_guidance(settings: Settings, db: Database) -> None:
    code, out = cli(settings, "source", "add", "mastodon")
    assert code == 2 and "Preferences -> Development -> New application" in out and "RESONANZ_MASTODON_TOKEN" in out


def test_add_stores_the_config_without_any_token(settings: Settings, db: Database) -> None:
    code, out = cli(
        settings, "source", "add", "mastodon", "bahn-social", "--url", "social.example",
        "--set", "hashtags=bahn,radwerk", "--set", "notifications=true", "--set", "token_env=RADWERK_TOKEN",
    )  # fmt: skip
    assert code == 0, out
    code, out = cli(settings, "source", "list", "--json")
    (listed,) = json.loads(out)
    assert listed["config"]["instance"] == "https://social.example"
    assert listed["config"]["hashtags"] == ["bahn", "radwerk"] and listed["config"]["token_env"] == "RADWERK_TOKEN"
    code, out = cli(settings, "source", "add", "mastodon", "broken", "--url", "social.example")
    assert code == 6 and "give at least one of hashtags" in out

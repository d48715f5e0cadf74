"""``resonanz demo`` and the workspace loader: real pipeline, idempotent, reset touches demo only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from resonanz.cli import context
from resonanz.cli.main import app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.demo import generate
from resonanz.demo.workspace import demo_settings, do_reset_demo, load_demo
from resonanz.mentions.models import Author, Mention
from resonanz.mentions.search import search_mentions
from resonanz.sources.actions import get_or_create_source

SCALE = 0.1
runner = CliRunner()


def count(db: Database, model: type[Mention] | type[Author]) -> int:
    with db.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_load_is_idempotent_threads_link_and_reset_removes_only_demo(db: Database) -> None:
    data = generate(scale=SCALE)
    first = load_demo(db, scale=SCALE)
    reposts = sum(1 for p in data.posts if p.repost_of)
    assert first.mentions == len(data.posts) and first.new == len(data.posts) - reposts
    assert all(s.rejected == 0 for s in first.sources)
    with db.sessions() as session:
        replies = session.scalars(select(Mention).where(Mention.parent_external_id.is_not(None))).all()
        assert replies and all(r.parent_id is not None for r in replies)
        assert search_mentions(session, query="NordwelleDown", limit=5)
        assert session.scalar(select(func.count()).where(Mention.duplicate_of_id.is_not(None))) == reposts

    second = load_demo(db, scale=SCALE)
    assert second.new == 0 and all(s.updated == 0 for s in second.sources)
    assert second.mentions == first.mentions and second.fingerprint == first.fingerprint

    with transaction(db.sessions) as session:  # real data beside the demo stays untouched
        get_or_create_source(session, name="real-feed", kind="feed", config={"url": "https://news.example/feed"})
    with transaction(db.sessions) as session:
        assert do_reset_demo(session) == len(data.posts)
    assert count(db, Mention) == 0 and count(db, Author) == 0
    with db.sessions() as session:
        assert search_mentions(session, query="NordwelleDown") == []
    assert load_demo(db, scale=SCALE).new == first.new


def test_demo_settings_use_their_own_file_unless_a_database_is_configured(tmp_path: Path) -> None:
    plain = Settings(data_dir=tmp_path)
    assert demo_settings(plain).resolved_database_url == f"sqlite:///{tmp_path / 'demo.db'}"
    configured = Settings(data_dir=tmp_path, database_url="sqlite:////elsewhere/x.db")
    assert demo_settings(configured).database_url == "sqlite:////elsewhere/x.db"


@pytest.fixture
def clean_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """No database URL from the environment or from an earlier CLI test in this process."""
    monkeypatch.delenv("RESONANZ_DATABASE_URL", raising=False)
    monkeypatch.setattr(context, "_overrides", {})
    monkeypatch.setattr(context, "_db", None)


def demo_cli(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "demo", "--no-serve", "--scale", str(SCALE), *args])
    return result.exit_code, result.stdout


def test_cli_creates_demo_db_and_second_run_adds_nothing(tmp_path: Path, clean_cli: None) -> None:
    code, out = demo_cli(tmp_path, "--json")
    assert code == 0, out
    first = json.loads(out)
    assert first["demo"] is True and first["new"] > 0 and first["mentions"] > 0
    assert (tmp_path / "demo.db").exists() and not (tmp_path / "resonanz.db").exists()
    assert first["crisis"]["hashtag"] == "#NordwelleDown"

    code, out = demo_cli(tmp_path)
    assert code == 0, out
    assert "DEMO DATA" in out and "nothing new" in out and "mentions search" in out

    code, out = demo_cli(tmp_path, "--reset", "--json")
    assert code == 0, out
    again = json.loads(out)
    assert again["new"] == first["new"] and again["mentions"] == first["mentions"]

    code, out = demo_cli(tmp_path, "--anchor", "not-a-date")
    assert code == 5

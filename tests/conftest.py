"""Test fixtures: a real database per test.

SQLite by default (a copy of a migrated template file per test, so every test starts empty and may
commit freely, which worker and server tests need); PostgreSQL when RESONANZ_TEST_DATABASE_URL
points at one (migrated once per session, tables truncated after each test).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from resonanz.config import Settings
from resonanz.db.base import Base
from resonanz.db.database import Database, open_database
from resonanz.db.engine import make_engine
from resonanz.db.migrate import upgrade
from tests.sources.fake_connector import FakeConnector, fake_connector_registered

PG_URL = os.environ.get("RESONANZ_TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database to start each test from."""
    if PG_URL:
        url = Settings(database_url=PG_URL).resolved_database_url
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(engine)
        engine.dispose()
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return str(path)


def _truncate_pg(db: Database) -> None:
    tables = ", ".join([*(t.name for t in Base.metadata.sorted_tables), "mention_search"])
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def settings(tmp_path: Path, _template_db: str) -> Settings:
    if PG_URL:
        return Settings(data_dir=tmp_path, database_url=PG_URL, worker_threads=0)
    db_file = tmp_path / "resonanz.db"
    shutil.copyfile(_template_db, db_file)
    return Settings(data_dir=tmp_path, database_url=f"sqlite:///{db_file}", worker_threads=0)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = open_database(settings, migrate=False)
    yield database
    if PG_URL:
        _truncate_pg(database)
    database.dispose()


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """A session whose work the test commits or not as it likes."""
    with db.sessions() as s:
        yield s


@pytest.fixture
def is_pg() -> bool:
    return PG_URL is not None


@pytest.fixture
def fake() -> Iterator[type[FakeConnector]]:
    """The scriptable test connector from tests/sources/fake_connector.py, registered as 'fake'."""
    with fake_connector_registered() as cls:
        yield cls

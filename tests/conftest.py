"""Test fixtures: a real database per test.

SQLite by default (a copy of a migrated template file per test, so every test starts empty and may
commit freely, which worker and server tests need); PostgreSQL when RESONANZ_TEST_DATABASE_URL
points at a server (a database of its own per pytest run, migrated once, tables emptied after
each test).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

import resonanz.db.all_models  # noqa: F401  (every table on the metadata)
from resonanz.config import Settings
from resonanz.db.base import Base
from resonanz.db.database import Database, open_database
from resonanz.db.engine import make_engine
from resonanz.db.migrate import upgrade
from tests.sources.fake_connector import FakeConnector, fake_connector_registered

PG_URL = os.environ.get("RESONANZ_TEST_DATABASE_URL") or None


def _pg_admin_engine() -> Engine:
    assert PG_URL
    return make_engine(Settings(database_url=PG_URL).resolved_database_url).execution_options(
        isolation_level="AUTOCOMMIT"
    )


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database to start each test from.

    On PostgreSQL every pytest run gets a database of its own next to the one named by
    RESONANZ_TEST_DATABASE_URL, so two runs on one server (CI, a developer) never share tables.
    """
    if PG_URL:
        name = f"resonanz_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = _pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            # a test's commit need not wait for the WAL to reach the disk (the server is not
            # crashed under a test; other sessions see the commit at once either way)
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        url = PG_URL.rsplit("/", 1)[0] + "/" + name
        engine = make_engine(Settings(database_url=url).resolved_database_url)
        upgrade(engine)
        engine.dispose()
        yield url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    yield str(path)


def _empty_pg(db: Database) -> None:
    """Every table emptied and every sequence back at 1, as a fresh database has them.

    DELETE, not TRUNCATE: TRUNCATE gives each of the ~60 tables and their indexes new files,
    300 ms after every test (14 minutes of a CI run); deleting the few rows a test wrote, children
    before parents, in one round trip takes 2 ms."""
    tables = ["mention_search", *(t.name for t in reversed(Base.metadata.sorted_tables))]
    deletes = "; ".join(f'DELETE FROM "{name}"' for name in tables)
    with db.engine.begin() as conn:
        conn.execute(text(deletes))
        conn.execute(
            text(
                "SELECT setval(oid::regclass, 1, false) FROM pg_class"
                " WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"
            )
        )


@pytest.fixture
def settings(tmp_path: Path, _template_db: str) -> Settings:
    if PG_URL:
        return Settings(data_dir=tmp_path, database_url=_template_db, worker_threads=0, periodic_jobs=False)
    db_file = tmp_path / "resonanz.db"
    shutil.copyfile(_template_db, db_file)
    # periodic jobs off: a test counting the jobs a worker ran should see only its own; tests of
    # periodic work call the handlers or resonanz.worker.periodic.tick directly
    return Settings(data_dir=tmp_path, database_url=f"sqlite:///{db_file}", worker_threads=0, periodic_jobs=False)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = open_database(settings, migrate=False)
    yield database
    if PG_URL:
        _empty_pg(database)
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

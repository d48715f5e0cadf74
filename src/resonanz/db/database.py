"""One object that entry points hold: settings, engine and session factory, schema applied."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from resonanz.config import Settings
from resonanz.db.engine import make_engine, make_session_factory
from resonanz.db.migrate import ensure_schema


@dataclass
class Database:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    """Connect to the configured database; by default apply pending migrations first, so a
    fresh install needs no separate set-up step."""
    engine = make_engine(settings.resolved_database_url)
    if migrate:
        ensure_schema(engine)
    return Database(settings=settings, engine=engine, sessions=make_session_factory(engine))

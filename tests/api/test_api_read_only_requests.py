"""Safe requests (GET) run in read-only transactions: a handler that writes on GET fails loudly
(``ReadOnlyTransactionError``, on SQLite and PostgreSQL), POST writes as before, ``allow_writes``
lets a GET handler that must write do so, and signing in by token still stamps ``last_used_at``
on a GET (the look-up is redone as a writer when the stamp is due)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from tests.support.accounts_factory import api_client

from resonanz.accounts.models import ApiToken
from resonanz.accounts.permissions import Permission, Role
from resonanz.accounts.schemas import Principal
from resonanz.api.app import create_app
from resonanz.api.deps import DbSession, require
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.db.engine import ReadOnlyTransactionError, allow_writes, read_only_engine

Reader = Annotated[Principal, require(Permission.cases_read)]


def probe_app(settings: Settings, db: Database) -> FastAPI:
    """The real app plus probe routes that read and write a scratch table ``probe``."""
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS probe (n INTEGER)"))
    app = create_app(settings, database=db)

    def write(session: Session) -> int:
        session.execute(text("INSERT INTO probe (n) VALUES (1)"))
        session.commit()
        return int(session.scalar(text("SELECT count(*) FROM probe")) or 0)

    @app.get("/probe/read")
    def read(session: DbSession, principal: Reader) -> dict[str, int]:
        return {"n": int(session.scalar(text("SELECT count(*) FROM probe")) or 0)}

    @app.get("/probe/write-on-get")
    def write_on_get(session: DbSession, principal: Reader) -> dict[str, int]:
        return {"n": write(session)}

    @app.get("/probe/allowed-write-on-get")
    def allowed(request: Request, session: DbSession, principal: Reader) -> dict[str, int]:
        allow_writes(session, request.app.state.db.engine)
        return {"n": write(session)}

    @app.post("/probe/write")
    def write_on_post(session: DbSession, principal: Reader) -> dict[str, int]:
        return {"n": write(session)}

    return app


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    with api_client(probe_app(settings, db), db, Role.agent) as c:
        yield c
    with db.engine.begin() as conn:  # PostgreSQL keeps one database per run; the schema test compares it
        conn.execute(text("DROP TABLE probe"))


def test_get_reads_post_writes(client: TestClient) -> None:
    assert client.get("/probe/read").json() == {"n": 0}
    assert client.post("/probe/write").json() == {"n": 1}
    assert client.get("/probe/allowed-write-on-get").json() == {"n": 2}
    assert client.get("/probe/read").json() == {"n": 2}


def test_a_write_on_get_fails_loudly(client: TestClient) -> None:
    with pytest.raises(ReadOnlyTransactionError):
        client.get("/probe/write-on-get")


def test_read_only_engine_refuses_writes_and_allows_reads(db: Database) -> None:
    with db.sessions(bind=read_only_engine(db.engine)) as session:
        assert session.scalar(select(ApiToken.id).limit(1)) is None
        with pytest.raises(ReadOnlyTransactionError):
            session.execute(text("DELETE FROM api_token"))


def test_token_stamp_is_written_on_get(settings: Settings, db: Database) -> None:
    app = create_app(settings, database=db)
    with api_client(app, db, Role.agent) as c:
        with db.sessions() as s:
            s.execute(ApiToken.__table__.update().values(last_used_at=None))
            s.commit()
        assert c.get("/api/v1/cases").status_code == 200
        with db.sessions() as s:
            stamps = list(s.scalars(select(ApiToken.last_used_at)))
        assert stamps and all(stamp is not None for stamp in stamps)
        assert c.get("/api/v1/cases").status_code == 200  # not due again: read-only all through

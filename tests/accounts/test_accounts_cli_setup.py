"""The users CLI, ``resonanz init --admin-email`` and the first-visit setup with the one-time token."""

from __future__ import annotations

import json
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from resonanz.accounts import service
from resonanz.accounts.actions import do_complete_setup, do_create_setup_token, do_sign_in
from resonanz.accounts.models import ApiToken, SetupToken
from resonanz.accounts.permissions import Role
from resonanz.accounts.tokens import digest
from resonanz.audit.service import list_events
from resonanz.cli.main import app as cli_app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.errors import AuthenticationError
from resonanz.web.auth import offer_setup
from tests.accounts.conftest import FrozenClock
from tests.support.accounts_factory import api_client, make_user

runner = CliRunner()


def cli(settings: Settings, *args: str, stdin: str | None = None) -> tuple[int, str]:
    base = ["--database-url", settings.database_url or "", "--data-dir", str(settings.data_dir)]
    result = runner.invoke(cli_app, [*base, *args], input=stdin, catch_exceptions=False)
    return result.exit_code, result.output


def test_users_cli_lifecycle(settings: Settings, db: Database, session: Session) -> None:
    code, out = cli(
        settings, "users", "add", "Anna@Example.com", "--name", "Anna Schmidt", "--role", "manager",
        "--language", "de", "--time-zone", "Europe/Berlin", "--password-stdin", "--json",
        stdin="a long enough secret\n",
    )  # fmt: skip
    assert code == 0, out
    added = json.loads(out)
    assert (added["email"], added["role"], added["language"]) == ("anna@example.com", "manager", "de")
    assert "password" not in out and "argon2" not in out

    code, out = cli(settings, "users", "add", "anna@example.com", "--password-stdin", stdin="another secret\n")
    assert code == 4 and "exists already" in out
    code, out = cli(settings, "users", "add", "b@example.com", "--password-stdin", stdin="short\n")
    assert code == 5 and "at least 10 characters" in out
    code, out = cli(settings, "users", "add", "b@example.com", "--role", "root", "--password-stdin", stdin="x" * 12)
    assert code == 5 and "unknown role" in out
    code, out = cli(settings, "users", "add", "c@example.com", stdin="typed twice!\ntyped twice!\n")
    assert code == 0, out

    code, out = cli(settings, "users", "set-password", "c@example.com", "--password-stdin", stdin="reset by admin 1\n")
    assert code == 0 and "new password set for c@example.com" in out
    code, out = cli(settings, "users", "set-password", "c@example.com", "--password-stdin", stdin="short\n")
    assert code == 5
    with db.sessions() as s:
        do_sign_in(s, email="c@example.com", password="reset by admin 1", ip="1.1.1.1", user_agent=None)
        s.commit()
    code, out = cli(settings, "users", "set-role", "ANNA@example.com", "admin")
    assert code == 0 and "is now admin" in out
    code, out = cli(settings, "users", "set-role", "nobody@example.com", "admin")
    assert code == 3
    code, out = cli(settings, "users", "deactivate", "c@example.com")
    assert code == 0 and "deactivated" in out
    code, out = cli(settings, "users", "deactivate", "anna@example.com")
    assert code == 4 and "last active admin" in out

    code, out = cli(settings, "users", "list", "--json")
    assert [u["email"] for u in json.loads(out)] == ["anna@example.com"]
    code, out = cli(settings, "users", "list", "--all", "--json")
    assert {u["email"]: u["active"] for u in json.loads(out)} == {"anna@example.com": True, "c@example.com": False}
    code, out = cli(settings, "users", "list")
    assert code == 0 and "anna@" in out and "Anna" in out and "admin" in out  # a narrow table folds cells
    code, out = cli(settings, "users", "reactivate", "c@example.com")
    assert code == 0
    assert [e.action for e in list_events(session, object_type="user")][:3] == [
        "user.reactivate",
        "user.deactivate",
        "user.set_role",
    ]


def test_init_creates_the_first_admin(settings: Settings, db: Database, session: Session) -> None:
    code, out = cli(
        settings, "init", "--admin-email", "Boss@Example.com", "--password-stdin", stdin="boss password 1\n"
    )
    assert code == 0 and "admin created: boss@example.com" in out
    admin = service.get_user_by_email(session, email="boss@example.com")
    assert admin is not None and admin.role == Role.admin
    session.rollback()  # release SQLite's lock before the CLI writes
    code, out = cli(
        settings, "init", "--admin-email", "boss@example.com", "--password-stdin", stdin="boss password 1\n"
    )
    assert code == 4  # exists already; init stays safe to repeat without the option
    assert cli(settings, "init")[0] == 0


def test_first_visit_goes_to_setup_and_the_token_works_once(app: FastAPI, db: Database, session: Session) -> None:
    with TestClient(app, follow_redirects=False) as client:  # start-up offered a token (printed)
        assert session.scalar(select(SetupToken.id)) is not None
        session.rollback()
        raw = offer_setup(db)  # the one the operator read from the console
        assert raw is not None
        for path in ("/", "/mentions", "/login", "/settings"):
            response = client.get(path)
            assert response.status_code == 303 and response.headers["location"] == "/setup", path
        form = client.get("/setup")
        assert form.status_code == 200 and "Setup token" in form.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
        data = {
            "csrf_token": csrf,
            "email": "First@Example.com",
            "display_name": "First Admin",
            "password": "first admin password",
            "password_confirm": "first admin password",
        }
        wrong = client.post("/setup", data={**data, "token": "not-the-token"})
        assert wrong.status_code == 403 and "setup token is wrong" in wrong.text
        differ = client.post("/setup", data={**data, "token": raw, "password_confirm": "something else"})
        assert differ.status_code == 422
        short = client.post("/setup", data={**data, "token": raw, "password": "short", "password_confirm": "short"})
        assert short.status_code == 422 and "at least 10 characters" in short.text
        done = client.post("/setup", data={**data, "token": raw})
        assert done.status_code == 303 and done.headers["location"] == "/"
        assert client.get("/settings").status_code == 200  # signed in as the new admin
        assert client.get("/setup").headers["location"] == "/login"  # setup is over
        client.cookies.delete("rz_session")  # signed out, the same token cannot make a second admin
        again = client.post("/setup", data={**data, "email": "second@example.com", "token": raw})
        assert again.status_code == 303 and again.headers["location"] == "/login"
    admin = service.get_user_by_email(session, email="first@example.com")
    assert admin is not None and admin.role == Role.admin and service.count_users(session) == 1
    tokens = session.scalars(select(SetupToken)).all()
    assert all(t.used_at is not None for t in tokens) and all(raw not in t.token_hash for t in tokens)
    assert any(t.token_hash == digest(raw) for t in tokens)
    assert do_create_setup_token(session) is None  # no more tokens once a user exists
    assert [e.action for e in list_events(session, action="setup.complete")] == ["setup.complete"]


def test_no_setup_token_while_users_exist(app: FastAPI, db: Database, session: Session) -> None:
    make_user(session)
    with TestClient(app):
        pass
    assert session.scalar(select(SetupToken.id)) is None
    session.rollback()
    assert offer_setup(db) is None


def test_api_token_hash_never_leaves_through_the_api(app: FastAPI, db: Database, session: Session) -> None:
    client = api_client(app, db, Role.admin)
    body = client.get("/api/v1/me/tokens").text
    stored = session.scalars(select(ApiToken)).one()
    assert stored.token_hash not in body and client.token not in body  # type: ignore[attr-defined]


def test_setup_token_expires_and_works_once(session: Session, frozen: FrozenClock) -> None:
    old = do_create_setup_token(session)
    session.commit()
    frozen.advance(hours=25)
    new = do_create_setup_token(session)
    session.commit()
    assert old and new
    args = {"email": "root@example.com", "display_name": "Root", "password": "root password!"}
    with pytest.raises(AuthenticationError, match="expired"):
        do_complete_setup(session, raw_token=old, **args)
    session.rollback()
    do_complete_setup(session, raw_token=new, **args)
    session.commit()
    with pytest.raises(AuthenticationError):
        do_complete_setup(session, raw_token=new, **{**args, "email": "two@example.com"})

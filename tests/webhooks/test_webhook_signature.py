"""POST /hooks/{source}: signatures, unknown sources, secrets from the environment or a file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from resonanz.api.app import create_app
from resonanz.connectors.webhook.connector import default_secret_env, sign, verify_signature
from resonanz.db.database import Database
from resonanz.errors import SignatureError
from resonanz.mentions.models import Mention
from resonanz.sources.actions import do_create_source
from resonanz.sources.models import IngestRun, Source
from resonanz.sources.schemas import SourceCreate

SECRET = "correct horse battery staple"
RECORD = {"id": "w1", "text": "Ihr Support hat mir super geholfen, danke!", "published_at": "2026-03-01T08:00:00Z"}


def add_source(db: Database, name: str, kind: str = "webhook", config: dict[str, Any] | None = None) -> None:
    with db.sessions() as session, session.begin():
        do_create_source(session, data=SourceCreate(name=name, kind=kind, config=config or {}))


@pytest.fixture
def client(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    add_source(db, "crm-hook")
    monkeypatch.setenv("RESONANZ_WEBHOOK_SECRET_CRM_HOOK", SECRET)
    yield TestClient(create_app(db.settings, database=db))


def post(client: TestClient, path: str, body: bytes, signature: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Resonanz-Signature"] = signature
    return client.post(path, content=body, headers=headers)


def stored(db: Database) -> int:
    with db.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Mention)) or 0)


def test_good_signature_is_accepted_and_stored(client: TestClient, db: Database) -> None:
    body = json.dumps(RECORD).encode()
    response = post(client, "/hooks/crm-hook", body, sign(body, SECRET))
    assert response.status_code == 202, response.text
    data = response.json()
    assert (data["received"], data["new"], data["updated"], data["rejected"]) == (1, 1, 0, 0)
    with db.sessions() as session:
        mention = session.scalars(select(Mention)).one()
        run = session.get(IngestRun, data["run_id"])
        source = session.scalars(select(Source)).one()
        assert (mention.external_id, mention.platform, mention.source_id) == ("w1", "import", source.id)
        assert run is not None and run.kind == "webhook" and run.new == 1 and run.status == "ok"
        assert source.health == "ok" and source.last_success_at is not None
    again = post(client, "/hooks/crm-hook", body, sign(body, SECRET))
    assert again.status_code == 202 and again.json()["new"] == 0 and again.json()["duplicate"] == 1


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "sha256=",
        "sha1=" + "0" * 40,
        sign(b"other body", SECRET),
        sign(json.dumps(RECORD).encode(), "wrong secret"),
        sign(json.dumps(RECORD).encode(), SECRET)[:-2],
    ],
    ids=["missing", "empty", "no-digest", "other-scheme", "other-body", "other-secret", "truncated"],
)
def test_missing_or_wrong_signature_is_401_problem(client: TestClient, db: Database, signature: str | None) -> None:
    response = post(client, "/hooks/crm-hook", json.dumps(RECORD).encode(), signature)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 401 and problem["title"] == "Unauthorized" and problem["type"] and problem["detail"]
    assert stored(db) == 0


def test_signature_is_case_insensitive_hex(client: TestClient, db: Database) -> None:
    body = json.dumps([RECORD]).encode()
    response = post(client, "/hooks/crm-hook", body, sign(body, SECRET).upper().replace("SHA256=", "sha256="))
    assert response.status_code == 202 and stored(db) == 1


def test_unknown_or_non_webhook_source_is_404(client: TestClient, db: Database) -> None:
    add_source(db, "uploads", kind="file")
    body = json.dumps(RECORD).encode()
    for name in ("nope", "uploads"):
        response = post(client, f"/hooks/{name}", body, sign(body, SECRET))
        assert response.status_code == 404 and response.headers["content-type"].startswith("application/problem")
        assert name in response.json()["detail"]
    assert stored(db) == 0


def test_source_without_secret_refuses(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    add_source(db, "no-secret")
    monkeypatch.delenv("RESONANZ_WEBHOOK_SECRET_NO_SECRET", raising=False)
    client = TestClient(create_app(db.settings, database=db))
    body = json.dumps(RECORD).encode()
    response = post(client, "/hooks/no-secret", body, sign(body, ""))
    assert response.status_code == 401 and "no secret" in response.json()["detail"]


def test_secret_env_setting_and_secrets_file(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add_source(db, "shop", config={"secret_env": "SHOP_HOOK_KEY"})
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"SHOP_HOOK_KEY": "from-file"}), encoding="utf-8")
    monkeypatch.delenv("SHOP_HOOK_KEY", raising=False)
    settings = db.settings.model_copy(update={"secrets_file": secrets})
    client = TestClient(create_app(settings, database=db))
    body = json.dumps(RECORD).encode()
    assert post(client, "/hooks/shop", body, sign(body, "from-file")).status_code == 202
    monkeypatch.setenv("SHOP_HOOK_KEY", "from-env")  # the environment wins over the file
    assert post(client, "/hooks/shop", body, sign(body, "from-file")).status_code == 401
    assert post(client, "/hooks/shop", body, sign(body, "from-env")).status_code == 202


def test_default_secret_env_and_verify() -> None:
    assert default_secret_env("crm-hook.eu") == "RESONANZ_WEBHOOK_SECRET_CRM_HOOK_EU"
    verify_signature(b"{}", sign(b"{}", "k"), "k")
    with pytest.raises(SignatureError, match="missing"):
        verify_signature(b"{}", None, "k")

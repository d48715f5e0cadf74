"""A reply to an e-mail case goes out through H8's e-mail connector (SMTP to a local aiosmtpd, the
mailbox on a real dovecot) via the outbox, threaded under the customer's message, once."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from resonanz.cases import outbox, replies
from resonanz.cases.reply_models import Reply, ReplyStatus
from resonanz.db.database import Database
from resonanz.mentions.models import Author
from tests.care.care_factory import make_case, make_source
from tests.support.accounts_factory import make_user

pytestmark = pytest.mark.skipif(shutil.which("dovecot") is None, reason="dovecot is not installed")


def _servers() -> ModuleType:
    """The e-mail connector tests' real-server helpers (their folder is not a package)."""
    if "email_servers" in sys.modules:
        return sys.modules["email_servers"]
    path = Path(__file__).resolve().parents[1] / "connectors" / "email" / "email_servers.py"
    spec = importlib.util.spec_from_file_location("email_servers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["email_servers"] = module
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Who:
    user_id: int


@pytest.fixture
def mail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    servers = _servers()
    monkeypatch.setenv("RESONANZ_EMAIL_PASSWORD", servers.PASSWORD)
    dovecot_gen = servers.start_dovecot(tmp_path)
    dovecot = next(dovecot_gen)
    smtp_gen = servers.start_smtp(dovecot)
    smtp = next(smtp_gen)
    try:
        yield dovecot, smtp
    finally:
        for gen in (smtp_gen, dovecot_gen):
            gen.close()


def test_an_email_case_is_answered_by_smtp_through_the_outbox(db: Database, mail: tuple[Any, Any]) -> None:
    dovecot, smtp = mail
    servers = _servers()
    config = {"address": servers.USER, "imap_host": "127.0.0.1", "imap_port": dovecot.port, "imap_security": "none",
              "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none",
              "smtp_auth": False}  # fmt: skip
    with db.sessions() as session:
        source = make_source(session, kind="email", config=config)
        case = make_case(session, source=source, platform="email", text="Mein Rad ist kaputt. Wer hilft?")
        mention = replies.customer_mentions(session, case=case)[0]
        mention.external_id = "kunde-1@example.test"  # as the e-mail parse writes a Message-ID
        author_handle = "kundin@example.test"
        author = session.get(Author, case.author_id)
        assert author is not None
        author.handle = author_handle
        me = Who(make_user(session).id)
        draft = replies.do_save_draft(session, case=case, text="Hallo, das Ersatzteil ist unterwegs.", actor=me)
        replies.do_submit(session, reply=draft, actor=me)
        session.commit()
        entry = outbox.entry_for(session, reply_id=draft.id)
        assert entry is not None and entry.connector_kind == "email"
        reply_id, outbox_id = draft.id, entry.id
    assert outbox.send_entry(db.sessions, outbox_id=outbox_id, settings=db.settings).status == "sent"
    assert outbox.send_entry(db.sessions, outbox_id=outbox_id, settings=db.settings).status == "skipped"
    to_customer = [m for rcpts, m in smtp.received if author_handle in rcpts]
    assert len(to_customer) == 1
    message = to_customer[0]
    assert message["In-Reply-To"] == "<kunde-1@example.test>"
    assert "Ersatzteil ist unterwegs" in message.get_body(("plain",)).get_content()
    with db.sessions() as session:
        reply = session.get(Reply, reply_id)
        assert reply is not None and reply.status == ReplyStatus.sent and reply.external_id

"""The inbox jobs: the @mention e-mail reaches a real local SMTP server (and does nothing without
SMTP settings), the wake-up job wakes due snoozes and drops expired presence, and presence
expires on its own (the send guard H6 uses: ``others_typing``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select

from resonanz.cases import actions, collab, service
from resonanz.cases.tasks import note_mail_task, wake_task
from resonanz.cases.workflow_models import CasePresence
from resonanz.clock import now, set_clock
from resonanz.config import Settings
from resonanz.db.database import Database
from tests.cases.cases_support import actor, make_mention
from tests.notifications.smtp_receiver import SMTPReceiver
from tests.support.accounts_factory import make_user


def _note(db: Database) -> int:
    with db.sessions() as s:
        anna = make_user(s, email="anna@example.test", display_name="Anna Agent")
        make_user(s, email="ben.berater@example.test", display_name="Ben Berater")
        case = actions.do_create_case(s, mentions=[make_mention(s)], route=False, actor=None)
        note = collab.do_add_note(s, case=case, body="@ben.berater kannst du helfen?", actor=actor(anna))
        s.commit()
        return note.id


def test_note_mail_goes_to_the_mentioned_colleague(db: Database) -> None:
    note_id = _note(db)
    assert note_mail_task(db, {"note_id": note_id}) == {"note": "e-mail is not configured; in-app notifications only"}
    with SMTPReceiver() as smtp:
        settings = db.settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                                   "smtp_starttls": False})  # fmt: skip
        result = note_mail_task(replace(db, settings=settings), {"note_id": note_id})
        assert result == {"sent": 1, "failed": []}
        ((recipients, msg),) = smtp.messages
        assert recipients == ["ben.berater@example.test"]
        assert "Anna Agent mentioned you" in str(msg["Subject"])
        assert "/inbox/cases/" in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_wake_job_and_presence_expiry(db: Database, settings: Settings) -> None:
    with db.sessions() as s:
        anna, ben = make_user(s), make_user(s)
        case = actions.do_create_case(s, mentions=[make_mention(s)], route=False, actor=None)
        actions.do_snooze(s, case=case, until=now() + timedelta(minutes=5), expected_version=None, actor=None)
        collab.do_touch_presence(s, case_id=case.id, user_id=ben.id, kind="typing")
        s.commit()
        assert [p.display_name for p in service.others_typing(s, case_id=case.id, user_id=anna.id)] == [
            ben.display_name
        ]
        assert service.others_typing(s, case_id=case.id, user_id=ben.id) == []
        case_id = case.id
    later = now() + timedelta(minutes=10)
    set_clock(lambda: later)
    try:
        assert wake_task(db, {}) == {"woke": 1, "presence_purged": 1}
        with db.sessions() as s:
            assert service.presence(s, case_id=case_id) == []
            assert s.scalar(select(func.count()).select_from(CasePresence)) == 0
            assert service.get_case(s, id=case_id).snoozed_until is None
        assert wake_task(db, {}) == {"woke": 0, "presence_purged": 0}
    finally:
        set_clock(None)

"""Background jobs of the inbox.

* ``cases.intake`` (enqueued by the ``mentions_matched`` hook): turn a batch into cases.
* ``cases.wake`` (every 30 s): wake snoozed cases whose time has come and drop expired presence.
* ``cases.note_mail``: e-mail the colleagues a note @mentions (they were notified in-app already).

All are idempotent: each decides from the current rows (a mention in a case already is skipped, a
woken case has no snooze time any more, a note's mail job is enqueued once per note).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from resonanz.accounts.models import User
from resonanz.cases.actions import do_wake_due
from resonanz.cases.collab import NOTE_MAIL_KIND, do_purge_presence
from resonanz.cases.intake import rules_from, run_intake
from resonanz.cases.intake_plugin import INTAKE_KIND
from resonanz.cases.models import Case
from resonanz.cases.workflow_models import CaseNote
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.worker.periodic import register_periodic
from resonanz.worker.tasks import TaskResult, register_task

log = logging.getLogger(__name__)
WAKE_KIND = "cases.wake"


@register_task(INTAKE_KIND)
def intake_task(db: Database, payload: dict[str, Any]) -> TaskResult:
    if not db.settings.case_intake_enabled:
        return {"note": "case intake is switched off (RESONANZ_CASE_INTAKE_ENABLED)"}
    ids = [int(i) for i in payload.get("mention_ids", [])]
    with transaction(db.sessions) as session:
        result = run_intake(session, mention_ids=ids, rules=rules_from(db.settings))
    return {"created": len(result.created), "joined": len(result.joined), "reopened": len(result.reopened),
            "follow_ups": len(result.follow_ups), "skipped": result.skipped}  # fmt: skip


@register_task(WAKE_KIND)
def wake_task(db: Database, payload: dict[str, Any]) -> TaskResult:
    with transaction(db.sessions) as session:
        woke = do_wake_due(session)
        purged = do_purge_presence(session)
    return {"woke": woke, "presence_purged": purged}


@register_task(NOTE_MAIL_KIND)
def note_mail_task(db: Database, payload: dict[str, Any]) -> TaskResult:
    """E-mail each colleague a note @mentions, with a link to the case. Without SMTP settings there
    is nothing to do (they have the in-app notification)."""
    if not db.settings.smtp_host:
        return {"note": "e-mail is not configured; in-app notifications only"}
    from resonanz.notifications.email import send_email

    with db.sessions() as session:
        note = session.get(CaseNote, int(payload["note_id"]))
        if note is None or not note.mentioned_user_ids:
            return {"note": "note gone or mentions nobody"}
        case = session.get(Case, note.case_id)
        writer = session.get(User, note.author_id) if note.author_id else None
        users = session.scalars(select(User).where(User.id.in_(note.mentioned_user_ids), User.active.is_(True))).all()
        recipients = [(u.email, u.display_name) for u in users]
        subject = f"[Resonanz] {writer.display_name if writer else 'A colleague'} mentioned you on case {note.case_id}"
        link = f"{db.settings.public_url.rstrip('/')}/inbox/cases/{note.case_id}"
        text = f"{case.subject if case else ''}\n\n{note.body}\n\n{link}\n"
    sent, failed = 0, []
    for email, _name in recipients:
        outcome = send_email(db.settings, to=[email], subject=subject, text=text)
        if outcome.ok:
            sent += 1
        else:
            failed.append(f"{email}: {outcome.detail}")
    if failed:
        log.warning("note %s: e-mail failed for %s", payload.get("note_id"), "; ".join(failed))
    return {"sent": sent, "failed": failed}


register_periodic(WAKE_KIND, every=timedelta(seconds=30))

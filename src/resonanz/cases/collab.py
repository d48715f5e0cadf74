"""Working a case together: internal notes with @mentions, who is viewing or typing, and the
in-app notifications colleagues get.

A note never bumps the case's version: two people may write notes at the same moment without
either losing anything, so notes take no ``expected_version``. An @mention notifies in-app at once
and by e-mail through a job (``cases.note_mail``) enqueued in the same transaction, so a slow or
broken mail server never holds up the person writing the note and a crash never loses the mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from resonanz.audit.actions import Actor, do_record
from resonanz.cases.events import record_event
from resonanz.cases.models import Case
from resonanz.cases.notes import mentioned_users
from resonanz.cases.workflow_models import CaseEventKind, CaseNote, CasePresence, PresenceKind, UserNotification
from resonanz.clock import now
from resonanz.db.engine import is_postgres
from resonanz.errors import InputError
from resonanz.worker.queue import enqueue

MAX_NOTE_CHARS = 10_000
NOTE_MAIL_KIND = "cases.note_mail"
#: a presence row lives this long without a heartbeat (the page beats every 10 s)
PRESENCE_TTL = timedelta(seconds=30)


def do_add_note(session: Session, *, case: Case, body: str, actor: Actor) -> CaseNote:
    """An internal note; every active colleague it @mentions is notified (not the writer)."""
    text = body.strip()
    if not text:
        raise InputError("a note needs some text", location="body")
    if len(text) > MAX_NOTE_CHARS:
        raise InputError(f"a note has at most {MAX_NOTE_CHARS:,} characters", location="body")
    users = [u for u in mentioned_users(session, text) if u.id != actor.user_id]
    stamp = now()
    note = CaseNote(
        case_id=case.id, author_id=actor.user_id, body=text, mentioned_user_ids=[u.id for u in users], created_at=stamp
    )
    session.add(note)
    session.flush()
    for user in users:
        session.add(
            UserNotification(
                user_id=user.id,
                kind="mention",
                case_id=case.id,
                note_id=note.id,
                actor_id=actor.user_id,
                text=f"You were mentioned in a note on case {case.id}: {text[:200]}",
                created_at=stamp,
            )
        )
    if users:
        enqueue(session, kind=NOTE_MAIL_KIND, payload={"note_id": note.id}, dedupe_key=f"note-mail-{note.id}")
    do_record(
        session,
        actor=actor,
        action="case.note",
        object_type="case",
        object_id=case.id,
        after={"note_id": note.id, "mentioned_user_ids": note.mentioned_user_ids},
    )
    record_event(
        session,
        case_id=case.id,
        kind=CaseEventKind.note.value,
        actor_id=actor.user_id,
        data={"note_id": note.id, "mentioned_user_ids": note.mentioned_user_ids},
    )
    return note


def do_touch_presence(
    session: Session, *, case_id: int, user_id: int, kind: PresenceKind | str, ttl: timedelta = PRESENCE_TTL
) -> None:
    """Say that ``user_id`` is viewing (or typing in) the case for the next ``ttl``; a heartbeat.
    An upsert, so two tabs of one person never collide. Not audited: it is not a change of the case."""
    presence_kind = PresenceKind(kind).value
    stamp = now()
    values = {"case_id": case_id, "user_id": user_id, "kind": presence_kind, "updated_at": stamp,
              "expires_at": stamp + ttl}  # fmt: skip
    insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = insert(CasePresence).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["case_id", "user_id", "kind"], set_={"updated_at": stamp, "expires_at": stamp + ttl}
    )
    session.execute(stmt)


def do_leave_presence(session: Session, *, case_id: int, user_id: int, kind: PresenceKind | str | None = None) -> None:
    """The page was closed or the draft abandoned: drop the row(s) at once instead of waiting for expiry."""
    stmt = delete(CasePresence).where(CasePresence.case_id == case_id, CasePresence.user_id == user_id)
    if kind is not None:
        stmt = stmt.where(CasePresence.kind == PresenceKind(kind).value)
    session.execute(stmt)


def do_purge_presence(session: Session) -> int:
    """Delete expired presence rows (the periodic job; reads ignore them anyway)."""
    result = session.execute(delete(CasePresence).where(CasePresence.expires_at <= now()))
    return int(getattr(result, "rowcount", 0) or 0)


def do_mark_notifications_read(session: Session, *, user_id: int, ids: Sequence[int] | None = None) -> int:
    """Mark the person's notifications read (``ids``: only these; their own only)."""
    stmt = update(UserNotification).where(UserNotification.user_id == user_id, UserNotification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(UserNotification.id.in_(list(ids)))
    result = session.execute(stmt.values(read_at=now()))
    return int(getattr(result, "rowcount", 0) or 0)


def audit_actor(user_id: int) -> Actor:
    """An :class:`Actor` for code that only has a user id (jobs, the CLI acting for a person)."""

    class _Actor:
        def __init__(self, uid: int) -> None:
            self._uid = uid

        @property
        def user_id(self) -> int:
            return self._uid

    return _Actor(user_id)

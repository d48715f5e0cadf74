"""Replies: draft, check, submit, approve or reject, and hand over to the outbox.

::

    draft ──submit──► pending_approval ──approve──► approved ──► queued ──► sent
      ▲                      │                                      │
      └──── (edit) ◄─ rejected ◄┘ reject                            └──► failed (reason shown)
    draft ──submit (no rule holds, no review finding)──────────────► queued

Guarantees (each tested in tests/care):

* **Exactly one answer per customer message.** Queueing claims the reply's ``answer_slot`` (the
  message it answers) under a unique index, inside a savepoint: when two agents send at the same
  moment the database lets one claim win and the other gets a :class:`ConflictError` naming the
  colleague. Sending anyway is a deliberate second step (``confirm=True``), never an accident.
* **The author never approves their own reply** (:class:`PermissionDeniedError`).
* **No draft is lost**: drafts are saved as the agent types (autosave), each save is versioned,
  and a save based on a stale version is refused with a ConflictError instead of overwriting.
* **The customer's edits and deletions are noticed**: a post deleted since the draft started, or
  edited (its revision moved on), stops the submit with a message until the agent confirms.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from resonanz.accounts.models import User
from resonanz.audit.actions import Actor, do_record
from resonanz.cases import approvals, outbox
from resonanz.cases.models import Case, CaseMention
from resonanz.cases.policy import Finding, ReplyContext, check_reply, is_blocked
from resonanz.cases.reply_models import Reply, ReplyStatus
from resonanz.clock import now
from resonanz.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from resonanz.mentions.models import Mention

MAX_TEXT = 20_000
EDITABLE = (ReplyStatus.draft, ReplyStatus.rejected)


def get_reply(session: Session, *, id: int) -> Reply:
    reply = session.get(Reply, id)
    if reply is None:
        raise NotFoundError(f"reply {id} does not exist")
    return reply


def get_case(session: Session, *, id: int) -> Case:
    case = session.get(Case, id)
    if case is None:
        raise NotFoundError(f"case {id} does not exist")
    return case


def list_replies(session: Session, *, case_id: int) -> list[Reply]:
    return list(session.scalars(select(Reply).where(Reply.case_id == case_id).order_by(Reply.id)))


def list_pending_approval(session: Session, *, limit: int = 100, offset: int = 0) -> list[Reply]:
    stmt = select(Reply).where(Reply.status == ReplyStatus.pending_approval).order_by(Reply.submitted_at, Reply.id)
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def current_draft(session: Session, *, case_id: int, author_id: int) -> Reply | None:
    """The author's open draft (or rejected reply) on the case: what the composer reopens."""
    stmt = (
        select(Reply)
        .where(Reply.case_id == case_id, Reply.author_id == author_id, Reply.status.in_(EDITABLE))
        .order_by(Reply.id.desc())
    )
    return session.scalars(stmt).first()


def customer_mentions(session: Session, *, case: Case) -> list[Mention]:
    """The case's mentions that are not our own published replies, oldest first."""
    ours = select(Reply.sent_mention_id).where(Reply.case_id == case.id, Reply.sent_mention_id.is_not(None))
    stmt = (
        select(Mention)
        .join(CaseMention, CaseMention.mention_id == Mention.id)
        .where(CaseMention.case_id == case.id, Mention.id.not_in(ours))
        .order_by(Mention.published_at, Mention.id)
    )
    return list(session.scalars(stmt))


def policy_context(session: Session, *, case: Case) -> ReplyContext:
    mentions = customer_mentions(session, case=case)
    public = [m.text for m in mentions if m.kind != "message"]
    return ReplyContext(
        platform=case.platform,
        customer_lang=case.lang or (mentions[-1].lang if mentions else None),
        public_customer_texts=public,
        phrases=approvals.policy_phrases(session),
        competitors=approvals.competitor_names(session),
    )


def _own(reply: Reply, actor: Actor | None) -> None:
    if actor is not None and reply.author_id != actor.user_id:
        raise PermissionDeniedError("only its author may change or submit a draft")


def _flush(session: Session, reply: Reply) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise ConflictError(f"reply {reply.id} was changed meanwhile (another tab or colleague); reload it") from None


def do_save_draft(
    session: Session,
    *,
    case: Case,
    text: str,
    actor: Actor | None,
    reply: Reply | None = None,
    expected_version: int | None = None,
    template_id: int | None = None,
    article_id: int | None = None,
) -> Reply:
    """Create the author's draft or save a new text into it (autosave). A draft sent back by an
    approver (rejected) becomes a draft again when its author edits it."""
    if len(text) > MAX_TEXT:
        raise InputError(f"a reply is at most {MAX_TEXT:,} characters", location="text")
    stamp = now()
    if reply is None:
        mentions = customer_mentions(session, case=case)
        last = mentions[-1] if mentions else None
        reply = Reply(
            case_id=case.id,
            author_id=actor.user_id if actor else None,
            in_reply_to_mention_id=last.id if last else None,
            answered_revision=last.revision if last else None,
            text=text,
            lang=case.lang,
            status=ReplyStatus.draft,
            created_at=stamp,
            updated_at=stamp,
            template_id=template_id,
            article_id=article_id,
        )
        session.add(reply)
        session.flush()
        do_record(session, actor=actor, action="reply.draft", object_type="case_reply", object_id=reply.id,
                  after={"case_id": case.id, "chars": len(text)})  # fmt: skip
        return reply
    _own(reply, actor)
    if reply.status not in EDITABLE:
        raise ConflictError(f"reply {reply.id} is {reply.status}: it can no longer be edited")
    if expected_version is not None and expected_version != reply.version:
        raise ConflictError(f"reply {reply.id} was saved elsewhere meanwhile (version {reply.version}); reload it")
    reply.text = text
    reply.status = ReplyStatus.draft
    reply.updated_at = stamp
    if template_id is not None:
        reply.template_id = template_id
    if article_id is not None:
        reply.article_id = article_id
    _flush(session, reply)
    return reply


def do_check(session: Session, *, reply: Reply, models: bool = True) -> list[Finding]:
    """Run the policy checks on the reply's text and keep the findings on it."""
    case = get_case(session, id=reply.case_id)
    findings = check_reply(reply.text, context=policy_context(session, case=case), lang=None, models=models)
    reply.findings = [f.as_dict() for f in findings]
    _flush(session, reply)
    return findings


def _target_problem(session: Session, reply: Reply) -> str | None:
    """The customer deleted or edited the post answered since the draft started."""
    if reply.in_reply_to_mention_id is None:
        return None if reply.answered_revision is None else "the post you answer was deleted meanwhile"
    mention = session.get(Mention, reply.in_reply_to_mention_id)
    if mention is None:
        return "the post you answer was deleted meanwhile"
    if reply.answered_revision is not None and mention.revision != reply.answered_revision:
        return (f"the customer edited the post you answer since you started (revision {reply.answered_revision} "
                f"-> {mention.revision}); read it again")  # fmt: skip
    return None


def do_submit(session: Session, *, reply: Reply, actor: Actor | None, confirm: bool = False) -> Reply:
    """Check the reply and send it on: to the approval queue when a rule or a finding asks for it,
    else straight to the outbox. ``confirm`` is the agent saying "yes, send anyway" after a
    colleague's answer or the customer's edit was pointed out."""
    _own(reply, actor)
    if reply.status not in EDITABLE:
        raise ConflictError(f"reply {reply.id} is {reply.status} already")
    problem = _target_problem(session, reply)
    if problem and not confirm:
        raise ConflictError(problem + "; confirm to send anyway")
    if problem and reply.in_reply_to_mention_id is not None:
        mention = session.get(Mention, reply.in_reply_to_mention_id)
        reply.answered_revision = mention.revision if mention else None
    findings = do_check(session, reply=reply)
    if is_blocked(findings):
        raise InputError("; ".join(f.message for f in findings if f.severity == "block"), location="text")
    case = get_case(session, id=reply.case_id)
    outbox.resolve_publisher(session, case=case)  # no way out: say so now, not after approval
    reply.submitted_at = now()
    reply.approval_reasons = approvals.approval_reasons(session, reply=reply, case=case)
    if reply.approval_reasons:
        reply.status = ReplyStatus.pending_approval
        _flush(session, reply)
        do_record(session, actor=actor, action="reply.submit", object_type="case_reply", object_id=reply.id,
                  after={"status": reply.status, "reasons": [r["reason"] for r in reply.approval_reasons]})  # fmt: skip
        return reply
    do_record(session, actor=actor, action="reply.submit", object_type="case_reply", object_id=reply.id,
              after={"status": "queued"})  # fmt: skip
    return _queue(session, reply=reply, case=case, actor=actor, confirm=confirm)


def do_approve(
    session: Session,
    *,
    reply: Reply,
    actor: Actor,
    comment: str | None = None,
    text: str | None = None,
    confirm: bool = False,
) -> Reply:
    """Approve (optionally after editing the text) and queue the reply."""
    _decider(reply, actor)
    before = {"status": reply.status, "chars": len(reply.text)}
    if text is not None and text != reply.text:
        if len(text) > MAX_TEXT:
            raise InputError(f"a reply is at most {MAX_TEXT:,} characters", location="text")
        reply.text = text
        if is_blocked(do_check(session, reply=reply)):
            raise InputError(
                "; ".join(f["message"] for f in reply.findings if f["severity"] == "block"), location="text"
            )
    reply.approver_id = actor.user_id
    reply.decision_comment = (comment or "").strip() or None
    reply.decided_at = now()
    reply.status = ReplyStatus.approved
    _flush(session, reply)
    do_record(session, actor=actor, action="reply.approve", object_type="case_reply", object_id=reply.id,
              before=before,
              after={"status": "approved", "edited": text is not None, "comment": reply.decision_comment})  # fmt: skip
    return _queue(session, reply=reply, case=get_case(session, id=reply.case_id), actor=actor, confirm=confirm)


def do_reject(session: Session, *, reply: Reply, actor: Actor, comment: str) -> Reply:
    """Send the reply back to its author with a comment saying why (the comment is required)."""
    _decider(reply, actor)
    if not comment.strip():
        raise InputError("say why the reply is rejected, so its author can fix it", location="comment")
    reply.approver_id = actor.user_id
    reply.decision_comment = comment.strip()
    reply.decided_at = now()
    reply.status = ReplyStatus.rejected
    _flush(session, reply)
    do_record(session, actor=actor, action="reply.reject", object_type="case_reply", object_id=reply.id,
              before={"status": "pending_approval"},
              after={"status": "rejected", "comment": reply.decision_comment})  # fmt: skip
    return reply


def _decider(reply: Reply, actor: Actor) -> None:
    if reply.author_id is not None and reply.author_id == actor.user_id:
        raise PermissionDeniedError("you wrote this reply: another colleague must approve or reject it")
    if reply.status != ReplyStatus.pending_approval:
        raise ConflictError(f"reply {reply.id} is {reply.status}, not waiting for approval")


def _slot(reply: Reply, *, confirm: bool) -> str:
    base = f"m{reply.in_reply_to_mention_id}" if reply.in_reply_to_mention_id else "case"
    return f"{base}+r{reply.id}" if confirm else base


def _holder(session: Session, case_id: int, slot: str) -> str:
    other = session.scalar(select(Reply).where(Reply.case_id == case_id, Reply.answer_slot == slot))
    if other is None:
        return "a colleague has just answered this message"
    who = session.get(User, other.author_id) if other.author_id else None
    name = who.display_name if who else "a colleague"
    done = "sent" if other.status == ReplyStatus.sent else "queued"
    return f"{name} has already {done} a reply to this message (reply #{other.id})"


def _queue(session: Session, *, reply: Reply, case: Case, actor: Actor | None, confirm: bool) -> Reply:
    """Claim the answer slot and write the outbox entry, atomically; a lost race is a ConflictError."""
    slot = _slot(reply, confirm=confirm)
    try:
        with session.begin_nested():
            reply.answer_slot = slot
            reply.status = ReplyStatus.queued
            reply.updated_at = now()
            session.flush()
            entry = outbox.enqueue_reply(session, reply=reply, case=case)
    except IntegrityError:
        session.refresh(reply)
        raise ConflictError(_holder(session, case.id, slot) + "; read it, then confirm to send yours anyway") from None
    except StaleDataError:
        raise ConflictError(f"reply {reply.id} was changed meanwhile; reload it") from None
    do_record(session, actor=actor, action="reply.queue", object_type="case_reply", object_id=reply.id,
              after={"outbox_id": entry.id, "slot": slot})  # fmt: skip
    return reply


def reply_summary(reply: Reply) -> dict[str, Any]:
    return {"id": reply.id, "status": reply.status, "version": reply.version}

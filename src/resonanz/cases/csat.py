"""Customer satisfaction after resolution: a one-question survey reached by an unguessable link.

Only the SHA-256 of the token is stored (like sign-in sessions), so a database dump does not hold
working links; a survey is answered once and expires after ``VALID_FOR``. The answer (1-5) is
copied to the case's ``csat`` column, which the care metrics read.

Sending the link on resolve (when :func:`resonanz.cases.care_settings.csat_enabled_for` says so):
the resolve action calls :func:`on_resolved`, which only enqueues a ``care.csat.send`` job in the
same transaction (deduplicated per case and resolution). The job (:func:`do_dispatch`) re-reads the
case and writes one ``csat_dispatch`` row per resolution - unique in the database, so a repeated job
or two workers never send twice: *queued* (a survey plus a system reply through the case's own
channel and the outbox, with its idempotency key and retries) or *skipped* with the reason (reopened
meanwhile, internal case, never answered, switched off meanwhile, no way to reach the customer).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from resonanz.audit.actions import Actor, do_record
from resonanz.cases.care_settings_models import CsatDispatch
from resonanz.cases.models import Case, CaseStatus
from resonanz.cases.reply_models import CsatSurvey, Reply, ReplyStatus
from resonanz.clock import ensure_utc, now
from resonanz.errors import ConflictError, InputError
from resonanz.i18n import N_, translations

VALID_FOR = timedelta(days=14)
SEND_KIND = "care.csat.send"
#: platforms of cases nobody outside the company wrote (never sent a survey)
INTERNAL_PLATFORMS = frozenset({"internal", "manual", "note"})
#: the message around the link, in the case's language (German or English)
MESSAGE = N_("Thank you for writing to us. How satisfied are you with our help? One click is enough: {link}")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def do_create_survey(session: Session, *, case: Case, actor: Actor | None) -> str:
    """A new survey for ``case``; returns the raw token (shown once: put it in the link)."""
    token = secrets.token_urlsafe(24)
    stamp = now()
    survey = CsatSurvey(case_id=case.id, token_hash=_hash(token), created_at=stamp, expires_at=stamp + VALID_FOR)
    session.add(survey)
    session.flush()
    do_record(session, actor=actor, action="csat.create", object_type="case", object_id=case.id,
              after={"survey_id": survey.id})  # fmt: skip
    return token


def link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/csat/{token}"


def find(session: Session, *, token: str) -> CsatSurvey | None:
    """The open survey of ``token``, or None (unknown, expired; an answered one is returned so the
    page can say thanks instead of asking again)."""
    if not token or len(token) > 100:
        return None
    survey = session.scalar(select(CsatSurvey).where(CsatSurvey.token_hash == _hash(token)))
    if survey is None or (survey.answered_at is None and survey.expires_at < now()):
        return None
    return survey


def do_answer(session: Session, *, survey: CsatSurvey, score: str | int, comment: str = "") -> CsatSurvey:
    if survey.answered_at is not None:
        raise ConflictError("this question was answered already: thank you")
    try:
        value = int(score)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise InputError("choose a score from 1 to 5", location="score")
    if len(comment) > 2000:
        raise InputError("the comment is at most 2,000 characters", location="comment")
    survey.score = value
    survey.comment = comment.strip() or None
    survey.answered_at = now()
    case = session.get(Case, survey.case_id)
    if case is not None:
        case.csat = value
    session.flush()
    do_record(session, actor=None, action="csat.answer", object_type="case", object_id=survey.case_id,
              after={"score": value})  # fmt: skip
    return survey


# --- sending the link on resolve ------------------------------------------------------------------


def on_resolved(session: Session, *, case: Case) -> int | None:
    """Called by the resolve action, in its transaction: enqueue the send when the switch is on.
    Returns the job id (None: switched off, or already enqueued for this resolution)."""
    from resonanz.cases.care_settings import csat_enabled_for
    from resonanz.worker.queue import enqueue

    if case.resolved_at is None or not csat_enabled_for(session, case=case):
        return None
    stamp = ensure_utc(case.resolved_at).isoformat()
    return enqueue(session, kind=SEND_KIND, payload={"case_id": case.id, "resolved_at": stamp},
                   dedupe_key=f"csat:{case.id}:{stamp}")  # fmt: skip


def _why_not(session: Session, case: Case | None, resolved_at: datetime) -> str | None:
    if case is None:
        return "the case was deleted"
    if case.status != CaseStatus.resolved or case.resolved_at is None or ensure_utc(case.resolved_at) != resolved_at:
        return "the case was reopened or closed before the link went out"
    if case.platform.lower() in INTERNAL_PLATFORMS or case.author_id is None:
        return "an internal case: nobody outside to ask"
    if case.first_responded_at is None:
        # nothing of ours to rate; and the survey would count as the first response in the SLA figures
        return "nobody answered the customer on this case"
    from resonanz.cases.care_settings import csat_enabled_for

    if not csat_enabled_for(session, case=case):
        return "the survey link was switched off before it went out"
    return None


def _skip(session: Session, dispatch: CsatDispatch, reason: str) -> CsatDispatch:
    dispatch.status, dispatch.reason = "skipped", reason[:300]
    session.flush()
    do_record(session, actor=None, action="csat.skip", object_type="case", object_id=dispatch.case_id,
              after={"reason": dispatch.reason})  # fmt: skip
    return dispatch


def do_dispatch(session: Session, *, case_id: int, resolved_at: datetime, base_url: str) -> CsatDispatch:
    """Send (queue) the CSAT link of one resolution, once: a second call returns the first row."""
    from resonanz.cases import outbox, replies

    resolved_at = ensure_utc(resolved_at)
    done = session.scalar(
        select(CsatDispatch).where(CsatDispatch.case_id == case_id, CsatDispatch.resolved_at == resolved_at)
    )
    if done is not None:
        return done
    case = session.get(Case, case_id)
    stamp = now()
    dispatch = CsatDispatch(case_id=case_id, resolved_at=resolved_at, status="queued", created_at=stamp)
    try:
        with session.begin_nested():
            session.add(dispatch)
            session.flush()
    except IntegrityError:  # a second worker got here first: its row stands
        return session.scalars(
            select(CsatDispatch).where(CsatDispatch.case_id == case_id, CsatDispatch.resolved_at == resolved_at)
        ).one()
    reason = _why_not(session, case, resolved_at)
    if reason is not None or case is None:
        return _skip(session, dispatch, reason or "the case was deleted")
    mentions = replies.customer_mentions(session, case=case)
    lang = "de" if case.lang == "de" else "en"
    try:
        with session.begin_nested():  # nothing of the attempt stays when the channel cannot take it
            token = do_create_survey(session, case=case, actor=None)
            text = translations(lang).ugettext(MESSAGE).format(link=link(base_url, token))
            reply = Reply(case_id=case.id, author_id=None, in_reply_to_mention_id=mentions[-1].id if mentions else None,
                          text=text, lang=lang, status=ReplyStatus.queued, answer_slot=f"csat:{dispatch.id}",
                          findings=[], approval_reasons=[], created_at=stamp, updated_at=stamp,
                          submitted_at=stamp)  # fmt: skip
            session.add(reply)
            session.flush()
            entry = outbox.enqueue_reply(session, reply=reply, case=case)
    except ConflictError as exc:  # no publisher for this channel, or it cannot reach the customer
        return _skip(session, dispatch, f"no way to reach the customer: {exc}")
    dispatch.survey_id = session.scalar(select(CsatSurvey.id).where(CsatSurvey.token_hash == _hash(token)))
    dispatch.reply_id = reply.id
    session.flush()
    do_record(session, actor=None, action="csat.send", object_type="case", object_id=case.id,
              after={"reply_id": reply.id, "outbox_id": entry.id, "survey_id": dispatch.survey_id})  # fmt: skip
    return dispatch


def dispatches_of(session: Session, *, case_id: int) -> list[CsatDispatch]:
    return list(session.scalars(select(CsatDispatch).where(CsatDispatch.case_id == case_id).order_by(CsatDispatch.id)))

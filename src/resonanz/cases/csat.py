"""Customer satisfaction after resolution: a one-question survey reached by an unguessable link.

Only the SHA-256 of the token is stored (like sign-in sessions), so a database dump does not hold
working links; a survey is answered once and expires after ``VALID_FOR``. The answer (1-5) is
copied to the case's ``csat`` column, which the care metrics read.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.audit.actions import Actor, do_record
from resonanz.cases.models import Case
from resonanz.cases.reply_models import CsatSurvey
from resonanz.clock import now
from resonanz.errors import ConflictError, InputError

VALID_FOR = timedelta(days=14)


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

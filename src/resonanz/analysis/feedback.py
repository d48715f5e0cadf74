"""Corrections by people: stored, shown instead of the model's guess, used in the next training."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.analysis.models import Feedback
from resonanz.analysis.runner import FEEDBACK_COLUMNS, correction_value
from resonanz.clock import now
from resonanz.errors import InputError, NotFoundError
from resonanz.mentions.models import Mention

LABELS: dict[str, tuple[str, ...]] = {
    "sentiment": ("negative", "neutral", "positive"),
    "intent": ("complaint", "question", "praise", "suggestion", "other"),
    "offensive": ("offensive", "other"),
}


def validate_label(task: str, label: str) -> str:
    if task == "language":
        if not (2 <= len(label) <= 3 and label.isalpha() and label.islower()):
            raise InputError("a language is an ISO 639 code such as de or en", location="label")
        return label
    if task not in LABELS:
        raise InputError(f"cannot correct {task!r}; choose one of {', '.join([*LABELS, 'language'])}", location="task")
    if label not in LABELS[task]:
        raise InputError(f"{label!r} is not a {task} label; choose one of {', '.join(LABELS[task])}", location="label")
    return label


def do_correct(
    session: Session, *, mention_id: int, task: str, label: str, actor: str, note: str | None = None
) -> Feedback:
    """Record a correction and show it at once (the mention's column takes the corrected value)."""
    label = validate_label(task, label)
    mention = session.get(Mention, mention_id)
    if mention is None:
        raise NotFoundError(f"no mention with id {mention_id}")
    column = FEEDBACK_COLUMNS[task]
    previous = getattr(mention, column)
    entry = Feedback(
        mention_id=mention_id, task=task, label=label, previous=None if previous is None else str(previous),
        note=note, actor=actor, created_at=now(),
    )  # fmt: skip
    session.add(entry)
    setattr(mention, column, correction_value(task, label))
    session.flush()
    # a query may test the corrected value (sentiment:negative): its matches follow at once
    from resonanz.listening.matching import match_mentions

    match_mentions(session, mention_ids=[mention_id])
    return entry


def training_feedback(session: Session, *, task: str) -> list[tuple[str, str, str | None]]:
    """(text, label, language) of the latest correction per mention, for ``models train --with-feedback``."""
    latest: dict[int, str] = {}
    for mention_id, label in session.execute(
        select(Feedback.mention_id, Feedback.label).where(Feedback.task == task).order_by(Feedback.id)
    ):
        latest[mention_id] = label
    if not latest:
        return []
    rows = session.execute(select(Mention.id, Mention.text, Mention.title, Mention.lang).where(Mention.id.in_(latest)))
    return [(f"{t}\n{x}" if t else x, latest[i], lang) for i, x, t, lang in rows]

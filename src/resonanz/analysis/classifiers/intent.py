"""Intent: what the author wants from the company — complaint, question, praise, suggestion, other.

Two learned heads (complaint yes/no, praise yes/no; :mod:`.intent_model`) and phrase rules for what
no labelled data here covers (questions, suggestions, being addressed; :mod:`.intent_rules`) are
combined by one short decision list (:func:`decide`), so every label comes with its reasons:

1. a suggestion phrase -> suggestion, unless the complaint head is very sure (an angry "please add …");
2. complaint head >= threshold -> complaint, unless a help-seeking question phrase outweighs a mild
   complaint score ("how do I change my booking?" is a question; "Warum fällt mein Zug schon wieder
   aus?" stays a complaint);
3. a help-seeking phrase, or an interrogative clause / a bare "?" in a text that does not read as
   praise -> question;
4. praise head >= threshold -> praise; else other.

``needs_response`` is true for a complaint or question that addresses someone (@handle, ihr/Sie/du,
you). Texts in languages the heads were not trained on (neither de nor en) get rules only.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from resonanz.analysis.classifiers.intent_model import MAX_CHARS, LinearTextModel
from resonanz.analysis.classifiers.intent_rules import (
    CLAUSE_QUESTION,
    CUE_BOOST,
    STRONG_QUESTION,
    RuleHits,
    apply_rules,
)
from resonanz.analysis.tasks import ARTIFACTS

LABELS = ("complaint", "question", "praise", "suggestion", "other")
ARTIFACT = "intent"
MODELLED_LANGS = frozenset({"de", "en"})
NEEDS_RESPONSE = frozenset({"complaint", "question"})
#: 0.4 rather than 0.5: a missed complaint costs a customer, a false one costs a glance (chosen on the dev parts)
COMPLAINT_THRESHOLD = 0.4
PRAISE_THRESHOLD = 0.5
#: above this the complaint head wins over a suggestion phrase or a help-seeking question phrase
SURE_COMPLAINT = 0.8
RULE_CONFIDENCE = {"suggestion": 0.8, "strong_question": 0.85, "clause_question": 0.75, "question": 0.6}


@dataclass(frozen=True, slots=True)
class Intent:
    intent: str
    confidence: float
    needs_response: bool
    reasons: tuple[str, ...]

    def as_result(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "confidence": self.confidence,
            "needs_response": self.needs_response,
            "reasons": list(self.reasons),
        }


@functools.cache
def load_model(directory: Path = ARTIFACTS) -> LinearTextModel:
    """The shipped (or given) intent artifact, loaded once per process."""
    return LinearTextModel.load(directory, ARTIFACT)


def decide(p_complaint: float, p_praise: float, hits: RuleHits) -> tuple[str, float]:
    """The decision list in the module docstring: (label, confidence)."""
    p_complaint = min(1.0, p_complaint + CUE_BOOST * hits.complaint_cue)
    p_praise = min(1.0, p_praise + CUE_BOOST * hits.praise_cue)
    if hits.suggestion and p_complaint < SURE_COMPLAINT:
        return "suggestion", RULE_CONFIDENCE["suggestion"]
    if (
        p_complaint >= COMPLAINT_THRESHOLD
        and p_complaint >= p_praise
        and (hits.question < STRONG_QUESTION or p_complaint >= SURE_COMPLAINT)
    ):
        return "complaint", p_complaint
    if hits.question == STRONG_QUESTION:
        return "question", RULE_CONFIDENCE["strong_question"]
    if hits.question and p_praise < PRAISE_THRESHOLD:  # "Wie toll ist das denn?" stays praise
        return "question", RULE_CONFIDENCE["clause_question" if hits.question == CLAUSE_QUESTION else "question"]
    if p_praise >= PRAISE_THRESHOLD:
        return "praise", p_praise
    return "other", 1.0 - max(p_complaint, p_praise)


def classify(
    texts: Sequence[str], langs: Sequence[str | None], *, model: LinearTextModel | None = None
) -> list[Intent]:
    """One :class:`Intent` per text (batch; never raises for an odd text)."""
    model = model or load_model()
    clipped = [t[:MAX_CHARS] if isinstance(t, str) else "" for t in texts]
    x = model.features(clipped)
    proba = model.proba(x)
    modelled = np.array([lang is None or lang in MODELLED_LANGS or lang == "und" for lang in langs])
    proba[~modelled] = 0.0
    ci, pi = model.heads.index("complaint"), model.heads.index("praise")
    decided: list[tuple[str, float, RuleHits]] = []
    for text, (pc, pp) in zip(clipped, proba[:, [ci, pi]].tolist(), strict=True):
        hits = apply_rules(text)
        label, confidence = decide(pc, pp, hits)
        decided.append((label, confidence, hits))
    head = np.array([pi if label == "praise" else ci for label, _, _ in decided], dtype=np.intp)
    sign = np.array([1.0 if label in ("complaint", "praise") else 0.0 for label, _, _ in decided], dtype=np.float32)
    words = model.top_words(x, head, sign)
    out: list[Intent] = []
    for (label, confidence, hits), top, ok in zip(decided, words, modelled.tolist(), strict=True):
        reasons = hits.reasons + tuple(f"word: {w}" for w in top)
        if not ok:
            reasons += ("language not modelled: rules only",)
        needs = label in NEEDS_RESPONSE and hits.addressed
        out.append(Intent(label, round(float(confidence), 4), needs, reasons))
    return out


class IntentTask:
    """``resonanz models train|evaluate --task intent``.

    ``predict`` returns the full label set. A file labelled only complaint/other (the issue's
    evaluation format) is scored after :meth:`align`, which folds labels the file does not use
    into "other" (question, praise and suggestion are all "not a complaint").
    """

    name = "intent"
    labels = LABELS

    def predict(self, texts: Sequence[str], langs: Sequence[str | None], *, tier: str = "cascade") -> list[str]:
        return [r.intent for r in classify(texts, langs)]

    def align(self, predicted: Sequence[str], gold_labels: set[str]) -> list[str]:
        if "other" not in gold_labels:
            return list(predicted)
        return [p if p in gold_labels else "other" for p in predicted]

    def train(
        self, data_dir: Path, *, out_dir: Path, feedback: Sequence[tuple[str, str, str | None]]
    ) -> dict[str, Any]:
        from resonanz.analysis.classifiers.intent_training import train

        return train(data_dir, out_dir=out_dir, feedback=feedback)


TASK = IntentTask()

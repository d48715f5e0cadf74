"""Which mentions need a response, and how urgent they are — pure rules over plain facts.

:mod:`resonanz.cases.intake` gathers the :class:`MentionFacts` of a batch from the database and
applies these; tests and the docs table read the rules here without a database.

A mention needs a response when any of these holds (each gives a reason, shown on the case):

==================  =========================================================================
rule                when
==================  =========================================================================
``intent``          the intent stage says question or complaint (``case_intake_intents``)
``needs_response``  the intent stage flagged it as needing an answer
``influential``     negative, from an author with at least ``case_intake_influential_followers``
``own_account``     a message to one of our own accounts (its source is marked ``own_account``)
                    or a reply to a post of one (``case_own_handles``)
``query``           it matches one of the listening queries chosen for intake
``crisis``          it names a crisis term (the crisis stage's terms)
==================  =========================================================================

Posts *by* our own accounts never need a response (our replies come back through the same
sources), and neither do reposts of a post we already have.

Priority is a sum of points with every contribution kept as a reason (``priority_reasons``):
intent, negative sentiment, the author's reach, the risk score, crisis terms and a message to our
own account. The sum maps to low / normal / high / urgent at :data:`THRESHOLDS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from resonanz.cases.models import CasePriority

#: points of each factor (the docs table is generated from these)
INTENT_POINTS = {"complaint": 20, "question": 10}
NEGATIVE_POINTS = 15
NEEDS_RESPONSE_POINTS = 5
OWN_ACCOUNT_POINTS = 10
#: (followers at least, points), highest first
REACH_POINTS = ((100_000, 30), (10_000, 20), (1_000, 5))
#: (risk score at least, points), highest first
RISK_POINTS = ((0.6, 20), (0.3, 10))
CRISIS_POINTS = 40
#: (sum at least, priority), highest first
THRESHOLDS = ((60, CasePriority.urgent), (35, CasePriority.high), (10, CasePriority.normal))


@dataclass(frozen=True)
class IntakeRules:
    """What the operator chose (settings ``case_intake_*``; defaults here)."""

    intents: frozenset[str] = frozenset({"question", "complaint"})
    influential_followers: int = 10_000
    query_ids: frozenset[int] = frozenset()
    own_handles: frozenset[str] = frozenset()  # lower-case handles, optionally "platform:handle"
    join_window_hours: float = 72.0

    def is_own(self, platform: str, handle: str | None) -> bool:
        if not handle:
            return False
        h = handle.lower().lstrip("@")
        return h in self.own_handles or f"{platform}:{h}" in self.own_handles


@dataclass(frozen=True)
class MentionFacts:
    """Everything the rules look at for one mention."""

    mention_id: int
    platform: str
    author_handle: str | None = None
    followers: int | None = None
    intent: str | None = None
    sentiment: str | None = None
    needs_response: bool | None = None
    risk_score: float | None = None
    crisis_terms: Sequence[str] = ()
    query_ids: Sequence[int] = ()
    to_own_account: bool = False  # its source is one of our inboxes, or it replies to our post
    is_repost: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def response_reasons(facts: MentionFacts, rules: IntakeRules) -> list[str]:
    """Why ``facts`` needs a response (empty: it does not)."""
    if facts.is_repost or rules.is_own(facts.platform, facts.author_handle):
        return []
    reasons: list[str] = []
    if facts.intent in rules.intents:
        reasons.append(f"intent:{facts.intent}")
    if facts.needs_response:
        reasons.append("needs_response")
    if facts.sentiment == "negative" and (facts.followers or 0) >= rules.influential_followers:
        reasons.append("influential")
    if facts.to_own_account:
        reasons.append("own_account")
    if rules.query_ids.intersection(facts.query_ids):
        reasons.append("query")
    if facts.crisis_terms:
        reasons.append("crisis")
    return reasons


def priority_of(facts: MentionFacts) -> tuple[CasePriority, list[dict[str, Any]]]:
    """The priority and its reasons: ``[{"factor", "value", "points"}, ...]`` plus a total row."""
    reasons: list[dict[str, Any]] = []
    if facts.intent in INTENT_POINTS:
        reasons.append({"factor": "intent", "value": facts.intent, "points": INTENT_POINTS[facts.intent]})
    if facts.sentiment == "negative":
        reasons.append({"factor": "sentiment", "value": "negative", "points": NEGATIVE_POINTS})
    for least, points in REACH_POINTS:
        if (facts.followers or 0) >= least:
            reasons.append({"factor": "reach", "value": facts.followers, "points": points})
            break
    for floor, points in RISK_POINTS:
        if (facts.risk_score or 0) >= floor:
            reasons.append({"factor": "risk", "value": round(facts.risk_score or 0, 3), "points": points})
            break
    if facts.crisis_terms:
        reasons.append({"factor": "crisis", "value": ", ".join(facts.crisis_terms[:5]), "points": CRISIS_POINTS})
    if facts.to_own_account:
        reasons.append({"factor": "own_account", "value": True, "points": OWN_ACCOUNT_POINTS})
    if facts.needs_response and not any(r["factor"] == "intent" for r in reasons):
        reasons.append({"factor": "needs_response", "value": True, "points": NEEDS_RESPONSE_POINTS})
    total = sum(int(r["points"]) for r in reasons)
    priority = next((p for least, p in THRESHOLDS if total >= least), CasePriority.low)
    return priority, reasons


RANK = {CasePriority.low: 0, CasePriority.normal: 1, CasePriority.high: 2, CasePriority.urgent: 3}


def higher(a: CasePriority | str, b: CasePriority | str) -> bool:
    """Whether priority ``a`` is above ``b``."""
    return RANK[CasePriority(a)] > RANK[CasePriority(b)]


def thread_key(*, external_id: str, thread_external_id: str | None, parent_external_id: str | None) -> str:
    """The conversation a mention belongs to: its thread's root, else its parent, else itself."""
    return thread_external_id or parent_external_id or external_id

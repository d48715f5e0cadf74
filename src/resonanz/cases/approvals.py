"""Approval rules and the policy settings around them (crisis mode, blocked phrases).

A reply needs an approver when any active rule holds for it, or when the policy check found
something a person must look at (``review`` findings). Rules:

* ``new_agent`` ``{"days": 30}`` - the author's account is younger than ``days``;
* ``high_risk`` ``{"priority": "high", "risk": 0.5}`` - the case's priority is at least ``priority``
  or one of its mentions has a risk score of at least ``risk``;
* ``crisis`` - crisis mode is on (a switch managers flip when a storm starts);
* ``brand`` ``{"brand_ids": [3, 4]}`` - the case belongs to one of these brands.

The decision itself (approve, edit and approve, reject with a comment) lives in
:mod:`resonanz.cases.replies`; the rule that an author cannot approve their own reply is there too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resonanz.accounts.models import User
from resonanz.audit.actions import Actor, do_record
from resonanz.cases.care_settings_models import ProfanityTerm
from resonanz.cases.models import Case, CaseMention
from resonanz.cases.policy import REVIEW, Phrase
from resonanz.cases.reply_models import ApprovalRule, ApprovalRuleKind, BlockedPhrase, CareSetting, PhraseKind, Reply
from resonanz.clock import now
from resonanz.errors import ConflictError, InputError, NotFoundError
from resonanz.mentions.models import Mention

CRISIS_MODE = "crisis_mode"
PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}


# --- settings -------------------------------------------------------------------------------------


def get_setting(session: Session, *, key: str, default: Any = None) -> Any:
    row = session.get(CareSetting, key)
    return default if row is None else row.value


def do_set_setting(session: Session, *, key: str, value: Any, actor: Actor | None) -> None:
    row = session.get(CareSetting, key)
    before = None if row is None else row.value
    if row is None:
        row = CareSetting(key=key)
        session.add(row)
    row.value = value
    row.updated_at = now()
    row.updated_by_id = actor.user_id if actor else None
    session.flush()
    do_record(session, actor=actor, action="care.setting", object_type="care_setting", object_id=key,
              before={"value": before}, after={"value": value})  # fmt: skip


def crisis_mode(session: Session) -> bool:
    return bool(get_setting(session, key=CRISIS_MODE, default=False))


# --- blocked phrases ------------------------------------------------------------------------------


def list_phrases(session: Session) -> list[BlockedPhrase]:
    return list(session.scalars(select(BlockedPhrase).order_by(BlockedPhrase.kind, BlockedPhrase.phrase)))


def policy_phrases(session: Session) -> list[Phrase]:
    """Blocked phrases, plus the installation's profanity terms (kind ``profanity``: the policy check
    reports those as profanity, whatever the classifier says)."""
    phrases = [Phrase(p.phrase, p.kind, p.reason) for p in list_phrases(session)]
    terms = session.scalars(select(ProfanityTerm.term).order_by(ProfanityTerm.term))
    return phrases + [Phrase(term, "profanity", "on the installation's profanity list") for term in terms]


def do_add_phrase(
    session: Session, *, phrase: str, kind: str = PhraseKind.custom, reason: str | None = None, actor: Actor | None
) -> BlockedPhrase:
    phrase = phrase.strip()
    if not phrase or len(phrase) > 200:
        raise InputError("a phrase of 1 to 200 characters is needed", location="phrase")
    if kind not in PhraseKind.__members__:
        raise InputError(f"kind must be one of {', '.join(PhraseKind)}", location="kind")
    exists = session.scalar(select(BlockedPhrase).where(BlockedPhrase.phrase == phrase, BlockedPhrase.kind == kind))
    if exists is not None:
        raise ConflictError(f"the phrase {phrase!r} ({kind}) is blocked already")
    row = BlockedPhrase(phrase=phrase, kind=kind, reason=reason, created_at=now())
    session.add(row)
    session.flush()
    do_record(session, actor=actor, action="care.phrase.add", object_type="blocked_phrase", object_id=row.id,
              after={"phrase": phrase, "kind": kind})  # fmt: skip
    return row


def do_remove_phrase(session: Session, *, id: int, actor: Actor | None) -> None:
    row = session.get(BlockedPhrase, id)
    if row is None:
        raise NotFoundError(f"blocked phrase {id} does not exist")
    do_record(session, actor=actor, action="care.phrase.remove", object_type="blocked_phrase", object_id=id,
              before={"phrase": row.phrase, "kind": row.kind})  # fmt: skip
    session.delete(row)
    session.flush()


def competitor_names(session: Session) -> list[str]:
    """Names and aliases of the listening brands of kind competitor (H1's table)."""
    from resonanz.listening.brands import alias_list
    from resonanz.listening.models import Brand

    names: list[str] = []
    for brand in session.scalars(select(Brand).where(Brand.kind == "competitor")):
        names.append(brand.name)
        names += alias_list(brand)  # one alias a line (iterating the text gave single letters: "a" flagged)
    return names


# --- rules ----------------------------------------------------------------------------------------


def _check_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    if kind not in ApprovalRuleKind.__members__:
        raise InputError(f"kind must be one of {', '.join(ApprovalRuleKind)}", location="kind")
    if kind == ApprovalRuleKind.new_agent:
        days = params.get("days", 30)
        if not isinstance(days, int) or not 1 <= days <= 3650:
            raise InputError("days must be a whole number from 1 to 3650", location="params.days")
        return {"days": days}
    if kind == ApprovalRuleKind.high_risk:
        priority = params.get("priority", "high")
        risk = params.get("risk")
        if priority not in PRIORITY_RANK:
            raise InputError("priority must be low, normal, high or urgent", location="params.priority")
        if risk is not None and not (isinstance(risk, int | float) and 0 <= risk <= 1):
            raise InputError("risk must be a number from 0 to 1", location="params.risk")
        return {"priority": priority, "risk": risk}
    if kind == ApprovalRuleKind.brand:
        ids = params.get("brand_ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
            raise InputError("brand_ids must be a non-empty list of brand ids", location="params.brand_ids")
        return {"brand_ids": ids}
    return {}


def list_rules(session: Session) -> list[ApprovalRule]:
    return list(session.scalars(select(ApprovalRule).order_by(ApprovalRule.name)))


def do_save_rule(
    session: Session, *, name: str, kind: str, params: dict[str, Any], active: bool = True, actor: Actor | None
) -> ApprovalRule:
    """Create or replace (by name) an approval rule."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InputError("a name of 1 to 100 characters is needed", location="name")
    clean = _check_params(kind, params)
    rule = session.scalar(select(ApprovalRule).where(ApprovalRule.name == name))
    before = None if rule is None else {"kind": rule.kind, "params": rule.params, "active": rule.active}
    if rule is None:
        rule = ApprovalRule(name=name, created_at=now())
        session.add(rule)
    rule.kind, rule.params, rule.active = kind, clean, active
    session.flush()
    do_record(session, actor=actor, action="care.approval_rule.save", object_type="approval_rule", object_id=rule.id,
              before=before, after={"name": name, "kind": kind, "params": clean, "active": active})  # fmt: skip
    return rule


def do_delete_rule(session: Session, *, id: int, actor: Actor | None) -> None:
    rule = session.get(ApprovalRule, id)
    if rule is None:
        raise NotFoundError(f"approval rule {id} does not exist")
    do_record(session, actor=actor, action="care.approval_rule.delete", object_type="approval_rule", object_id=id,
              before={"name": rule.name, "kind": rule.kind, "params": rule.params, "active": rule.active})  # fmt: skip
    session.delete(rule)
    session.flush()


def _max_risk(session: Session, case: Case) -> float:
    stmt = (
        select(func.max(Mention.risk_score))
        .join(CaseMention, CaseMention.mention_id == Mention.id)
        .where(CaseMention.case_id == case.id)
    )
    return float(session.scalar(stmt) or 0.0)


def approval_reasons(session: Session, *, reply: Reply, case: Case) -> list[dict[str, Any]]:
    """Why ``reply`` needs an approver (empty: it may be sent at once)."""
    reasons: list[dict[str, Any]] = []
    author = session.get(User, reply.author_id) if reply.author_id else None
    for rule in list_rules(session):
        if not rule.active:
            continue
        why = _rule_reason(session, rule, author, case)
        if why:
            reasons.append({"rule_id": rule.id, "kind": rule.kind, "reason": why})
    review = [f for f in reply.findings if f.get("severity") == REVIEW]
    if review:
        codes = ", ".join(sorted({str(f.get("code")) for f in review}))
        reasons.append({"rule_id": None, "kind": "policy", "reason": f"policy findings need a second look: {codes}"})
    return reasons


def _rule_reason(session: Session, rule: ApprovalRule, author: User | None, case: Case) -> str | None:
    params = rule.params or {}
    if rule.kind == ApprovalRuleKind.new_agent and author is not None:
        days = int(params.get("days", 30))
        if author.created_at > now() - timedelta(days=days):
            return f"{rule.name}: the author joined less than {days} days ago"
    elif rule.kind == ApprovalRuleKind.high_risk:
        threshold = PRIORITY_RANK.get(str(params.get("priority", "high")), 2)
        if PRIORITY_RANK.get(case.priority, 1) >= threshold:
            return f"{rule.name}: the case's priority is {case.priority}"
        risk = params.get("risk")
        if risk is not None and _max_risk(session, case) >= float(risk):
            return f"{rule.name}: a mention in the case has a risk score of {float(risk):.2f} or more"
    elif rule.kind == ApprovalRuleKind.crisis and crisis_mode(session):
        return f"{rule.name}: crisis mode is on"
    elif rule.kind == ApprovalRuleKind.brand and case.brand_id in (params.get("brand_ids") or []):
        return f"{rule.name}: replies for this brand are approved first"
    return None

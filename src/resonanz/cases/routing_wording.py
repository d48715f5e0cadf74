"""Why routing sent a case where it went, in one reader's language.

Why facts and not sentences: routing runs once (in a worker, in no one's language) and its reasons
are read later by German and English agents, on the case page and through the API. So a reason is
kept as language-free facts — a dict with a ``code`` and the names and numbers it is about, e.g.
``{"code": "rule_matched", "rule": "Billing", "team": "Care"}`` — and worded at read time by
:func:`reason_text` with the reader's gettext. Rows written before reasons were facts hold plain
English strings; those are shown as they are.

The English wording is the msgid and stays word for word what routing used to store (tests and
scripts read it). Names (rules, teams, agents) are user input: they are passed as values, never
as part of a msgid, and the result is plain text that the page escapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from resonanz.i18n import N_

Translate = Callable[[str], str]

#: the fact codes routing writes (``resonanz.cases.routing``)
RULE_MATCHED = "rule_matched"
RULE_FORWARD = "rule_forward"
RULE_LOOP = "rule_loop"
NO_RULE = "no_rule_matched"
NO_MEMBERS = "no_active_members"
NOT_AVAILABLE = "not_available"
ASSIGNED = "assigned"
ESCALATION_LOOP = "escalation_loop"
ESCALATED_TEAM = "escalated_to_team"
ESCALATED_MANAGER = "escalated_to_manager"
UNASSIGNED = "left_unassigned"

CODES = (
    RULE_MATCHED, RULE_FORWARD, RULE_LOOP, NO_RULE, NO_MEMBERS, NOT_AVAILABLE, ASSIGNED,
    ESCALATION_LOOP, ESCALATED_TEAM, ESCALATED_MANAGER, UNASSIGNED,
)  # fmt: skip

#: an agent's availability as a skipped agent shows it (the msgid is the stored value, as before)
AVAILABILITY_LABELS: dict[str, str] = {"away": N_("away"), "out_of_office": N_("out_of_office")}


def english(message: str) -> str:
    """The identity translation: the msgid is the English text."""
    return message


def _quoted(name: Any) -> str:
    """A rule name as routing always showed it (Python's quoting: ``'Billing'``)."""
    return repr(str(name))


def _skipped(agent: Mapping[str, Any], _: Translate) -> str:
    if agent.get("cap") is not None:
        return _("%(agent)s (at cap %(cap)s)") % {"agent": agent.get("agent", "?"), "cap": agent["cap"]}
    availability = str(agent.get("availability") or "?")
    label = AVAILABILITY_LABELS.get(availability)
    shown = _(label) if label else availability
    return _("%(agent)s (%(availability)s)") % {"agent": agent.get("agent", "?"), "availability": shown}


def _assigned(fact: Mapping[str, Any], _: Translate) -> str:
    why = []
    if fact.get("skills"):
        why.append(_("skills %(skills)s") % {"skills": ", ".join(str(s) for s in fact["skills"])})
    if fact.get("lang"):
        why.append(_("speaks %(lang)s") % {"lang": fact["lang"]})
    why.append(_("load %(load)s") % {"load": fact.get("load", 0)})
    if fact.get("round_robin"):
        why.append(_("round robin among %(count)s") % {"count": fact["round_robin"]})
    return _("assigned to %(agent)s: %(why)s") % {"agent": fact.get("agent", "?"), "why": "; ".join(why)}


def reason_text(reason: Any, translate: Translate = english) -> str:
    """One reason worded with ``translate`` (a gettext). A plain string (a row from before reasons
    were facts) is returned as it is; an unknown code shows its facts rather than nothing."""
    if isinstance(reason, str):
        return reason
    if not isinstance(reason, Mapping):
        return str(reason)
    _ = translate
    code = reason.get("code")
    if code == RULE_MATCHED:
        return _("rule %(rule)s matched: team %(team)s") % {
            "rule": _quoted(reason.get("rule")),
            "team": reason.get("team"),
        }
    if code == RULE_FORWARD:
        return _("rule %(rule)s forwards to rule %(target)s") % {
            "rule": _quoted(reason.get("rule")), "target": _quoted(reason.get("target")),
        }  # fmt: skip
    if code == RULE_LOOP:
        loop = " -> ".join(str(n) for n in reason.get("loop") or [])
        return _("rule %(rule)s matched but its forwards loop (%(loop)s); skipped") % {
            "rule": _quoted(reason.get("rule")), "loop": loop,
        }  # fmt: skip
    if code == NO_RULE:
        if reason.get("stays_in_team"):
            return _("no routing rule matched: the case stays in its team")
        return _("no routing rule matched")
    if code == NO_MEMBERS:
        return _("the team has no active members")
    if code == NOT_AVAILABLE:
        agents = ", ".join(_skipped(a, _) for a in reason.get("agents") or [] if isinstance(a, Mapping))
        return _("not available: %(agents)s") % {"agents": agents}
    if code == ASSIGNED:
        return _assigned(reason, _)
    if code == ESCALATION_LOOP:
        return _("escalation teams loop; stopped")
    if code == ESCALATED_TEAM:
        return _("nobody available: escalated to team %(team)s") % {"team": reason.get("team")}
    if code == ESCALATED_MANAGER:
        return _("nobody available: escalated to the manager %(manager)s") % {"manager": reason.get("manager")}
    if code == UNASSIGNED:
        return _("nobody available and no manager to escalate to: left unassigned in the team queue")
    return "; ".join(f"{k}: {v}" for k, v in reason.items())


def reason_texts(reasons: Iterable[Any] | None, translate: Translate = english) -> list[str]:
    """Every reason of a decision worded with ``translate`` (English by default)."""
    return [reason_text(r, translate) for r in reasons or []]

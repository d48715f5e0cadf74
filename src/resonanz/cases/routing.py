"""Choosing a team and an agent for a case.

:func:`route_case` is what the case core calls when a case is created (or re-routed):

1. **Team**: the enabled routing rules in order (``position``, then id); the first whose filter
   (:mod:`resonanz.cases.routing_filter`: the listening query language plus case fields) matches
   the case chooses its ``target_team_id``, or forwards to another rule whose target counts
   instead. A forward chain that loops is skipped with a reason (and refused when saved). No rule
   matching keeps the case's current team.
2. **Agent inside the team**: members who are available (``agent_status``: away / out of office
   until a time count as unavailable until then) and under their cap of open cases (own cap, else
   the team's ``default_cap``). Among them the best language match (the case's language in the
   agent's languages), then the most skill matches (skills vs. the case's tags, brand, matched
   queries and the mention's intent, folded), then the lowest load, then round robin: the first
   after the team's pointer (``routing_team.rr_last_user_id``), which then moves on.
3. **Escalation** when nobody is available: the team's escalation team (same choice, a chain that
   loops stops), else the team's manager; otherwise the case stays unassigned in the team queue.

Side effects, and only these: the round-robin pointer moves and a ``routing_decision`` row keeps
the reasons (when the case has an id). Reasons are language-free facts (dicts with a ``code``,
see :mod:`resonanz.cases.routing_wording`), worded in the reader's language when shown. The
caller applies ``team_id``/``assignee_id`` to the case through its own action (which writes the
audit row). Never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resonanz.accounts.models import Team, TeamMember, User, UserLanguage, UserSkill
from resonanz.cases import routing_wording as wording
from resonanz.cases.models import Case, CaseMention, CaseStatus
from resonanz.cases.routing_filter import CaseFacts, CompiledFilter, compile_filter
from resonanz.cases.routing_models import AgentStatus, Availability, RoutingDecisionRow, RoutingRule, RoutingTeam
from resonanz.clock import now
from resonanz.listening.history import doc_columns, to_doc
from resonanz.listening.models import Brand, Query, QueryMatch
from resonanz.listening.query.match import Doc
from resonanz.mentions.models import Author, Mention
from resonanz.mentions.text import fold
from resonanz.sources.models import Source

OPEN_STATUSES = (CaseStatus.new.value, CaseStatus.open.value, CaseStatus.pending.value)


@dataclass
class RoutingDecision:
    """Where a case goes and why: ``reason_facts`` are language-free facts (worded per reader by
    :mod:`resonanz.cases.routing_wording`); ``reasons`` words them in English (logs, tests)."""

    team_id: int | None
    assignee_id: int | None
    reason_facts: list[dict[str, Any]] = field(default_factory=list)
    rule_id: int | None = None
    escalated: bool = False

    @property
    def reasons(self) -> list[str]:
        return wording.reason_texts(self.reason_facts)


@lru_cache(maxsize=1024)
def compiled_rule(text: str) -> CompiledFilter:
    """Compiled filters by text (a rule's text changes rarely; compiling is the expensive part)."""
    return compile_filter(text)


def case_facts(session: Session, *, case: Case) -> CaseFacts:
    """The case as a rule sees it: the first mention's listening Doc (or the subject) + case fields."""
    first = session.scalar(
        select(CaseMention.mention_id)
        .where(CaseMention.case_id == case.id)
        .order_by(CaseMention.added_at, CaseMention.mention_id)
        .limit(1)
    )
    doc: Doc | None = None
    reach = 0
    queries: set[str] = set()
    brands: set[str] = set()
    if first is not None:
        row = session.execute(
            select(*doc_columns(), Author.followers)
            .select_from(Mention)
            .outerjoin(Source, Source.id == Mention.source_id)
            .outerjoin(Author, Author.id == Mention.author_id)
            .where(Mention.id == first)
        ).one_or_none()
        if row is not None:
            doc = to_doc(tuple(row)[:-1])
            reach = row[-1] or 0
        mention_ids = select(CaseMention.mention_id).where(CaseMention.case_id == case.id)
        for qid, qname, bname in session.execute(
            select(Query.id, Query.name, Brand.name)
            .join(QueryMatch, QueryMatch.query_id == Query.id)
            .outerjoin(Brand, Brand.id == Query.brand_id)
            .where(QueryMatch.mention_id.in_(mention_ids))
            .distinct()
        ):
            queries.update({str(qid), fold(qname).strip()})
            if bname:
                brands.add(fold(bname).strip())
    if doc is None:
        doc = Doc(text=case.subject or "", lang=case.lang, platform=case.platform)
    elif not reach and case.author_id is not None:
        reach = session.scalar(select(Author.followers).where(Author.id == case.author_id)) or 0
    if case.brand_id is not None:
        name = session.scalar(select(Brand.name).where(Brand.id == case.brand_id))
        if name:
            brands.add(fold(name).strip())
    return CaseFacts(
        doc=doc,
        brands=frozenset(brands),
        queries=frozenset(queries),
        priority=case.priority or "normal",
        reach=int(reach),
        tags=frozenset(fold(t).strip() for t in case.tags or ()),
    )


def forward_cycle(rules: dict[int, RoutingRule], start: int) -> list[int] | None:
    """The rule ids of a forward loop reachable from ``start``, or None."""
    seen: list[int] = []
    current: int | None = start
    while current is not None and current in rules:
        if current in seen:
            return [*seen[seen.index(current) :], current]
        seen.append(current)
        current = rules[current].forward_rule_id
    return None


def _rule_team(rules: dict[int, RoutingRule], rule: RoutingRule, reasons: list[dict[str, Any]]) -> int | None:
    loop = forward_cycle(rules, rule.id)
    if loop is not None:
        reasons.append({"code": wording.RULE_LOOP, "rule": rule.name, "loop": [rules[i].name for i in loop]})
        return None
    current = rule
    while current.forward_rule_id is not None and current.forward_rule_id in rules:
        current = rules[current.forward_rule_id]
        reasons.append({"code": wording.RULE_FORWARD, "rule": rule.name, "target": current.name})
    return current.target_team_id


def choose_team(
    session: Session, *, case: Case, facts: CaseFacts | None = None, batch: RoutingBatch | None = None
) -> RoutingDecision:
    """Step 1 only (no side effects): the team the rules choose, with reasons."""
    facts = facts or case_facts(session, case=case)
    if batch is not None and batch.rules is not None:
        all_rules = batch.rules
    else:
        all_rules = list(session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)))
        if batch is not None:
            batch.rules = all_rules
    by_id = {r.id: r for r in all_rules}
    reasons: list[dict[str, Any]] = []
    for rule in all_rules:
        if not rule.enabled:
            continue
        if not compiled_rule(rule.filter_text).test(facts):
            continue
        team_id = _rule_team(by_id, rule, reasons)
        if team_id is not None:
            team = session.get(Team, team_id)  # the identity map answers repeats without a query
            reasons.append(
                {"code": wording.RULE_MATCHED, "rule": rule.name, "team": team.name if team else team_id,
                 "team_id": team_id}
            )  # fmt: skip
            return RoutingDecision(team_id=team_id, assignee_id=None, reason_facts=reasons, rule_id=rule.id)
    reasons.append({"code": wording.NO_RULE, "stays_in_team": case.team_id is not None})
    return RoutingDecision(team_id=case.team_id, assignee_id=None, reason_facts=reasons)


@dataclass
class _Candidate:
    user: User
    lang_match: bool
    skills: list[str]
    load: int


def _available(status: AgentStatus | None, at: datetime) -> bool:
    if status is None or status.availability == Availability.online:
        return True
    return status.until is not None and status.until <= at


def _case_keywords(case: Case, facts: CaseFacts) -> set[str]:
    words = set(facts.tags) | set(facts.brands) | {q for q in facts.queries if not q.isdigit()}
    if facts.doc.intent:
        words.add(facts.doc.intent)
    return words


@dataclass
class _TeamData:
    """What choosing an agent of one team reads: active members, their status, open-case load
    (``loads``), languages and skills."""

    members: list[User]
    statuses: dict[int, AgentStatus]
    loads: dict[int, int]
    langs: dict[int, set[str]]
    skills: dict[int, set[str]]


@dataclass
class RoutingBatch:
    """Rules and team data read once for many new cases routed in one transaction
    (``route_case(..., batch=...)``), with each assignment added to the assignee's load in memory.

    Routing one case reads the rules, the members, their statuses, languages, skills and open-case
    loads: ~10 statements, the load count the costliest (it counts every open case of the team's
    members). A batch reads them once per team; the decisions equal one-by-one routing as long as
    nothing else changes members, statuses or assignments of those teams meanwhile (one
    transaction of new cases; on SQLite the writer holds the lock anyway). The caller applies each
    decision to its case, as without a batch."""

    rules: list[RoutingRule] | None = None
    teams: dict[int, _TeamData] = field(default_factory=dict)


def _team_data(session: Session, *, team_id: int, exclude_case_id: int | None) -> _TeamData | None:
    members = list(
        session.scalars(
            select(User)
            .join(TeamMember, TeamMember.user_id == User.id)
            .where(TeamMember.team_id == team_id, User.active.is_(True))
            .order_by(User.id)
        )
    )
    if not members:
        return None
    ids = [u.id for u in members]
    statuses = {s.user_id: s for s in session.scalars(select(AgentStatus).where(AgentStatus.user_id.in_(ids)))}
    load_query = (
        select(Case.assignee_id, func.count())
        .where(Case.assignee_id.in_(ids), Case.status.in_(OPEN_STATUSES))
        .group_by(Case.assignee_id)
    )
    if exclude_case_id is not None:
        load_query = load_query.where(Case.id != exclude_case_id)
    loads: dict[int, int] = {uid: n for uid, n in session.execute(load_query) if uid is not None}
    langs: dict[int, set[str]] = {}
    for uid, lang in session.execute(
        select(UserLanguage.user_id, UserLanguage.lang).where(UserLanguage.user_id.in_(ids))
    ):
        langs.setdefault(uid, set()).add(lang.lower())
    skills: dict[int, set[str]] = {}
    for uid, skill in session.execute(select(UserSkill.user_id, UserSkill.skill).where(UserSkill.user_id.in_(ids))):
        skills.setdefault(uid, set()).add(fold(skill).strip())
    return _TeamData(members, statuses, loads, langs, skills)


def _batched_team_data(session: Session, *, team_id: int, case: Case, batch: RoutingBatch) -> _TeamData | None:
    """The batch's data for ``team_id`` (read on first use); ``case``'s own open assignment is
    left out of its assignee's load, as :func:`_team_data` leaves it out of the count."""
    if team_id not in batch.teams:
        data = _team_data(session, team_id=team_id, exclude_case_id=None)  # loads of every open case
        if data is None:
            return None
        batch.teams[team_id] = data
    data = batch.teams[team_id]
    if case.assignee_id is not None and case.assignee_id in data.loads and case.status in OPEN_STATUSES:
        loads = dict(data.loads)
        loads[case.assignee_id] -= 1
        return _TeamData(data.members, data.statuses, loads, data.langs, data.skills)
    return data


def _add_load(batch: RoutingBatch, user_id: int, delta: int) -> None:
    """Count one open case more (or less) for ``user_id`` in every team of the batch they are in."""
    for data in batch.teams.values():
        if any(u.id == user_id for u in data.members):
            data.loads[user_id] = data.loads.get(user_id, 0) + delta


def choose_agent(
    session: Session,
    *,
    case: Case,
    team_id: int,
    facts: CaseFacts,
    reasons: list[dict[str, Any]],
    move_pointer: bool = True,
    batch: RoutingBatch | None = None,
) -> int | None:
    """Step 2: the best available agent of ``team_id`` (None when nobody is)."""
    at = now()
    settings = session.get(RoutingTeam, team_id)
    data = (
        _team_data(session, team_id=team_id, exclude_case_id=case.id)
        if batch is None
        else _batched_team_data(session, team_id=team_id, case=case, batch=batch)
    )
    if data is None:
        reasons.append({"code": wording.NO_MEMBERS, "team_id": team_id})
        return None
    members, statuses, loads, langs, skills = data.members, data.statuses, data.loads, data.langs, data.skills
    wanted = _case_keywords(case, facts)
    lang = (case.lang or facts.doc.lang or "").lower()
    candidates: list[_Candidate] = []
    skipped: list[dict[str, Any]] = []
    for user in members:
        status = statuses.get(user.id)
        if not _available(status, at):
            skipped.append({"agent": user.display_name, "agent_id": user.id,
                            "availability": status.availability if status else "?"})  # fmt: skip
            continue
        cap = (
            status.cap
            if status is not None and status.cap is not None
            else (settings.default_cap if settings else None)
        )
        load = loads.get(user.id, 0)
        if cap is not None and load >= cap:
            skipped.append({"agent": user.display_name, "agent_id": user.id, "cap": cap})
            continue
        matched = sorted(skills.get(user.id, set()) & wanted)
        candidates.append(_Candidate(user, bool(lang) and lang in langs.get(user.id, set()), matched, load))
    if skipped:
        reasons.append({"code": wording.NOT_AVAILABLE, "agents": skipped})
    if not candidates:
        return None
    pointer = settings.rr_last_user_id if settings else None
    order = {u.id: (0 if pointer is None or u.id > pointer else 1, u.id) for u in members}
    best = min(candidates, key=lambda c: (not c.lang_match, -len(c.skills), c.load, order[c.user.id]))
    tied = [
        c for c in candidates if (c.lang_match, len(c.skills), c.load) == (best.lang_match, len(best.skills), best.load)
    ]
    reasons.append(
        {"code": wording.ASSIGNED, "agent": best.user.display_name, "agent_id": best.user.id, "skills": best.skills,
         "lang": lang if best.lang_match else None, "load": best.load,
         "round_robin": len(tied) if len(tied) > 1 else None}
    )  # fmt: skip
    if move_pointer:
        if settings is None:
            settings = RoutingTeam(team_id=team_id)
            session.add(settings)
        settings.rr_last_user_id = best.user.id
    return best.user.id


def _escalate(
    session: Session,
    *,
    case: Case,
    team_id: int,
    facts: CaseFacts,
    reasons: list[dict[str, Any]],
    batch: RoutingBatch | None,
) -> tuple[int | None, int | None]:
    """Step 3: (team_id, assignee_id) after escalation, following escalation teams without loops."""
    visited = [team_id]
    current = team_id
    while True:
        settings = session.get(RoutingTeam, current)
        nxt = settings.escalation_team_id if settings else None
        if nxt is not None and nxt in visited:
            reasons.append({"code": wording.ESCALATION_LOOP})
            nxt = None
        if nxt is not None:
            visited.append(nxt)
            team = session.get(Team, nxt)
            reasons.append({"code": wording.ESCALATED_TEAM, "team": team.name if team else nxt, "team_id": nxt})
            agent = choose_agent(session, case=case, team_id=nxt, facts=facts, reasons=reasons, batch=batch)
            if agent is not None:
                return nxt, agent
            current = nxt
            continue
        for tid in visited:
            manager = session.get(RoutingTeam, tid)
            if manager is not None and manager.manager_id is not None:
                user = session.get(User, manager.manager_id)
                reasons.append(
                    {"code": wording.ESCALATED_MANAGER, "manager": user.display_name if user else manager.manager_id,
                     "manager_id": manager.manager_id}
                )  # fmt: skip
                return tid, manager.manager_id
        reasons.append({"code": wording.UNASSIGNED})
        return team_id, None


def route_case(session: Session, *, case: Case, batch: RoutingBatch | None = None) -> RoutingDecision:
    """Decide team and assignee for ``case`` (see the module docstring); records the decision.
    ``batch``: share rules and team data with the other cases routed in this transaction
    (:class:`RoutingBatch`)."""
    facts = case_facts(session, case=case)
    decision = choose_team(session, case=case, facts=facts, batch=batch)
    if decision.team_id is not None:
        agent = choose_agent(
            session, case=case, team_id=decision.team_id, facts=facts, reasons=decision.reason_facts, batch=batch
        )
        if agent is None:
            decision.escalated = True
            decision.team_id, agent = _escalate(
                session, case=case, team_id=decision.team_id, facts=facts, reasons=decision.reason_facts, batch=batch
            )
        decision.assignee_id = agent
    if batch is not None and decision.assignee_id != case.assignee_id:
        # the caller applies the decision: the new assignee gains an open case, the old one loses it
        if decision.assignee_id is not None:
            _add_load(batch, decision.assignee_id, 1)
        if case.assignee_id is not None and case.status in OPEN_STATUSES:
            _add_load(batch, case.assignee_id, -1)
    if case.id is not None:
        session.add(
            RoutingDecisionRow(
                case_id=case.id,
                rule_id=decision.rule_id,
                team_id=decision.team_id,
                assignee_id=decision.assignee_id,
                escalated=decision.escalated,
                reason_facts=decision.reason_facts,
                at=now(),
            )
        )
    session.flush()
    return decision


def last_decision(session: Session, *, case_id: int) -> RoutingDecisionRow | None:
    return session.scalar(
        select(RoutingDecisionRow)
        .where(RoutingDecisionRow.case_id == case_id)
        .order_by(RoutingDecisionRow.id.desc())
        .limit(1)
    )


def rules_matching(session: Session, *, facts: CaseFacts, rules: Sequence[RoutingRule]) -> list[int]:
    """Ids of ``rules`` whose filter matches (for the rule tester); bad filters are skipped."""
    return [r.id for r in rules if compiled_rule(r.filter_text).test(facts)]


@dataclass
class FilterTrial:
    """A filter tried on cases: which matched, how many were looked at, and warnings
    (e.g. it matches none of the recent cases — probably a typo in a value)."""

    matched: list[int]
    checked: int
    warnings: list[str] = field(default_factory=list)


def try_filter(
    session: Session, *, filter_text: str, case_ids: Sequence[int] | None = None, recent: int = 200
) -> FilterTrial:
    """Run a filter (raises QuerySyntaxError) on the given cases, or on the ``recent`` newest."""
    compiled = compiled_rule(filter_text)
    stmt = select(Case).order_by(Case.id.desc())
    stmt = stmt.where(Case.id.in_(case_ids)) if case_ids is not None else stmt.limit(recent)
    cases = list(session.scalars(stmt))
    matched = [c.id for c in cases if compiled.test(case_facts(session, case=c))]
    trial = FilterTrial(matched=matched, checked=len(cases))
    if cases and not matched:
        trial.warnings.append(f"matches none of the {len(cases)} cases tried")
    return trial

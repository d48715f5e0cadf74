"""Care admin settings beyond approval rules and blocked phrases (those live in
:mod:`resonanz.cases.approvals`): whether a CSAT link goes out on resolve (globally and per team)
and the installation's own profanity terms.

Every change writes an audit row with the value before and after, in the caller's transaction
(only the entry points commit). The global switch is a row of the key/value ``care_setting``
table, so it shares :func:`resonanz.cases.approvals.do_set_setting`'s audit trail with crisis mode.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.accounts.models import Team
from resonanz.audit.actions import Actor, do_record
from resonanz.cases import approvals
from resonanz.cases.care_settings_models import ProfanityTerm, TeamCareSetting
from resonanz.cases.models import Case
from resonanz.cases.policy import CHANNEL_LIMITS, ChannelLimit
from resonanz.clock import now
from resonanz.errors import ConflictError, InputError, NotFoundError

#: ``care_setting`` key of the global switch "send a CSAT link when a case is resolved"
CSAT_ON_RESOLVE = "csat_on_resolve"
PROFANITY_KIND = "profanity"


@dataclass(frozen=True)
class TeamCsat:
    """One team's CSAT switch: ``override`` is None when the team follows the global switch."""

    team_id: int
    team_name: str
    override: bool | None
    effective: bool


# --- CSAT switches --------------------------------------------------------------------------------


def csat_global(session: Session) -> bool:
    return bool(approvals.get_setting(session, key=CSAT_ON_RESOLVE, default=False))


def do_set_csat_global(session: Session, *, enabled: bool, actor: Actor | None) -> None:
    approvals.do_set_setting(session, key=CSAT_ON_RESOLVE, value=bool(enabled), actor=actor)


def team_csat(session: Session) -> list[TeamCsat]:
    """Every team with its override and the switch that applies to it, by name."""
    default = csat_global(session)
    overrides = {row.team_id: row.csat_enabled for row in session.scalars(select(TeamCareSetting))}
    out = []
    for team in session.scalars(select(Team).order_by(Team.name)):
        override = overrides.get(team.id)
        out.append(TeamCsat(team.id, team.name, override, default if override is None else override))
    return out


def do_set_team_csat(session: Session, *, team_id: int, enabled: bool | None, actor: Actor | None) -> None:
    """Override the global switch for one team (``None``: follow it again)."""
    if session.get(Team, team_id) is None:
        raise NotFoundError(f"team {team_id} does not exist")
    row = session.get(TeamCareSetting, team_id)
    before = None if row is None else row.csat_enabled
    if row is None:
        row = TeamCareSetting(team_id=team_id)
        session.add(row)
    row.csat_enabled = enabled
    row.updated_at = now()
    row.updated_by_id = actor.user_id if actor else None
    session.flush()
    do_record(session, actor=actor, action="care.team_setting", object_type="team", object_id=team_id,
              before={"csat_enabled": before}, after={"csat_enabled": enabled})  # fmt: skip


def csat_enabled_for(session: Session, *, case: Case) -> bool:
    """Does a resolution of ``case`` send a CSAT link? The case's team decides, else the global switch."""
    if case.team_id is not None:
        row = session.get(TeamCareSetting, case.team_id)
        if row is not None and row.csat_enabled is not None:
            return row.csat_enabled
    return csat_global(session)


# --- profanity terms ------------------------------------------------------------------------------


def list_profanity(session: Session) -> list[ProfanityTerm]:
    return list(session.scalars(select(ProfanityTerm).order_by(ProfanityTerm.term)))


def do_add_profanity(session: Session, *, term: str, actor: Actor | None) -> ProfanityTerm:
    term = " ".join(term.split())
    if not term or len(term) > 100:
        raise InputError("a word or phrase of 1 to 100 characters is needed", location="term")
    if session.scalar(select(ProfanityTerm).where(ProfanityTerm.term == term)) is not None:
        raise ConflictError(f"{term!r} is on the profanity list already")
    row = ProfanityTerm(term=term, created_at=now(), created_by_id=actor.user_id if actor else None)
    session.add(row)
    session.flush()
    do_record(session, actor=actor, action="care.profanity.add", object_type="profanity_term", object_id=row.id,
              after={"term": term})  # fmt: skip
    return row


def do_remove_profanity(session: Session, *, id: int, actor: Actor | None) -> None:
    row = session.get(ProfanityTerm, id)
    if row is None:
        raise NotFoundError(f"profanity term {id} does not exist")
    do_record(session, actor=actor, action="care.profanity.remove", object_type="profanity_term", object_id=id,
              before={"term": row.term})  # fmt: skip
    session.delete(row)
    session.flush()


def profanity_terms(session: Session) -> list[str]:
    return [row.term for row in list_profanity(session)]


# --- channel limits (read-only) -------------------------------------------------------------------


def channel_limits() -> dict[str, ChannelLimit]:
    """The per platform reply limits the policy check applies (fixed by the platforms, not configurable)."""
    return dict(sorted(CHANNEL_LIMITS.items()))

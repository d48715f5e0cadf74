"""Teams and departments, and what each person can do (skills) and speak (languages): the facts
case routing will choose by. Reads and ``do_*`` writes in one small module, because routing (a
later issue) only needs these few; each write records an audit row like every accounts action.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from resonanz.accounts.models import Team, TeamKind, TeamMember, User, UserLanguage, UserSkill
from resonanz.audit.actions import Actor, do_record
from resonanz.errors import ConflictError, InputError, NotFoundError


def _clean_tags(values: Iterable[str], *, max_len: int, what: str) -> list[str]:
    tags = sorted({v.strip().lower() for v in values if v.strip()})
    for tag in tags:
        if len(tag) > max_len:
            raise InputError(f"a {what} has at most {max_len} characters: {tag[:20]!r}…", location=what)
    return tags


def get_team(session: Session, *, id: int) -> Team:
    team = session.get(Team, id)
    if team is None:
        raise NotFoundError(f"no team with id {id}")
    return team


def list_teams(session: Session) -> Sequence[Team]:
    return session.scalars(select(Team).order_by(Team.name)).all()


def members_of(session: Session, *, team_id: int) -> Sequence[User]:
    stmt = select(User).join(TeamMember, TeamMember.user_id == User.id).where(TeamMember.team_id == team_id)
    return session.scalars(stmt.order_by(User.email)).all()


def teams_of(session: Session, *, user_id: int) -> Sequence[Team]:
    stmt = select(Team).join(TeamMember, TeamMember.team_id == Team.id).where(TeamMember.user_id == user_id)
    return session.scalars(stmt.order_by(Team.name)).all()


def skills_of(session: Session, *, user_id: int) -> list[str]:
    return list(session.scalars(select(UserSkill.skill).where(UserSkill.user_id == user_id).order_by(UserSkill.skill)))


def languages_of(session: Session, *, user_id: int) -> list[str]:
    stmt = select(UserLanguage.lang).where(UserLanguage.user_id == user_id).order_by(UserLanguage.lang)
    return list(session.scalars(stmt))


def do_create_team(session: Session, *, name: str, kind: TeamKind | str = TeamKind.team, actor: Actor | None) -> Team:
    label = name.strip()
    if not label or len(label) > 100:
        raise InputError("a team name has 1 to 100 characters", location="name")
    try:
        team_kind = TeamKind(kind)
    except ValueError as exc:
        raise InputError(f"unknown kind {kind!r}; use 'team' or 'department'", location="kind") from exc
    if session.scalar(select(Team.id).where(Team.name == label)) is not None:
        raise ConflictError(f"a team named {label!r} exists already")
    team = Team(name=label, kind=team_kind)
    session.add(team)
    session.flush()
    do_record(
        session,
        actor=actor,
        action="team.create",
        object_type="team",
        object_id=team.id,
        after={"name": label, "kind": team_kind.value},
    )
    return team


def do_add_team_member(session: Session, *, team: Team, user: User, actor: Actor | None) -> None:
    if session.get(TeamMember, (team.id, user.id)) is not None:
        return
    session.add(TeamMember(team_id=team.id, user_id=user.id))
    session.flush()
    do_record(
        session,
        actor=actor,
        action="team.add_member",
        object_type="team",
        object_id=team.id,
        after={"user_id": user.id},
    )


def do_remove_team_member(session: Session, *, team: Team, user: User, actor: Actor | None) -> None:
    member = session.get(TeamMember, (team.id, user.id))
    if member is None:
        return
    session.delete(member)
    session.flush()
    do_record(
        session,
        actor=actor,
        action="team.remove_member",
        object_type="team",
        object_id=team.id,
        before={"user_id": user.id},
    )


def do_set_skills(session: Session, *, user: User, skills: Iterable[str], actor: Actor | None) -> list[str]:
    """Replace the user's skills (tags are trimmed, lower-cased and de-duplicated)."""
    new = _clean_tags(skills, max_len=60, what="skill")
    before = skills_of(session, user_id=user.id)
    if new == before:
        return new
    session.execute(delete(UserSkill).where(UserSkill.user_id == user.id))
    session.add_all(UserSkill(user_id=user.id, skill=s) for s in new)
    session.flush()
    do_record(
        session,
        actor=actor,
        action="user.set_skills",
        object_type="user",
        object_id=user.id,
        before={"skills": before},
        after={"skills": new},
    )
    return new


def do_set_languages(session: Session, *, user: User, languages: Iterable[str], actor: Actor | None) -> list[str]:
    """Replace the languages the user answers customers in (ISO 639-1 codes such as 'de')."""
    new = _clean_tags(languages, max_len=8, what="language")
    bad = [code for code in new if not (2 <= len(code) <= 3 and code.isalpha() and code.isascii())]
    if bad:
        raise InputError(f"use ISO 639-1 codes such as 'de' or 'en', not {bad[0]!r}", location="languages")
    before = languages_of(session, user_id=user.id)
    if new == before:
        return new
    session.execute(delete(UserLanguage).where(UserLanguage.user_id == user.id))
    session.add_all(UserLanguage(user_id=user.id, lang=code) for code in new)
    session.flush()
    do_record(
        session,
        actor=actor,
        action="user.set_languages",
        object_type="user",
        object_id=user.id,
        before={"languages": before},
        after={"languages": new},
    )
    return new

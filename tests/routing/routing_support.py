"""Factories for routing tests: teams with members, skills and languages; cases and mentions
created directly with the models (the case core's actions are another area's)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from resonanz.accounts.models import Team, TeamMember, User, UserLanguage, UserSkill
from resonanz.cases.models import Case, CaseMention
from resonanz.clock import now
from resonanz.mentions.models import Author, Mention
from tests.support.accounts_factory import make_user

_seq = itertools.count(1)
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def make_team(session: Session, name: str, members: Iterable[User] = ()) -> Team:
    team = Team(name=name, kind="team")
    session.add(team)
    session.flush()
    for user in members:
        session.add(TeamMember(team_id=team.id, user_id=user.id))
    session.flush()
    return team


def make_agent(
    session: Session, name: str, *, langs: Iterable[str] = (), skills: Iterable[str] = (), role: str = "agent"
) -> User:
    user = make_user(session, role=role, display_name=name)
    for lang in langs:
        session.add(UserLanguage(user_id=user.id, lang=lang))
    for skill in skills:
        session.add(UserSkill(user_id=user.id, skill=skill))
    session.flush()
    return user


def make_case(session: Session, *, subject: str = "Frage", at: datetime | None = None, **kw: Any) -> Case:
    stamp = at or now()
    kw.setdefault("platform", "email")
    kw.setdefault("status", "new")
    kw.setdefault("priority", "normal")
    kw.setdefault("tags", [])
    kw.setdefault("priority_reasons", [])
    case = Case(subject=subject, created_at=stamp, updated_at=stamp, **kw)
    session.add(case)
    session.flush()
    return case


def add_mention(session: Session, case: Case, *, text: str, followers: int | None = None, **kw: Any) -> Mention:
    n = next(_seq)
    stamp = case.created_at
    author = Author(
        platform=case.platform, handle=f"kunde{n}", followers=followers, first_seen_at=stamp, last_seen_at=stamp
    )
    session.add(author)
    session.flush()
    mention = Mention(
        platform=case.platform, external_id=f"m{n}", published_at=stamp, fetched_at=stamp, updated_at=stamp,
        text=text, content_hash=f"h{n}", revision_hash=f"r{n}", author_id=author.id, **kw,
    )  # fmt: skip
    session.add(mention)
    session.flush()
    session.add(CaseMention(case_id=case.id, mention_id=mention.id, added_at=stamp))
    session.flush()
    return mention

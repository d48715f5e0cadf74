"""Teams, departments, skills and languages (what routing will choose by)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from resonanz.accounts import teams
from resonanz.accounts.models import TeamKind
from resonanz.audit.service import list_events
from resonanz.errors import ConflictError, InputError
from tests.support.accounts_factory import make_user


def test_teams_and_members(session: Session) -> None:
    anna, ben = make_user(session), make_user(session)
    support = teams.do_create_team(session, name=" Support ", actor=None)
    sales = teams.do_create_team(session, name="Sales", kind="department", actor=None)
    assert (support.name, support.kind, sales.kind) == ("Support", TeamKind.team, TeamKind.department)
    with pytest.raises(ConflictError):
        teams.do_create_team(session, name="Support", actor=None)
    with pytest.raises(InputError):
        teams.do_create_team(session, name="X", kind="guild", actor=None)
    teams.do_add_team_member(session, team=support, user=anna, actor=None)
    teams.do_add_team_member(session, team=support, user=anna, actor=None)  # idempotent
    teams.do_add_team_member(session, team=support, user=ben, actor=None)
    teams.do_add_team_member(session, team=sales, user=anna, actor=None)
    assert {u.id for u in teams.members_of(session, team_id=support.id)} == {anna.id, ben.id}
    assert [t.name for t in teams.teams_of(session, user_id=anna.id)] == ["Sales", "Support"]
    teams.do_remove_team_member(session, team=support, user=ben, actor=None)
    assert [u.id for u in teams.members_of(session, team_id=support.id)] == [anna.id]
    assert [t.name for t in teams.list_teams(session)] == ["Sales", "Support"]
    assert len(list_events(session, object_type="team", object_id=support.id)) == 4  # create, 2 adds, remove


def test_skills_and_languages(session: Session) -> None:
    user = make_user(session)
    assert teams.do_set_skills(session, user=user, skills=["Billing", " returns ", "billing", ""], actor=None) == [
        "billing",
        "returns",
    ]
    assert teams.skills_of(session, user_id=user.id) == ["billing", "returns"]
    assert teams.do_set_languages(session, user=user, languages=["DE", "en"], actor=None) == ["de", "en"]
    assert teams.languages_of(session, user_id=user.id) == ["de", "en"]
    with pytest.raises(InputError, match="ISO 639-1"):
        teams.do_set_languages(session, user=user, languages=["deutsch"], actor=None)
    teams.do_set_skills(session, user=user, skills=[], actor=None)
    assert teams.skills_of(session, user_id=user.id) == []
    changes = [e.action for e in list_events(session, object_type="user", object_id=user.id)]
    assert changes.count("user.set_skills") == 2 and changes.count("user.set_languages") == 1

"""Users: passwords, e-mails, roles, deactivation and the audit rows every action writes."""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.accounts import passwords, service
from resonanz.accounts.actions import (
    do_change_password,
    do_create_api_token,
    do_create_user,
    do_deactivate_user,
    do_set_role,
    do_sign_in,
    do_update_user,
)
from resonanz.accounts.models import User
from resonanz.accounts.permissions import Permission, Role
from resonanz.accounts.schemas import UserUpdate
from resonanz.audit.models import AuditEvent
from resonanz.audit.service import list_events
from resonanz.errors import AuthenticationError, ConflictError, InputError
from tests.support.accounts_factory import DEFAULT_PASSWORD, FAST_HASHER, make_user


def test_password_is_hashed_with_argon2_and_email_lower_cased(session: Session) -> None:
    user = make_user(session, email="  Anna.Schmidt@Example.COM ")
    assert user.email == "anna.schmidt@example.com"
    assert user.password_hash.startswith("$argon2id$") and DEFAULT_PASSWORD not in user.password_hash
    assert passwords.verify_password(user.password_hash, DEFAULT_PASSWORD)
    assert not passwords.verify_password(user.password_hash, DEFAULT_PASSWORD + "x")


def test_same_email_in_other_case_is_a_conflict(session: Session) -> None:
    make_user(session, email="bob@example.com")
    with pytest.raises(ConflictError, match="exists already"):
        make_user(session, email="BOB@example.com")


@pytest.mark.parametrize(
    ("kw", "location", "message"),
    [
        ({"password": "short"}, "password", "at least 10 characters"),
        ({"email": "not-an-address"}, "email", "not an e-mail address"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "unknown time zone"),
        ({"role": "overlord"}, "role", None),
        ({"language": "fr"}, "language", None),
    ],
)
def test_bad_user_input_names_the_field(
    session: Session, kw: dict[str, str], location: str, message: str | None
) -> None:
    args = {"email": "x@example.com", "display_name": "X", "password": "long enough password", **kw}
    with pytest.raises(InputError) as info:
        do_create_user(session, actor=None, **args)  # type: ignore[arg-type]
    assert info.value.location == location
    if message:
        assert message in info.value.reason


def test_sign_in_rehashes_when_parameters_change(session: Session) -> None:
    user = make_user(session)
    old_hash = user.password_hash
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    passwords.set_hasher(stronger)
    try:
        do_sign_in(session, email=user.email, password=DEFAULT_PASSWORD, ip="1.2.3.4", user_agent=None)
        session.commit()
        assert user.password_hash != old_hash and "m=2048,t=2" in user.password_hash
        assert not passwords.needs_rehash(user.password_hash)
    finally:
        passwords.set_hasher(FAST_HASHER)


def test_default_hasher_is_argon2id_with_library_defaults() -> None:
    passwords.set_hasher(None)
    try:
        hashed = passwords.hash_password("a password of some length")
        assert hashed.startswith("$argon2id$") and "m=65536" in hashed
    finally:
        passwords.set_hasher(FAST_HASHER)


def test_roles_and_last_admin_guard(session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    viewer = make_user(session, role=Role.viewer)
    do_set_role(session, user=viewer, role="analyst", actor=None)
    assert viewer.role == Role.analyst
    with pytest.raises(ConflictError, match="last active admin"):
        do_set_role(session, user=admin, role=Role.viewer, actor=None)
    with pytest.raises(ConflictError, match="last active admin"):
        do_deactivate_user(session, user=admin, actor=None)
    with pytest.raises(InputError, match="unknown role"):
        do_set_role(session, user=viewer, role="root", actor=None)


def test_update_user_keeps_unset_fields_and_clears_language(session: Session) -> None:
    user = make_user(session, language="de", time_zone="Europe/Berlin")
    do_update_user(session, user=user, data=UserUpdate(display_name="Neu"), actor=None)
    assert (user.display_name, user.language, user.time_zone) == ("Neu", "de", "Europe/Berlin")
    do_update_user(session, user=user, data=UserUpdate(language=None), actor=None)
    assert user.language is None and user.time_zone == "Europe/Berlin"


def test_change_password_needs_the_current_one(session: Session) -> None:
    user = make_user(session)
    with pytest.raises(InputError, match="current password is wrong"):
        do_change_password(session, user=user, current_password="nope nope nope", new_password="x" * 12, actor=None)
    with pytest.raises(InputError, match="at least 10"):
        do_change_password(session, user=user, current_password=DEFAULT_PASSWORD, new_password="short", actor=None)
    do_change_password(
        session, user=user, current_password=DEFAULT_PASSWORD, new_password="a brand new secret", actor=None
    )
    session.commit()
    with pytest.raises(AuthenticationError):
        do_sign_in(session, email=user.email, password=DEFAULT_PASSWORD, ip="1.1.1.1", user_agent=None)
    do_sign_in(session, email=user.email, password="a brand new secret", ip="1.1.1.1", user_agent=None)


def test_every_action_writes_an_audit_row_without_secrets(session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    raw_session, principal = do_sign_in(
        session, email=admin.email, password=DEFAULT_PASSWORD, ip="10.0.0.1", user_agent="ua"
    )
    user = do_create_user(
        session,
        email="new@example.com",
        display_name="New",
        password="new user password",
        actor=principal,
        ip="10.0.0.1",
    )
    do_set_role(session, user=user, role=Role.manager, actor=principal)
    raw_token, token = do_create_api_token(session, user_id=user.id, name="script", actor=principal)
    do_change_password(
        session, user=user, current_password="new user password", new_password="another password", actor=principal
    )
    do_deactivate_user(session, user=user, actor=principal)
    session.commit()

    actions = [e.action for e in reversed(list_events(session))]
    assert actions == [
        "user.create",  # the admin, by the factory
        "user.sign_in",
        "user.create",
        "user.set_role",
        "api_token.create",
        "user.change_password",
        "user.deactivate",
    ]
    assert list_events(session, action="user.sign_in")[0].actor_user_id == admin.id
    create = list_events(session, object_type="user", object_id=user.id, action="user.create")[0]
    assert create.actor_user_id == admin.id and create.ip == "10.0.0.1"
    assert create.after is not None and create.after["email"] == "new@example.com"
    role = list_events(session, object_type="user", object_id=user.id, action="user.set_role")[0]
    assert role.before is not None and role.after is not None
    assert (role.before["role"], role.after["role"]) == ("agent", "manager")
    deactivate = list_events(session, action="user.deactivate")[0]
    assert deactivate.after is not None
    assert deactivate.after["active"] is False and deactivate.after["tokens_revoked"] == 1

    dump = json.dumps([(e.before, e.after) for e in session.scalars(select(AuditEvent))])
    for secret in (raw_session, raw_token, token.token_hash, "new user password", "another password", "$argon2"):
        assert secret not in dump


def test_audit_survives_deleting_the_actor(session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    other = make_user(session, role=Role.admin)
    do_set_role(session, user=other, role=Role.viewer, actor=service.principal_for(admin))
    session.commit()
    session.delete(admin)
    session.commit()
    event = list_events(session, action="user.set_role")[0]
    assert event.actor_user_id is None and event.object_id == str(other.id)


def test_list_and_count_users(session: Session) -> None:
    make_user(session, email="zoe@example.com", display_name="Zoë Zander", role=Role.viewer)
    make_user(session, email="adam@example.com", display_name="Adam_Ant", role=Role.admin)
    assert [u.email for u in service.list_users(session)] == ["adam@example.com", "zoe@example.com"]
    assert [u.email for u in service.list_users(session, q="ZAND")] == ["zoe@example.com"]
    assert [u.email for u in service.list_users(session, q="_")] == ["adam@example.com"]  # _ is literal
    assert [u.email for u in service.list_users(session, role=Role.viewer)] == ["zoe@example.com"]
    assert service.count_users(session) == 2
    assert service.find_user(session, ref="ZOE@example.com").display_name == "Zoë Zander"


def test_principal_permissions_follow_the_table(session: Session) -> None:
    viewer = service.principal_for(make_user(session, role=Role.viewer))
    assert viewer.can(Permission.mentions_read) and not viewer.can(Permission.users_manage)
    assert isinstance(session.get(User, viewer.user_id), User)

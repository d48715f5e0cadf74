"""``resonanz demo`` as a new user runs it: builds the workspace, serves it, prints the URL and a
sign-in that works, and stops cleanly."""

from __future__ import annotations

import re

from sqlalchemy import select

from resonanz.accounts import passwords
from resonanz.accounts.models import User
from resonanz.accounts.permissions import Role
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.demo.users import DEMO_PASSWORD, DEMO_USERS, demo_password, do_ensure_demo_users
from tests.support import accounts_factory  # noqa: F401  (cheap argon2 parameters for this module)

URL_LINE = re.compile(r"open (http://127\.0\.0\.1:\d+/) and sign in as (\S+) / (\S+) \(DEMO\)")


def test_demo_users_cover_every_working_role_in_both_languages_and_the_sign_in_is_restored(db: Database) -> None:
    with transaction(db.sessions) as session:
        do_ensure_demo_users(session, password=DEMO_PASSWORD)
    with transaction(db.sessions) as session:
        users = {u.email: u for u in session.scalars(select(User))}
        assert set(users) == {u.email for u in DEMO_USERS}
        assert {Role(u.role) for u in users.values()} == {Role.admin, Role.manager, Role.agent, Role.analyst}
        assert {u.language for u in users.values()} == {"de", "en"}
        assert all(u.display_name.endswith("(Demo)") and u.email.startswith("demo-") for u in users.values())
        # somebody changed the admin's password and role and deactivated the agent in the demo
        admin = users[DEMO_USERS[0].email]
        admin.password_hash, admin.role = passwords.hash_password("something else entirely"), Role.viewer
        users[DEMO_USERS[2].email].active = False
    with transaction(db.sessions) as session:  # the next ``resonanz demo`` restores the printed sign-in
        do_ensure_demo_users(session, password=DEMO_PASSWORD)
    with db.sessions() as session:
        users = {u.email: u for u in session.scalars(select(User))}
        assert len(users) == len(DEMO_USERS)
        assert all(u.active and passwords.verify_password(u.password_hash, DEMO_PASSWORD) for u in users.values())
        assert users[DEMO_USERS[0].email].role == Role.admin


def test_a_shared_database_gets_a_random_demo_password_never_the_published_one() -> None:
    assert demo_password(own_database=True) == DEMO_PASSWORD
    first, second = demo_password(own_database=False), demo_password(own_database=False)
    assert DEMO_PASSWORD not in (first, second) and first != second and len(first) >= 16

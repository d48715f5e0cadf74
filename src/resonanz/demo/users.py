"""The demo's people: one admin, manager, agent and analyst, in German and English.

Why a fixed password only in the demo's own database: ``resonanz demo`` prints it, the README and
screenshots show the sign-in, and nothing but invented data sits behind it. When the demo was told
to go into a configured database (which may hold real data and real people), a known password
would be a door left open, so each run there picks a fresh random password instead, prints it once
and sets it on the demo users again.

Every demo user is labelled as such: e-mail ``demo-…@nordwelle.example`` (a reserved ``.example``
domain) and a display name ending in "(Demo)".
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from resonanz.accounts import passwords
from resonanz.accounts.actions import do_create_user
from resonanz.accounts.permissions import Role
from resonanz.accounts.service import get_user_by_email
from resonanz.audit.actions import do_record
from resonanz.demo.world import DEMO_AUTHOR_SUFFIX, OWN

#: The sign-in of the demo's own database (demo.db), printed by ``resonanz demo``. DEMO ONLY.
DEMO_PASSWORD = "demo-resonanz"  # noqa: S105 (printed on purpose; demo.db only, see the module docstring)


@dataclass(frozen=True)
class DemoUser:
    email: str
    display_name: str
    role: Role
    language: str
    time_zone: str


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(f"demo-admin@{OWN.domain}", f"Ada Admin {DEMO_AUTHOR_SUFFIX}", Role.admin, "en", "Europe/Berlin"),
    DemoUser(f"demo-manager@{OWN.domain}", f"Maria Becker {DEMO_AUTHOR_SUFFIX}", Role.manager, "de", "Europe/Berlin"),
    DemoUser(f"demo-agent@{OWN.domain}", f"Jonas Weber {DEMO_AUTHOR_SUFFIX}", Role.agent, "de", "Europe/Berlin"),
    DemoUser(f"demo-analyst@{OWN.domain}", f"Sam Carter {DEMO_AUTHOR_SUFFIX}", Role.analyst, "en", "Europe/London"),
)


def demo_password(*, own_database: bool) -> str:
    """The fixed demo password in the demo's own database, else a fresh random one."""
    return DEMO_PASSWORD if own_database else "demo-" + secrets.token_urlsafe(12)


def do_ensure_demo_users(session: Session, *, password: str) -> tuple[DemoUser, ...]:
    """Create the demo users that are missing and give every one of them ``password`` (and the
    demo's role and language again), so the printed sign-in always works. Returns them."""
    for demo_user in DEMO_USERS:
        user = get_user_by_email(session, email=demo_user.email)
        if user is None:
            do_create_user(
                session,
                email=demo_user.email,
                display_name=demo_user.display_name,
                password=password,
                role=demo_user.role,
                language=demo_user.language,
                time_zone=demo_user.time_zone,
                actor=None,
            )
            continue
        if passwords.verify_password(user.password_hash, password) and user.active and user.role == demo_user.role:
            continue
        user.password_hash = passwords.hash_password(password)
        user.role = demo_user.role
        user.active = True
        session.flush()
        do_record(session, actor=None, action="demo.reset_user", object_type="user", object_id=user.id)
    return DEMO_USERS

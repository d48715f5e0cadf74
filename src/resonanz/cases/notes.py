"""@mentions in internal notes: which colleagues a note names.

A handle is ``@`` followed by the part of a colleague's e-mail address before the ``@``
(``@anna.schmidt`` for anna.schmidt@example.com) or by their display name without spaces, or with
dots or dashes for spaces (``@AnnaSchmidt``, ``@anna.schmidt``, ``@anna-schmidt``); case does not
matter. E-mail addresses in a note (``write to bob@example.com``) are not mentions: a handle must
not follow a word character. Parsing is pure; resolving reads the active users once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.accounts.models import User

_HANDLE = re.compile(r"(?<![\w@.])@([A-Za-z0-9][\w.\-]{0,63})")


def parse_handles(body: str) -> list[str]:
    """The handles a text names, lower-cased, in order of first appearance, without trailing
    punctuation ("@anna." at the end of a sentence is ``anna``)."""
    seen: dict[str, None] = {}
    for match in _HANDLE.finditer(body):
        handle = match.group(1).rstrip(".-_").lower()
        if handle:
            seen.setdefault(handle, None)
    return list(seen)


def handles_of(email: str, display_name: str) -> set[str]:
    """Every handle that names this person."""
    local = email.split("@", 1)[0].lower()
    words = [w for w in re.split(r"\s+", display_name.strip().lower()) if w]
    names = {"".join(words), ".".join(words), "-".join(words), "_".join(words)} if words else set()
    return {local, *names} - {""}


def resolve_handles(session: Session, handles: Iterable[str]) -> dict[str, User]:
    """Handle -> the active colleague it names; a handle naming two people names neither (say
    which one you mean with the e-mail part)."""
    wanted = set(handles)
    if not wanted:
        return {}
    found: dict[str, list[User]] = {}
    for user in session.scalars(select(User).where(User.active.is_(True))):
        for handle in handles_of(user.email, user.display_name) & wanted:
            found.setdefault(handle, []).append(user)
    return {h: users[0] for h, users in found.items() if len({u.id for u in users}) == 1}


def mentioned_users(session: Session, body: str) -> Sequence[User]:
    resolved = resolve_handles(session, parse_handles(body))
    unique: dict[int, User] = {}
    for user in resolved.values():
        unique.setdefault(user.id, user)
    return list(unique.values())

"""Who reads a notification in which language and zone: one message is worded per group.

Alerts and reports both go to chosen users (each with their own language and zone) and to extra
addresses (which read a default). Grouping them here keeps the two from drifting apart: the same
address is never sent twice, a user without a language reads the default's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.accounts.models import User
from resonanz.i18n import negotiate


@dataclass(frozen=True)
class Readers:
    """E-mail addresses that read one language in one zone (one message is worded for them)."""

    language: str
    time_zone: str
    to: list[str]


def group_readers(
    session: Session,
    *,
    user_ids: Sequence[int],
    emails: Sequence[str],
    language: str,
    time_zone: str,
    users_zone: bool = True,
    lower: bool = False,
) -> list[Readers]:
    """The active users among ``user_ids`` grouped by their language (and, with ``users_zone``,
    their zone), then ``emails`` not already among them in ``language`` / ``time_zone``. ``lower``:
    addresses in lower case (what a report keeps on its runs). Groups in the order first met."""
    groups: dict[tuple[str, str], list[str]] = {}
    if user_ids:
        stmt = select(User.email, User.language, User.time_zone).where(User.id.in_(user_ids), User.active.is_(True))
        for email, user_language, user_zone in session.execute(stmt.order_by(User.id)):
            key = (negotiate(None, user_language or language), (user_zone if users_zone else None) or time_zone)
            groups.setdefault(key, []).append(email.lower() if lower else email)
    taken = {a.lower() for addresses in groups.values() for a in addresses}
    extra = [a.lower() if lower else a for a in emails if a.lower() not in taken]
    if extra:
        groups.setdefault((negotiate(None, language), time_zone), []).extend(extra)
    return [Readers(lang, zone, list(dict.fromkeys(to))) for (lang, zone), to in groups.items()]

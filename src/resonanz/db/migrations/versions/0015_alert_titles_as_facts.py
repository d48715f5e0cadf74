"""alert titles keep the watched scope only (issue 5: alerts are worded per reader)

Until now ``alert.title`` stored an English sentence ("Volume spike: Nordwelle — 60 mentions in
the hour …"). Readers now get the kind and the numbers worded in their own language at read time
(from ``kind`` and ``explanation``, which always held the facts), so the title keeps only the
language-free part: the name of the query or brand the rule watched when it fired. This rewrites
the stored sentences to that name. Downgrade leaves the names (older code shows a title as text).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the English kind titles the old sentences began with
_OLD_KIND_TITLES = ("Volume spike", "Negative-share surge", "New influential author", "Keyword appears", "Crisis score")


def legacy_scope(title: str) -> str | None:
    """The scope in an old ``"<Kind>: <scope> — <sentence>"`` title; None when it is not one."""
    head, sep, _sentence = title.rpartition(" — ")
    kind, colon, scope = head.partition(": ")
    if not sep or not colon or kind not in _OLD_KIND_TITLES or not scope:
        return None
    return scope


def upgrade() -> None:
    bind = op.get_bind()
    alert = sa.table("alert", sa.column("id", sa.Integer), sa.column("title", sa.Text))
    rows = bind.execute(sa.select(alert.c.id, alert.c.title)).all()
    for row_id, title in rows:
        scope = legacy_scope(title or "")
        if scope is not None:
            bind.execute(sa.update(alert).where(alert.c.id == row_id).values(title=scope))


def downgrade() -> None:
    pass

"""dashboard rollups (owned by the dashboards work)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from resonanz.db.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rollup_hour",
        sa.Column("scope_kind", sa.String(length=8), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("dim", sa.String(length=10), nullable=False),
        sa.Column("hour", UTCDateTime(timezone=True), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("reach", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope_kind", "scope_id", "dim", "hour", "value", name=op.f("pk_rollup_hour")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("rollup_hour", schema=None) as batch_op:
        batch_op.create_index("ix_rollup_hour_hour", ["hour"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rollup_hour", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_hour_hour")
    op.drop_table("rollup_hour")

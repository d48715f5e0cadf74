"""daily rollups, match sets and the rollup ledger for the dashboards

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28

The hourly rows gain a ``total`` dimension and every mention a ledger row, which the old rows do
not have: they are emptied here, and on a store that holds mentions a ``listening.rollups.rebuild``
job is queued, so the worker counts them again (``resonanz analytics rebuild`` does the same at
once, in the foreground; docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from resonanz.db.types import UTCDateTime, json_type

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def queue_rebuild(conn: sa.Connection) -> bool:
    """Queue the rollup rebuild when there is something to count (a new store has no mentions:
    nothing to queue). Plain SQL over this revision's ``job`` columns, not the worker's model,
    so a later change to the model cannot break this step; the dedupe key keeps it to one job."""
    if conn.execute(sa.text("SELECT 1 FROM mention LIMIT 1")).first() is None:
        return False
    job = sa.table(
        "job",
        sa.column("kind", sa.String),
        sa.column("payload", json_type()),
        sa.column("dedupe_key", sa.String),
        sa.column("state", sa.String),
        sa.column("priority", sa.Integer),
        sa.column("run_at", UTCDateTime()),
        sa.column("attempts", sa.Integer),
        sa.column("max_attempts", sa.Integer),
        sa.column("created_at", UTCDateTime()),
    )
    stamp = datetime.now(UTC)
    conn.execute(
        job.insert().values(
            kind="listening.rollups.rebuild", payload={}, dedupe_key="listening.rollups.rebuild", state="pending",
            priority=100, run_at=stamp, attempts=0, max_attempts=5, created_at=stamp,
        )
    )  # fmt: skip
    return True


def upgrade() -> None:
    op.execute("DELETE FROM rollup_hour")
    op.create_table(
        "rollup_day",
        sa.Column("scope_kind", sa.String(length=8), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("dim", sa.String(length=10), nullable=False),
        sa.Column("day", UTCDateTime(timezone=True), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("reach", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope_kind", "scope_id", "dim", "day", "value", name=op.f("pk_rollup_day")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("rollup_day", schema=None) as batch_op:
        batch_op.create_index("ix_rollup_day_day", ["day"], unique=False)
    op.create_table(
        "rollup_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=40), nullable=False),
        sa.Column("query_ids", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollup_set")),
        sa.UniqueConstraint("digest", name=op.f("uq_rollup_set_digest")),
    )
    op.create_table(
        "rollup_set_query",
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_id"], ["rollup_set.id"], name=op.f("fk_rollup_set_query_set_id_rollup_set"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("query_id", "set_id", name=op.f("pk_rollup_set_query")),
    )
    op.create_table(
        "rollup_mention",
        sa.Column("mention_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hour", UTCDateTime(timezone=True), nullable=False),
        sa.Column("sentiment", sa.String(length=40), nullable=False),
        sa.Column("lang", sa.String(length=40), nullable=False),
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("reach", sa.BigInteger(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("mention_id", name=op.f("pk_rollup_mention")),
    )
    with op.batch_alter_table("rollup_mention", schema=None) as batch_op:
        batch_op.create_index("ix_rollup_mention_level_hour", ["level", "hour"], unique=False)
    queue_rebuild(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("rollup_mention", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_mention_level_hour")
    op.drop_table("rollup_mention")
    op.drop_table("rollup_set_query")
    op.drop_table("rollup_set")
    with op.batch_alter_table("rollup_day", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_day_day")
    op.drop_table("rollup_day")
    op.execute("DELETE FROM rollup_hour")

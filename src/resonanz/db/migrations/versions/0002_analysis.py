"""analysis results, feedback, projected columns on mention

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from resonanz.db.types import UTCDateTime, json_type

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROJECTED = (
    ("lang", sa.String(length=8)),
    ("lang_confidence", sa.Float()),
    ("sentiment", sa.String(length=10)),
    ("sentiment_score", sa.Float()),
    ("intent", sa.String(length=20)),
    ("needs_response", sa.Boolean()),
    ("risk_score", sa.Float()),
    ("offensive", sa.Boolean()),
)


def upgrade() -> None:
    op.create_table(
        "analysis_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=30), nullable=False),
        sa.Column("previous", sa.String(length=30), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mention_id"], ["mention.id"], name=op.f("fk_analysis_feedback_mention_id_mention"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analysis_feedback")),
    )
    op.create_index(op.f("ix_analysis_feedback_mention_id"), "analysis_feedback", ["mention_id"], unique=False)
    op.create_table(
        "analysis_result",
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=40), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("result", json_type(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mention_id"], ["mention.id"], name=op.f("fk_analysis_result_mention_id_mention"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("mention_id", "stage", name=op.f("pk_analysis_result")),
    )
    op.create_index("ix_analysis_result_stage_version", "analysis_result", ["stage", "version"], unique=False)
    # Plain ADD COLUMN (no table rebuild): the FTS5 index is keyed by mention.id and must not move.
    for name, type_ in PROJECTED:
        op.add_column("mention", sa.Column(name, type_, nullable=True))
    for name in ("lang", "sentiment", "intent"):
        op.create_index(f"ix_mention_{name}", "mention", [name], unique=False)


def downgrade() -> None:
    for name in ("lang", "sentiment", "intent"):
        op.drop_index(f"ix_mention_{name}", table_name="mention")
    with op.batch_alter_table("mention") as batch_op:
        for name, _ in PROJECTED:
            batch_op.drop_column(name)
    op.drop_table("analysis_result")
    op.drop_table("analysis_feedback")

"""care admin settings: per team care switches (CSAT on resolve), profanity terms, CSAT dispatches,
and an index for filtering the audit log by action

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from resonanz.db.types import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "profanity_term",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_profanity_term_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profanity_term")),
        sa.UniqueConstraint("term", name=op.f("uq_profanity_term_term")),
    )
    op.create_table(
        "team_care_setting",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("csat_enabled", sa.Boolean(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_team_care_setting_team_id_team"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_team_care_setting_updated_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_team_care_setting")),
    )
    op.create_table(
        "csat_dispatch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("survey_id", sa.Integer(), nullable=True),
        sa.Column("reply_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["support_case.id"], name=op.f("fk_csat_dispatch_case_id_support_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reply_id"], ["case_reply.id"], name=op.f("fk_csat_dispatch_reply_id_case_reply"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["csat_survey.id"], name=op.f("fk_csat_dispatch_survey_id_csat_survey"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csat_dispatch")),
        sa.UniqueConstraint("case_id", "resolved_at", name="uq_csat_dispatch_resolution"),
    )
    op.create_index(op.f("ix_csat_dispatch_case_id"), "csat_dispatch", ["case_id"], unique=False)
    op.create_index("ix_audit_event_action", "audit_event", ["action"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_event_action", table_name="audit_event")
    op.drop_index(op.f("ix_csat_dispatch_case_id"), table_name="csat_dispatch")
    op.drop_table("csat_dispatch")
    op.drop_table("team_care_setting")
    op.drop_table("profanity_term")

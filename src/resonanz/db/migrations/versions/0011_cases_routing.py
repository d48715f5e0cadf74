"""case routing and SLAs: routing rules, SLA policies, business calendars, holidays, agent availability

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from resonanz.db.types import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "business_calendar",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column(
            "hours", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_calendar")),
        sa.UniqueConstraint("name", name=op.f("uq_business_calendar_name")),
    )
    op.create_table(
        "agent_status",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("availability", sa.String(length=20), nullable=False),
        sa.Column("until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("cap", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_agent_status_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agent_status")),
    )
    op.create_table(
        "calendar_holiday",
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["business_calendar.id"],
            name=op.f("fk_calendar_holiday_calendar_id_business_calendar"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("calendar_id", "day", name=op.f("pk_calendar_holiday")),
    )
    op.create_table(
        "routing_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("filter_text", sa.String(length=4000), nullable=False),
        sa.Column("target_team_id", sa.Integer(), nullable=True),
        sa.Column("forward_rule_id", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_routing_rule_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["forward_rule_id"],
            ["routing_rule.id"],
            name=op.f("fk_routing_rule_forward_rule_id_routing_rule"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_team_id"], ["team.id"], name=op.f("fk_routing_rule_target_team_id_team"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rule")),
        sa.UniqueConstraint("name", name=op.f("uq_routing_rule_name")),
    )
    op.create_index(op.f("ix_routing_rule_position"), "routing_rule", ["position"], unique=False)
    op.create_table(
        "routing_team",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("escalation_team_id", sa.Integer(), nullable=True),
        sa.Column("calendar_id", sa.Integer(), nullable=True),
        sa.Column("default_cap", sa.Integer(), nullable=True),
        sa.Column("rr_last_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["business_calendar.id"],
            name=op.f("fk_routing_team_calendar_id_business_calendar"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["escalation_team_id"],
            ["team.id"],
            name=op.f("fk_routing_team_escalation_team_id_team"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["user_account.id"],
            name=op.f("fk_routing_team_manager_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_routing_team_team_id_team"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_routing_team")),
    )
    op.create_table(
        "sla_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_minutes", sa.Integer(), nullable=False),
        sa.Column("warn_before_minutes", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_sla_policy_team_id_team"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policy")),
        sa.UniqueConstraint("team_id", "priority", name="uq_sla_policy_team_priority"),
    )
    op.create_table(
        "case_sla",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("calendar_id", sa.Integer(), nullable=True),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("paused_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("paused_minutes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["business_calendar.id"],
            name=op.f("fk_case_sla_calendar_id_business_calendar"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["support_case.id"], name=op.f("fk_case_sla_case_id_support_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["sla_policy.id"], name=op.f("fk_case_sla_policy_id_sla_policy"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_sla")),
    )
    op.create_table(
        "routing_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column(
            "reasons", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["user_account.id"],
            name=op.f("fk_routing_decision_assignee_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["support_case.id"], name=op.f("fk_routing_decision_case_id_support_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["routing_rule.id"], name=op.f("fk_routing_decision_rule_id_routing_rule"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_routing_decision_team_id_team"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_decision")),
    )
    op.create_index(op.f("ix_routing_decision_case_id"), "routing_decision", ["case_id"], unique=False)
    op.create_table(
        "sla_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["user_account.id"],
            name=op.f("fk_sla_event_assignee_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["support_case.id"], name=op.f("fk_sla_event_case_id_support_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_sla_event_team_id_team"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_event")),
        sa.UniqueConstraint("case_id", "target", "kind", name="uq_sla_event_case_target_kind"),
    )
    op.create_index("ix_sla_event_at", "sla_event", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sla_event_at", table_name="sla_event")
    op.drop_table("sla_event")
    op.drop_index(op.f("ix_routing_decision_case_id"), table_name="routing_decision")
    op.drop_table("routing_decision")
    op.drop_table("case_sla")
    op.drop_table("sla_policy")
    op.drop_table("routing_team")
    op.drop_index(op.f("ix_routing_rule_position"), table_name="routing_rule")
    op.drop_table("routing_rule")
    op.drop_table("calendar_holiday")
    op.drop_table("agent_status")
    op.drop_table("business_calendar")

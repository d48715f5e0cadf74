"""listening and cases core: brands, versioned queries, query matches; cases, case mentions; periodic_task

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from resonanz.db.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Reposts only: a full index on duplicate_of_id made PostgreSQL scan every original mention
    # per repost lookup during bulk loads (see resonanz.mentions.models.Mention).
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index("ix_mention_duplicate_of_id")
        batch_op.create_index(
            "ix_mention_duplicate_of_id",
            ["duplicate_of_id"],
            unique=False,
            sqlite_where=sa.text("duplicate_of_id IS NOT NULL"),
            postgresql_where=sa.text("duplicate_of_id IS NOT NULL"),
        )
    op.create_table(
        "periodic_task",
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("every_s", sa.Integer(), nullable=False),
        sa.Column("next_run_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_periodic_task")),
    )
    op.create_table(
        "brand",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("aliases", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand")),
        sa.UniqueConstraint("name", name=op.f("uq_brand_name")),
    )
    op.create_table(
        "listening_query",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("applied_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brand.id"], name=op.f("fk_listening_query_brand_id_brand"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_listening_query_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listening_query")),
        sa.UniqueConstraint("name", name=op.f("uq_listening_query_name")),
    )
    with op.batch_alter_table("listening_query", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_listening_query_brand_id"), ["brand_id"], unique=False)

    op.create_table(
        "support_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column(
            "priority_reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=True),
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("thread_key", sa.String(length=500), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("brand_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column(
            "tags", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_customer_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_response_due_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolution_due_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_responded_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("snoozed_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["user_account.id"],
            name=op.f("fk_support_case_assignee_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["author.id"], name=op.f("fk_support_case_author_id_author"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brand.id"], name=op.f("fk_support_case_brand_id_brand"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["support_case.id"],
            name=op.f("fk_support_case_merged_into_id_support_case"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_support_case_source_id_source"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_support_case_team_id_team"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_case")),
    )
    with op.batch_alter_table("support_case", schema=None) as batch_op:
        batch_op.create_index("ix_case_assignee_status", ["assignee_id", "status", "id"], unique=False)
        batch_op.create_index("ix_case_author", ["author_id", "status"], unique=False)
        batch_op.create_index("ix_case_status_priority", ["status", "priority", "id"], unique=False)
        batch_op.create_index("ix_case_team_status", ["team_id", "status", "id"], unique=False)
        batch_op.create_index("ix_case_thread", ["platform", "thread_key"], unique=False)

    op.create_table(
        "case_mention",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("added_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["support_case.id"], name=op.f("fk_case_mention_case_id_support_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["mention_id"], ["mention.id"], name=op.f("fk_case_mention_mention_id_mention"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("mention_id", name=op.f("pk_case_mention")),
    )
    with op.batch_alter_table("case_mention", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_mention_case_id"), ["case_id"], unique=False)

    op.create_table(
        "listening_query_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["user_account.id"],
            name=op.f("fk_listening_query_version_changed_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["query_id"],
            ["listening_query.id"],
            name=op.f("fk_listening_query_version_query_id_listening_query"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listening_query_version")),
    )
    with op.batch_alter_table("listening_query_version", schema=None) as batch_op:
        batch_op.create_index("ix_listening_query_version_query", ["query_id", "version"], unique=True)

    op.create_table(
        "query_match",
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("query_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mention_id"], ["mention.id"], name=op.f("fk_query_match_mention_id_mention"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["query_id"],
            ["listening_query.id"],
            name=op.f("fk_query_match_query_id_listening_query"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("query_id", "mention_id", name=op.f("pk_query_match")),
    )
    with op.batch_alter_table("query_match", schema=None) as batch_op:
        batch_op.create_index("ix_query_match_mention", ["mention_id"], unique=False)
        batch_op.create_index(
            "ix_query_match_query_published", ["query_id", "published_at", "mention_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index("ix_mention_duplicate_of_id")
        batch_op.create_index("ix_mention_duplicate_of_id", ["duplicate_of_id"], unique=False)
    op.drop_table("periodic_task")
    with op.batch_alter_table("query_match", schema=None) as batch_op:
        batch_op.drop_index("ix_query_match_query_published")
        batch_op.drop_index("ix_query_match_mention")

    op.drop_table("query_match")
    with op.batch_alter_table("listening_query_version", schema=None) as batch_op:
        batch_op.drop_index("ix_listening_query_version_query")

    op.drop_table("listening_query_version")
    with op.batch_alter_table("case_mention", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_mention_case_id"))

    op.drop_table("case_mention")
    with op.batch_alter_table("support_case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_thread")
        batch_op.drop_index("ix_case_team_status")
        batch_op.drop_index("ix_case_status_priority")
        batch_op.drop_index("ix_case_author")
        batch_op.drop_index("ix_case_assignee_status")

    op.drop_table("support_case")
    with op.batch_alter_table("listening_query", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listening_query_brand_id"))

    op.drop_table("listening_query")
    op.drop_table("brand")

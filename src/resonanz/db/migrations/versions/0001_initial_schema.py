"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from resonanz.db.types import UTCDateTime, json_type

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "author",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("handle", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("followers", sa.Integer(), nullable=True),
        sa.Column("mention_count", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_author")),
        sa.UniqueConstraint("platform", "handle", name="uq_author_platform_handle"),
    )
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("payload", json_type(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("run_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=120), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.create_index("ix_job_claim", ["state", "run_at", "priority"], unique=False)
        batch_op.create_index(
            "uq_job_dedupe_active",
            ["dedupe_key"],
            unique=True,
            sqlite_where=sa.text("state IN ('pending', 'running') AND dedupe_key IS NOT NULL"),
            postgresql_where=sa.text("state IN ('pending', 'running') AND dedupe_key IS NOT NULL"),
        )

    op.create_table(
        "source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("config", json_type(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("next_pull_at", UTCDateTime(), nullable=True),
        sa.Column("cursor", json_type(), nullable=False),
        sa.Column("health", sa.String(length=20), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source")),
        sa.UniqueConstraint("name", name=op.f("uq_source_name")),
    )
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.create_index("ix_source_due", ["enabled", "next_pull_at"], unique=False)

    op.create_table(
        "ingest_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("duplicate", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("warnings", json_type(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_ingest_run_source_id_source"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_run")),
    )
    with op.batch_alter_table("ingest_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ingest_run_source_id"), ["source_id"], unique=False)

    op.create_table(
        "mention",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=500), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("parent_external_id", sa.String(length=500), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("thread_external_id", sa.String(length=500), nullable=True),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("language_hint", sa.String(length=20), nullable=True),
        sa.Column("media", json_type(), nullable=False),
        sa.Column("metrics", json_type(), nullable=False),
        sa.Column("raw", json_type(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("revision_hash", sa.String(length=64), nullable=False),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["author.id"], name=op.f("fk_mention_author_id_author"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["mention.id"],
            name=op.f("fk_mention_duplicate_of_id_mention"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["mention.id"], name=op.f("fk_mention_parent_id_mention"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_mention_source_id_source"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mention")),
        sa.UniqueConstraint("platform", "external_id", name="uq_mention_platform_external_id"),
    )
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mention_author_id"), ["author_id"], unique=False)
        batch_op.create_index("ix_mention_content_hash", ["content_hash"], unique=False)
        batch_op.create_index("ix_mention_parent_ext", ["platform", "parent_external_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mention_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index("ix_mention_published", ["published_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mention_source_id"), ["source_id"], unique=False)

    _create_search_index()
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("context", json_type(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("replayed_at", UTCDateTime(), nullable=True),
        sa.Column("replay_error", sa.Text(), nullable=True),
        sa.Column("mention_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["mention_id"], ["mention.id"], name=op.f("fk_quarantine_mention_id_mention"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["ingest_run.id"], name=op.f("fk_quarantine_run_id_ingest_run"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_quarantine_source_id_source"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
    )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quarantine_source_id"), ["source_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quarantine_status"), ["status"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_status"))
        batch_op.drop_index(batch_op.f("ix_quarantine_source_id"))

    op.drop_table("quarantine")
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mention_source_id"))
        batch_op.drop_index("ix_mention_published")
        batch_op.drop_index(batch_op.f("ix_mention_parent_id"))
        batch_op.drop_index("ix_mention_parent_ext")
        batch_op.drop_index("ix_mention_content_hash")
        batch_op.drop_index(batch_op.f("ix_mention_author_id"))

    _drop_search_index()
    op.drop_table("mention")
    with op.batch_alter_table("ingest_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_run_source_id"))

    op.drop_table("ingest_run")
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.drop_index("ix_source_due")

    op.drop_table("source")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_job_dedupe_active",
            sqlite_where=sa.text("state IN ('pending', 'running') AND dedupe_key IS NOT NULL"),
            postgresql_where=sa.text("state IN ('pending', 'running') AND dedupe_key IS NOT NULL"),
        )
        batch_op.drop_index("ix_job_claim")

    op.drop_table("job")
    op.drop_table("author")


def _create_search_index() -> None:
    """The full-text index over folded title + text (see resonanz.mentions.text.fold).

    SQLite: an FTS5 table whose rowid is the mention id. It keeps its own copy of the folded text
    because this SQLite may predate ``contentless_delete`` and edits must be able to delete rows.
    PostgreSQL: a tsvector per mention under the 'simple' configuration (folding is done by us, the
    same way on both engines, so search behaves the same) with a GIN index.
    """
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE mention_fts USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')")
    else:
        op.execute(
            "CREATE TABLE mention_search ("
            "mention_id INTEGER PRIMARY KEY REFERENCES mention(id) ON DELETE CASCADE, "
            "vector TSVECTOR NOT NULL)"
        )
        op.execute("CREATE INDEX ix_mention_search_vector ON mention_search USING GIN (vector)")


def _drop_search_index() -> None:
    bind = op.get_bind()
    op.execute(
        "DROP TABLE IF EXISTS mention_fts" if bind.dialect.name == "sqlite" else "DROP TABLE IF EXISTS mention_search"
    )

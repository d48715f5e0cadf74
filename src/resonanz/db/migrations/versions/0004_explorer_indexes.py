"""indexes for the mentions explorer: every filter leads an index ordered by (published_at, id)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

``ix_mention_published`` also carries the filter columns (an index-only walk in time order). The
single-column indexes on lang, sentiment, intent, source_id and author_id become
``(column, published_at, id)``: they still answer equality lookups (and the foreign-key checks),
and a filtered list newest-first now walks one index in order and stops after a page instead of
sorting every matching row. The platform gets the same index. ``duplicate_of_id`` (the reposts of
a mention) and ``author.handle`` (the explorer's author filter) get plain indexes. Engagement
(likes + shares + replies + comments from the metrics JSON) gets an expression index per engine,
so sorting by it is an index walk too; autogenerate cannot compare expression indexes, so it is
kept out of the model (see ``resonanz.db.migrations.env_filters``).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Old single-column index -> its column (the names of 0001/0002).
REPLACED = (
    ("ix_mention_lang", "lang"),
    ("ix_mention_sentiment", "sentiment"),
    ("ix_mention_intent", "intent"),
    ("ix_mention_source_id", "source_id"),
    ("ix_mention_author_id", "author_id"),
)
#: Frozen copies of resonanz.mentions.explorer_sql.ENGAGEMENT (a test holds them equal).
ENGAGEMENT_SQLITE = (
    "(coalesce(json_extract(metrics, '$.likes'), 0) + coalesce(json_extract(metrics, '$.shares'), 0)"
    " + coalesce(json_extract(metrics, '$.replies'), 0) + coalesce(json_extract(metrics, '$.comments'), 0))"
)
ENGAGEMENT_POSTGRESQL = "(" + " + ".join(
    f"(CASE jsonb_typeof(metrics -> '{k}') WHEN 'number' THEN (metrics ->> '{k}')::numeric ELSE 0 END)"
    for k in ("likes", "shares", "replies", "comments")
) + ")"  # fmt: skip


#: ix_mention_published grows into a covering index: a list with several broad filters is an
#: index-only walk in time order (no row lookups), and (published_at, id) stays its prefix.
COVERING = ("published_at", "id", "lang", "sentiment", "intent", "platform", "source_id", "author_id")


def upgrade() -> None:
    op.drop_index("ix_mention_published", table_name="mention")
    op.create_index("ix_mention_published", "mention", list(COVERING), unique=False)
    for old, column in REPLACED:
        op.drop_index(old, table_name="mention")
        extra = ["sentiment"] if column == "author_id" else []  # the author card's sentiment split, index-only
        op.create_index(f"ix_mention_{column}_published", "mention", [column, "published_at", "id", *extra])
    op.create_index("ix_mention_platform_published", "mention", ["platform", "published_at", "id"], unique=False)
    op.create_index("ix_mention_duplicate_of_id", "mention", ["duplicate_of_id"], unique=False)
    op.create_index("ix_author_handle", "author", ["handle"], unique=False)
    sqlite = op.get_bind().dialect.name == "sqlite"
    expr = ENGAGEMENT_SQLITE if sqlite else ENGAGEMENT_POSTGRESQL
    op.execute(f"CREATE INDEX ix_mention_engagement ON mention ({expr}, id)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_mention_engagement")
    op.drop_index("ix_author_handle", table_name="author")
    op.drop_index("ix_mention_duplicate_of_id", table_name="mention")
    op.drop_index("ix_mention_platform_published", table_name="mention")
    for old, column in REPLACED:
        op.drop_index(f"ix_mention_{column}_published", table_name="mention")
        op.create_index(old, "mention", [column], unique=False)
    op.drop_index("ix_mention_published", table_name="mention")
    op.create_index("ix_mention_published", "mention", ["published_at", "id"], unique=False)

"""indexes for the inbox queue: (team, status, priority, id) and (assignee, status, priority, id)

The queue lists one (status, priority) bucket at a time in id order (resonanz.cases.service.
list_cases), so a page reads about one page of index entries instead of sorting the whole queue;
the new indexes replace (team, status, id) and (assignee, status, id), whose uses (counts and
loads by team or assignee and status) they serve as well.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("support_case", schema=None) as batch_op:
        batch_op.create_index("ix_case_team_queue", ["team_id", "status", "priority", "id"], unique=False)
        batch_op.create_index("ix_case_assignee_queue", ["assignee_id", "status", "priority", "id"], unique=False)
        batch_op.drop_index("ix_case_team_status")
        batch_op.drop_index("ix_case_assignee_status")


def downgrade() -> None:
    with op.batch_alter_table("support_case", schema=None) as batch_op:
        batch_op.create_index("ix_case_assignee_status", ["assignee_id", "status", "id"], unique=False)
        batch_op.create_index("ix_case_team_status", ["team_id", "status", "id"], unique=False)
        batch_op.drop_index("ix_case_assignee_queue")
        batch_op.drop_index("ix_case_team_queue")

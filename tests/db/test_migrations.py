"""Migrations and models agree, and every migration can be undone and redone."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from resonanz.db.base import Base
from resonanz.db.database import Database
from resonanz.db.migrate import alembic_config, current_revision, head_revision
from resonanz.db.migrations.env_filters import include_object


def test_schema_matches_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"include_object": include_object}), Base.metadata
        )
    assert diff == []


def test_down_to_base_and_up_again(db: Database) -> None:
    cfg = alembic_config(db.engine)
    command.downgrade(cfg, "base")
    assert "mention" not in inspect(db.engine).get_table_names()
    command.upgrade(cfg, "head")
    assert current_revision(db.engine) == head_revision(db.engine)
    assert {"mention", "job", "analysis_result"} <= set(inspect(db.engine).get_table_names())

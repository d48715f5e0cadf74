"""Alembic environment: runs against the engine handed over by :mod:`resonanz.db.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

import resonanz.db.all_models  # noqa: F401  (register every table on the metadata)
from resonanz.db.base import Base
from resonanz.db.migrations.env_filters import include_object

target_metadata = Base.metadata


def run_migrations() -> None:
    engine = context.config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError("run migrations through `resonanz db upgrade`, which passes the engine")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()

"""Upgrading a store with mentions past migration 0012 (which empties the hourly rollups and adds
the ledger) queues the rollup rebuild, and the worker's job fills the dashboards again; a new,
empty store gets no job."""

from __future__ import annotations

import random

from alembic import command
from sqlalchemy import func, select

from resonanz.db.database import Database
from resonanz.db.migrate import alembic_config
from resonanz.listening.rollup_models import RollupDay, RollupHour, RollupMention
from resonanz.listening.rollups import REBUILD_KIND
from resonanz.worker.models import Job
from resonanz.worker.tasks import handler_for, load_feature_tasks
from tests.listening.dashboards_data import random_store


def _jobs(db: Database) -> list[Job]:
    with db.sessions() as s:
        return list(s.scalars(select(Job).where(Job.kind == REBUILD_KIND)))


def test_upgrade_with_mentions_queues_the_rebuild_and_the_job_fills_the_rollups(db: Database) -> None:
    with db.sessions() as s:
        data = random_store(s, random.Random(7), 60)
        s.commit()
    assert data["mentions"]
    cfg = alembic_config(db.engine)
    command.downgrade(cfg, "0011")
    command.upgrade(cfg, "head")

    (job,) = _jobs(db)
    assert job.state == "pending" and job.dedupe_key == REBUILD_KIND
    load_feature_tasks()
    handler = handler_for(REBUILD_KIND)
    assert handler is not None
    result = handler(db, dict(job.payload))
    assert result is not None and result["buckets"] > 0
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(RollupMention)) == len(data["mentions"])
        assert s.scalar(select(func.count()).select_from(RollupHour)) > 0
        assert s.scalar(select(func.count()).select_from(RollupDay)) > 0


def test_upgrade_of_an_empty_store_queues_nothing(db: Database) -> None:
    cfg = alembic_config(db.engine)
    command.downgrade(cfg, "0011")
    command.upgrade(cfg, "head")
    assert _jobs(db) == []

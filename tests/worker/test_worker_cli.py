"""``resonanz pull``, ``resonanz worker --once`` and ``resonanz jobs list|retry|cancel``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from resonanz.clock import now
from resonanz.config import Settings
from resonanz.connectors.base import PullResult
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.errors import ConnectorTransientError
from resonanz.sources.models import Source, SourceHealth
from resonanz.worker import queue
from tests.sources.fake_connector import FakeConnector, fake_connector_registered, raw

runner = CliRunner()


@pytest.fixture
def fake() -> Iterator[type[FakeConnector]]:
    with fake_connector_registered() as cls:
        yield cls


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    from resonanz.cli.main import app

    base = ["--database-url", settings.database_url or "", "--data-dir", str(settings.data_dir)]
    # periodic jobs off, as for the other tests (conftest): only the jobs a test made are run
    result = runner.invoke(app, [*base, *args], catch_exceptions=False, env={"RESONANZ_PERIODIC_JOBS": "0"})
    return result.exit_code, result.output


def add_source(db: Database, name: str, *, due: bool) -> int:
    with transaction(db.sessions) as session:
        source = Source(
            name=name,
            kind="fake",
            config={},
            enabled=True,
            interval_s=900,
            next_pull_at=now() + timedelta(seconds=-1 if due else 600),
            cursor={},
            health=SourceHealth.NEW,
            consecutive_failures=0,
            created_at=now(),
        )
        session.add(source)
        session.flush()
        return source.id


def test_pull_runs_due_sources_and_reports_each(settings: Settings, db: Database, fake: type[FakeConnector]) -> None:
    add_source(db, "alpha", due=True)
    add_source(db, "beta", due=True)
    add_source(db, "later", due=False)
    fake.script.extend([PullResult(items=[raw(1), raw(2)]), ConnectorTransientError("HTTP 503 from the feed")])
    code, out = cli(settings, "pull", "--json")
    assert code == 0, out
    rows = {r["source"]: r for r in json.loads(out)}
    assert set(rows) == {"alpha", "beta"}
    assert (rows["alpha"]["status"], rows["alpha"]["new"], rows["alpha"]["error"]) == ("ok", 2, None)
    assert rows["beta"]["status"] == "failed" and "503" in rows["beta"]["error"]
    code, out = cli(settings, "pull")
    assert code == 0 and "no source is due" in out

    code, out = cli(settings, "jobs", "list", "--json", "--kind", "source.pull")
    assert code == 0
    assert sorted(j["state"] for j in json.loads(out)) == ["done", "done"]


def test_pull_table(settings: Settings, db: Database, fake: type[FakeConnector]) -> None:
    add_source(db, "gamma", due=True)
    fake.script.append(PullResult(items=[raw(7)]))
    code, out = cli(settings, "pull")
    assert code == 0, out
    assert "gamma" in out and "1 source(s) pulled, 1 new mention(s)" in out


def test_jobs_list_retry_cancel(settings: Settings, db: Database) -> None:
    with transaction(db.sessions) as session:
        dead = queue.enqueue(session, kind="test.cli", payload={"id": 1}, max_attempts=1)
        waiting = queue.enqueue(session, kind="test.cli", payload={"id": 2}, run_at=now() + timedelta(hours=1))
    with transaction(db.sessions) as session:
        claimed = queue.claim(session, worker_id="w", lease_s=30)
        assert claimed is not None and claimed.id == dead
        queue.fail(session, job_id=dead, worker_id="w", error="it broke")  # type: ignore[arg-type]

    code, out = cli(settings, "jobs", "list", "--state", "dead", "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert (row["id"], row["last_error"], row["attempts"]) == (dead, "it broke", 1)
    code, out = cli(settings, "jobs", "list")
    assert code == 0 and "it broke" in out and "dead: 1" in out and "pending: 1" in out
    code, out = cli(settings, "jobs", "list", "--state", "bogus")
    assert code == 2 and "unknown state" in out

    code, out = cli(settings, "jobs", "cancel", str(dead))
    assert code == 4 and "only pending jobs can be cancelled" in out
    code, out = cli(settings, "jobs", "retry", str(dead), "--json")
    assert code == 0 and json.loads(out)["state"] == "pending"
    code, out = cli(settings, "jobs", "cancel", str(waiting))
    assert code == 0 and "cancelled" in out
    code, out = cli(settings, "jobs", "retry", "999999")
    assert code == 3 and "no job with id 999999" in out

    code, out = cli(settings, "jobs", "list", "--json")
    assert {j["id"]: j["state"] for j in json.loads(out)} == {dead: "pending", waiting: "cancelled"}


def test_worker_once_runs_what_is_due(settings: Settings, db: Database, fake: type[FakeConnector]) -> None:
    add_source(db, "delta", due=True)
    fake.script.append(PullResult(items=[raw(3)]))
    code, out = cli(settings, "worker", "--once")
    assert code == 0, out
    # the pull, the analysis job the pull enqueued for what it stored, and the case intake the
    # analysis enqueued for the analysed batch (resonanz.cases.intake_plugin)
    assert "ran 3 job(s)" in out and fake.script == []

"""Every way in queues analysis of what it stored, and a worker (here: drain) analyses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from resonanz.analysis.jobs import ANALYSIS_KIND
from resonanz.db.database import Database
from resonanz.mentions.models import Mention
from resonanz.sources.imports import import_file
from resonanz.worker.models import Job
from resonanz.worker.runner import drain

RECORDS = [
    {"id": "a1", "text": "Die App stürzt schon wieder beim Bezahlen ab, echt ärgerlich!", "published_at": "2026-03-01"},
    {"id": "a2", "text": "Thanks for the quick help with my refund, great service!", "published_at": "2026-03-01"},
]


@pytest.mark.parametrize("workers", [0, 1], ids=["in-process", "parse-worker"])
def test_imported_mentions_are_analysed_by_the_queued_job(db: Database, tmp_path: Path, workers: int) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n", encoding="utf-8")
    import_file(db, path=path, workers=workers)
    with db.sessions() as s:
        assert s.scalars(select(Job.kind)).all() == [ANALYSIS_KIND]
        assert s.scalars(select(Mention.lang)).all() == [None, None]
    (outcome,) = drain(db, kinds=[ANALYSIS_KIND])
    assert outcome.state == "done" and outcome.result == {"analysed": 2}
    with db.sessions() as s:
        rows = {m.external_id: m for m in s.scalars(select(Mention))}
    assert rows["a1"].lang == "de" and rows["a2"].lang == "en"
    assert rows["a1"].sentiment == "negative" and rows["a2"].sentiment == "positive"
    assert drain(db, kinds=[ANALYSIS_KIND]) == []  # nothing left, nothing done twice

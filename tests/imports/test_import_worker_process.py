"""The parse worker process of a large import: the same outcome as parsing in-process, errors that
surface instead of hanging, small files without a worker, and authors cached across batches."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from resonanz.db.database import Database
from resonanz.errors import ImportFormatError, ResonanzError
from resonanz.mentions.models import Author, Mention, QuarantineItem
from resonanz.sources import import_worker, imports
from resonanz.sources.import_worker import ParseWorker, ReaderArgs
from resonanz.sources.imports import import_file
from resonanz.sources.models import IngestRun, RunStatus
from tests.imports.import_helpers import jsonl, record, write


def awkward_file(tmp_path: Path, platform: str) -> Path:
    """Replies before their parents, a repost, a repeated key, broken and invalid lines, authors."""
    # Every text names the platform: the two files must not be reposts of each other.
    repost = f"{platform}: Die Lieferung kam drei Tage zu spät und der Karton war beschädigt."
    lines: list[dict[str, Any] | bytes | str] = [
        record("c2", f"{platform}: Antwort auf die Antwort, weiter unten", platform=platform, parent_id="c1"),
        record("c1", f"{platform}: Eine Antwort auf den Beitrag", platform=platform, parent_id="p"),
        record("p", repost, platform=platform, author={"handle": "anna", "name": "Anna", "followers": 3}),
        b'{"id": "broken", "text": ',
        record("r", repost, platform=platform, author="bert"),
        record("x", f"{platform}: erste Fassung eines Beitrags, gleich überschrieben", platform=platform),
        record("x", f"{platform}: zweite Fassung desselben Beitrags mit gleicher id", platform=platform),
        "[1, 2]",
        record("nodate", platform=platform, published_at="gestern"),
        record(
            "a2", f"{platform}: Anna schreibt noch einmal", platform=platform, author={"handle": "anna", "followers": 9}
        ),
    ]
    lines += [
        record(f"n{i}", f"{platform}: Beitrag {i} zur Hotline", platform=platform, author=f"u{i % 3}")
        for i in range(12)
    ]
    return write(tmp_path, f"{platform}.jsonl", jsonl(*lines))


def outcome(db: Database, run: IngestRun, platform: str) -> dict[str, Any]:
    with db.sessions() as session:
        rows = session.scalars(select(Mention).where(Mention.platform == platform)).all()
        by_id = {m.id: m.external_id for m in rows}
        stored = sorted(
            (
                m.external_id, m.text.replace(platform, "P"), m.thread_external_id,
                by_id.get(m.parent_id) if m.parent_id else None,
                by_id.get(m.duplicate_of_id) if m.duplicate_of_id else None,
                session.get(Author, m.author_id).handle if m.author_id else None,  # type: ignore[union-attr]
                m.metrics, json.loads(json.dumps(m.raw).replace(platform, "P")),
            )
            for m in rows
        )  # fmt: skip
        held = [
            (q.location, q.reason, q.raw, q.stage)
            for q in session.scalars(
                select(QuarantineItem).where(QuarantineItem.run_id == run.id).order_by(QuarantineItem.id)
            )
        ]
    return {
        "counts": (run.new, run.updated, run.duplicate, run.rejected, run.status),
        "stored": stored,
        "quarantined": [(loc, reason, raw.replace(platform.encode(), b"P"), stage) for loc, reason, raw, stage in held],
    }


def test_worker_and_in_process_parsing_store_the_same(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "BATCH_ITEMS", 4)  # the importer parses the first batch, the worker the rest
    here = import_file(db, path=awkward_file(tmp_path, "here"), source_name="here", workers=0)
    there = import_file(db, path=awkward_file(tmp_path, "there"), source_name="there", workers=1)
    expected = outcome(db, here, "here")
    assert expected["counts"] == (17, 0, 2, 3, RunStatus.PARTIAL)
    assert [q[0] for q in expected["quarantined"]] == ["line 4", "line 8", "line 9"]
    assert outcome(db, there, "there") == expected


def test_worker_reports_progress_in_order(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "BATCH_ITEMS", 1000)
    path = write(tmp_path, "many.jsonl", jsonl(*(record(f"m{i}") for i in range(2500))))
    seen: list[int] = []
    run = import_file(db, path=path, progress=seen.append, workers=1)
    assert run.new == 2500
    assert seen == sorted(seen) and seen[-1] == path.stat().st_size and len(seen) >= 3


def test_a_failure_in_the_worker_surfaces_and_the_run_is_marked_failed(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "BATCH_ITEMS", 100)  # the first batch is fine, the worker meets the cut
    monkeypatch.setattr(imports, "COMMIT_ITEMS", 200)  # committed transactions stay
    data = gzip.compress(jsonl(*(record(f"z{i}") for i in range(3000))))
    path = write(tmp_path, "cut.jsonl.gz", data[: len(data) // 2])
    with pytest.raises(ImportFormatError, match="reading stopped"):
        import_file(db, path=path, workers=1)
    with db.sessions() as session:
        run = session.scalars(select(IngestRun)).one()
        stored = session.scalars(select(Mention)).all()
    assert run.status == RunStatus.FAILED and run.error and "reading stopped" in run.error
    assert len(stored) == run.new and run.new % 200 == 0 and run.new >= 200


def test_a_worker_that_dies_is_an_error_not_a_hang(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jsonl", jsonl(record("a")))
    args = ReaderArgs(path=path, fmt="jsonl", mapping={}, max_item_bytes=10**6, source_name="x")
    with ParseWorker(args) as worker:
        worker._proc.kill()
        with pytest.raises(ResonanzError, match="stopped without a result"):
            list(worker)


def test_small_files_are_parsed_in_process(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_worker(*_: object, **__: object) -> None:
        raise AssertionError("a small file must not start a worker")

    monkeypatch.setattr(import_worker, "ParseWorker", no_worker)
    run = import_file(db, path=write(tmp_path, "small.jsonl", jsonl(record("s1"), record("s2"))))
    assert run.new == 2


def test_authors_seen_in_earlier_batches_are_updated(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "BATCH_ITEMS", 2)
    lines = [
        record("a1", author={"handle": "anna", "name": "Anna", "followers": 1}),
        record("a2", author={"handle": "bert"}),
        record("a3", author={"handle": "anna"}),
        record("a4", author={"handle": "anna", "name": "Anna Berg", "followers": 7}),
        record("a5", author={"handle": "anna", "followers": 8}),
    ]
    run = import_file(db, path=write(tmp_path, "authors.jsonl", jsonl(*lines)), workers=0)
    assert run.new == 5
    with db.sessions() as session:
        authors = {a.handle: a for a in session.scalars(select(Author))}
        assert (authors["anna"].name, authors["anna"].followers, authors["anna"].mention_count) == ("Anna Berg", 8, 4)
        assert authors["bert"].mention_count == 1
        by_anna = session.scalars(select(Mention.external_id).where(Mention.author_id == authors["anna"].id))
        assert set(by_anna) == {"a1", "a3", "a4", "a5"}

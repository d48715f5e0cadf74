"""Streaming: a ~50 MB JSONL file imports with a small, flat Python heap."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

from sqlalchemy import func, select

from resonanz.db.database import Database
from resonanz.mentions.models import Mention
from resonanz.sources.imports import import_file

FILE_BYTES = 50 * 1024 * 1024
PEAK_LIMIT = 32 * 1024 * 1024  # reading the 50 MB file whole would break this


def write_big_file(path: Path) -> int:
    """~50 MB of 8 KB records, written in chunks (the test itself must not hold the file).

    Most bytes sit in an extra field (kept in raw), not in the text: the test is about the
    importer's memory, and indexing megabytes of text would only make it slow.
    """
    extra = "Anhang " * 1150
    lines = 0
    size = 0
    with path.open("w", encoding="utf-8") as fh:
        while size < FILE_BYTES:
            chunk = "".join(
                json.dumps(
                    {
                        "id": f"m{lines + i}",
                        "text": f"Beschwerde Nummer {lines + i} über den Kundenservice",
                        "published_at": 1767225600 + lines + i,
                        "attachment": extra,
                    }
                )
                + "\n"
                for i in range(500)
            )
            fh.write(chunk)
            size += len(chunk.encode("utf-8"))
            lines += 500
    return lines


def test_import_streams_a_large_file_in_bounded_memory(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    lines = write_big_file(path)
    seen: list[int] = []
    tracemalloc.start()
    try:
        run = import_file(db, path=path, progress=seen.append)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert run.new == lines and run.rejected == 0
    assert seen[-1] == path.stat().st_size and seen == sorted(seen) and len(seen) > 5
    assert peak < PEAK_LIMIT, f"peak traced memory {peak / 2**20:.1f} MiB for a {FILE_BYTES / 2**20:.0f} MiB file"
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == lines

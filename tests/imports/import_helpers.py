"""Small helpers shared by the import tests: write files, count what landed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from resonanz.db.database import Database
from resonanz.mentions.models import Mention, QuarantineItem
from resonanz.sources.models import IngestRun, Source


def record(ext: str, text: str | None = None, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": ext,
        "text": text if text is not None else f"Beitrag {ext}: die Hotline war heute nicht erreichbar",
        "published_at": "2026-03-01T12:00:00Z",
    }
    data.update(fields)
    return data


def jsonl(*records: dict[str, Any] | bytes | str) -> bytes:
    """Records as JSONL; bytes and str entries are written as they are (broken lines)."""
    lines: list[bytes] = []
    for rec in records:
        if isinstance(rec, bytes):
            lines.append(rec)
        elif isinstance(rec, str):
            lines.append(rec.encode("utf-8"))
        else:
            lines.append(json.dumps(rec, ensure_ascii=False).encode("utf-8"))
    return b"".join(line + b"\n" for line in lines)


def write(tmp_path: Path, name: str, content: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def counts(db: Database) -> dict[str, int]:
    with db.sessions() as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in (
                ("mentions", Mention),
                ("quarantined", QuarantineItem),
                ("runs", IngestRun),
                ("sources", Source),
            )
        }


def mentions(db: Database) -> dict[str, Mention]:
    with db.sessions() as session:
        return {m.external_id: m for m in session.scalars(select(Mention))}


def quarantined(db: Database) -> list[QuarantineItem]:
    with db.sessions() as session:
        return list(session.scalars(select(QuarantineItem).order_by(QuarantineItem.id)))

"""Cut a webhook body into records and map them (pure).

A body is one record, a JSON array of records, or ``{"mentions": [...]}``. Records are the same
as in a JSONL import (:mod:`resonanz.connectors.file.parse`), so the two ways in behave alike. A
webhook call is all or nothing: every problem of every record is collected with its full path
(``mentions[2].published_at``) so the sender can fix them all in one go, and nothing is stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from resonanz.connectors.base import RawItem
from resonanz.connectors.file.parse import RecordError, decode_record, mention_from_record
from resonanz.mentions.schemas import MentionIn

MAX_PROBLEMS = 100


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


@dataclass
class ParsedBody:
    mentions: list[MentionIn] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def join_path(prefix: str, path: str) -> str:
    if not prefix:
        return path
    if not path:
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def split_body(body: bytes) -> list[tuple[str, Any]]:
    """``(path, record)`` pairs of a body; RecordError when the body itself is unusable."""
    data = decode_record(body)
    if isinstance(data, list):
        return [(f"[{i}]", rec) for i, rec in enumerate(data)]
    if isinstance(data, dict) and "mentions" in data:
        records = data["mentions"]
        if not isinstance(records, list):
            raise RecordError([("mentions", "must be an array of records")])
        return [(f"mentions[{i}]", rec) for i, rec in enumerate(records)]
    return [("", data)]


def record_item(path: str, record: Any) -> RawItem:
    """One record as a raw item (compact JSON bytes), located by its path in the body."""
    payload = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    return RawItem(payload=payload, location=path or "body")


def parse_body(body: bytes, *, max_item_bytes: int) -> ParsedBody:
    """Every record of ``body`` mapped, or every problem found, with paths."""
    result = ParsedBody()
    try:
        records = split_body(body)
    except RecordError as exc:
        result.problems = [Problem(p or "body", m) for p, m in exc.problems]
        return result
    if not records:
        result.problems.append(Problem("body", "no records"))
    for path, record in records:
        size = len(json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        if size > max_item_bytes:
            result.problems.append(Problem(path or "body", f"record is {size:,} bytes, over {max_item_bytes:,}"))
            continue
        try:
            result.mentions.append(mention_from_record(record))
        except RecordError as exc:
            result.problems.extend(Problem(join_path(path, p) or "body", m) for p, m in exc.problems)
        if len(result.problems) >= MAX_PROBLEMS:
            break
    return result

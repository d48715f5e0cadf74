"""The import record: one mention per JSON object or CSV row, validated and mapped to a
:class:`MentionIn` (pure; no I/O, no clock).

File import and the inbound webhook share this module, so a record means the same thing whichever
way it arrives and fails with the same messages. The schema is documented for users in
``docs/import-format.md``; keep the two in step.

Errors are :class:`RecordError`, a :class:`~resonanz.errors.ParseError` that also carries each
problem as ``(field path, message)``, so the webhook can answer ``mentions[2].published_at: …`` and
the file import can quarantine ``line 17`` with ``published_at: …``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from resonanz.clock import ensure_utc
from resonanz.connectors.base import RawItem
from resonanz.errors import ParseError
from resonanz.mentions.models import MentionKind
from resonanz.mentions.schemas import AuthorIn, MentionIn, construct_trusted
from resonanz.mentions.text import html_to_text, sanitize_html

DEFAULT_PLATFORM = "import"
FLAT_AUTHOR = {"author_handle": "handle", "author_name": "name", "author_url": "url", "author_followers": "followers"}
FLAT_METRICS = ("likes", "shares", "replies", "views")
#: Every field name a record (or a ``--map`` target) may use.
FIELDS = (
    "id", "platform", "text", "title", "html", "url", "published_at", "author", *FLAT_AUTHOR,
    "parent_id", "thread_id", "kind", "language", "media", "metrics", *FLAT_METRICS,
)  # fmt: skip
#: Columns a CSV file must have (``text`` may be replaced by ``title`` or ``html``).
REQUIRED = ("id", "published_at")
TEXT_FIELDS = ("text", "title", "html")
#: Epoch numbers above this are milliseconds (10^11 s is the year 5138).
_EPOCH_MS = 10**11
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_HTTP = re.compile(r"https?://", re.I)


class RecordError(ParseError):
    """A record breaks the schema; ``problems`` lists ``(field path, message)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]], *, location: str | None = None) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p}: {m}" if p else m for p, m in problems), location=location)


def parse_timestamp(value: Any) -> datetime:
    """ISO 8601, RFC 2822 or epoch seconds (milliseconds above 10^11) -> aware UTC.

    A time without a zone is taken as UTC: the only assumption that does not depend on the
    machine that runs the import.
    """
    if isinstance(value, bool):
        raise ValueError("expected a date, got a boolean")
    if isinstance(value, datetime):
        return ensure_utc(value)
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER.fullmatch(text):
            value = float(text)
        else:
            try:
                return ensure_utc(datetime.fromisoformat(text))
            except ValueError:
                pass
            try:
                return ensure_utc(parsedate_to_datetime(text))
            except (TypeError, ValueError, IndexError):
                pass
            raise ValueError(f"{text[:40]!r} is not a date (use ISO 8601, RFC 2822 or epoch seconds)")
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= _EPOCH_MS else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError(f"{value} is out of range for epoch seconds") from exc
    raise ValueError(f"expected a date (ISO 8601, RFC 2822 or epoch seconds), got {type(value).__name__}")


def _json_if(value: Any, opener: str) -> Any:
    """CSV cells hold text: a cell that looks like JSON (``{...}``, ``[...]``) is decoded."""
    if isinstance(value, str) and value.lstrip().startswith(opener):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ValueError(f"looks like JSON but is not: {exc}") from exc
    return value


class RecordAuthor(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    handle: str | None = Field(default=None, min_length=1, max_length=300)
    name: str | None = Field(default=None, max_length=300)
    url: str | None = None
    followers: int | None = Field(default=None, ge=0)


class ImportRecord(BaseModel):
    """One record as a file or webhook gives it. Unknown fields are allowed (kept in raw)."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    id: str = Field(min_length=1, max_length=500)
    platform: str = Field(default=DEFAULT_PLATFORM, min_length=1, max_length=40)
    text: str | None = None
    title: str | None = None
    html: str | None = None
    url: str | None = None
    published_at: datetime
    author: RecordAuthor | None = None
    author_handle: str | None = Field(default=None, max_length=300)
    author_name: str | None = Field(default=None, max_length=300)
    author_url: str | None = None
    author_followers: int | None = Field(default=None, ge=0)
    parent_id: str | None = Field(default=None, max_length=500)
    thread_id: str | None = Field(default=None, max_length=500)
    kind: MentionKind | None = None
    language: str | None = Field(default=None, max_length=20)
    media: list[dict[str, Any]] = Field(default_factory=list)
    metrics: dict[str, Any] = Field(default_factory=dict)
    likes: float | None = None
    shares: float | None = None
    replies: float | None = None
    views: float | None = None

    @field_validator("published_at", mode="before")
    @classmethod
    def _date(cls, value: Any) -> datetime:
        return parse_timestamp(value)

    @field_validator("author", mode="before")
    @classmethod
    def _author(cls, value: Any) -> Any:
        value = _json_if(value, "{")
        return {"handle": value} if isinstance(value, str) else value

    @field_validator("media", mode="before")
    @classmethod
    def _media(cls, value: Any) -> Any:
        value = _json_if(value, "[")
        if isinstance(value, str):  # a CSV cell: URLs separated by spaces or "|"
            value = value.replace("|", " ").split()
        if isinstance(value, list):
            return [{"url": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("metrics", mode="before")
    @classmethod
    def _metrics(cls, value: Any) -> Any:
        return _json_if(value, "{")

    @field_validator(*FLAT_METRICS)
    @classmethod
    def _integral(cls, value: float | None) -> float | None:
        """Counts stay integers (12, not 12.0); CSV gives "12" which validates as a float."""
        return int(value) if value is not None and value.is_integer() else value

    @field_validator("kind", "language", "platform", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("id", "parent_id", "thread_id", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validation_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """Pydantic's errors as ``(path, message)``: ``("media[1]", "Input should be …")``."""
    return [(_path(tuple(err["loc"])), err["msg"].removeprefix("Value error, ")) for err in exc.errors()]


def _check_strings(value: Any, path: str, problems: list[tuple[str, str]]) -> None:
    """Databases cannot store NUL characters or lone surrogates (JSON allows both as escapes)."""
    if isinstance(value, str):
        if "\x00" in value:
            problems.append((path, "contains a NUL character (\\u0000)"))
        elif not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                problems.append((path, "contains a lone UTF-16 surrogate escape"))
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, path, problems)
            _check_strings(item, f"{path}.{key}" if path else str(key), problems)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_strings(item, f"{path}[{index}]", problems)


def _web_url(value: str | None, path: str, problems: list[tuple[str, str]]) -> str | None:
    if value is None or not value.strip():
        return None
    if not _HTTP.match(value.strip()):
        problems.append((path, f"must be an http(s) URL, got {value[:60]!r}"))
        return None
    return value.strip()


def _author(rec: ImportRecord, problems: list[tuple[str, str]]) -> AuthorIn | None:
    nested = rec.author
    handle = rec.author_handle or (nested.handle if nested else None)
    name = rec.author_name or (nested.name if nested else None)
    url = rec.author_url or (nested.url if nested else None)
    followers = rec.author_followers if rec.author_followers is not None else (nested.followers if nested else None)
    if not (handle or name or url or followers is not None):
        return None
    handle = handle or name  # an export with names only: the name is the handle
    if not handle:
        problems.append(("author.handle", "required when other author fields are given"))
        return None
    url = _web_url(url, "author.url", problems)
    # The record's limits are AuthorIn's (tests/imports/test_import_records.py holds them equal).
    return construct_trusted(AuthorIn, {"handle": handle, "name": name, "url": url, "followers": followers})


def mention_from_record(data: Any, *, check_strings: bool = True) -> MentionIn:
    """Validate one decoded record and map it to a mention whose raw is the record itself.

    Raises :class:`RecordError` listing every problem found, with field paths.
    """
    if not isinstance(data, dict):
        raise RecordError([("", f"a record must be a JSON object, got {_json_kind(data)}")])
    problems: list[tuple[str, str]] = []
    if check_strings:
        _check_strings(data, "", problems)
        if problems:
            raise RecordError(problems)
    # An empty cell or null means "not given": CSV cannot tell the two apart.
    clean = {k: v for k, v in data.items() if v is not None and v != ""}
    try:
        rec = ImportRecord.model_validate(clean)
    except ValidationError as exc:
        raise RecordError(validation_problems(exc)) from exc
    html = sanitize_html(rec.html) if rec.html and rec.html.strip() else None
    text = rec.text if rec.text is not None else (html_to_text(html) if html else "")
    if not (text.strip() or (rec.title and rec.title.strip())):
        problems.append(("text", "required (or title, or html with some text)"))
    url = _web_url(rec.url, "url", problems)
    author = _author(rec, problems)
    metrics = dict(rec.metrics)
    metrics.update({name: getattr(rec, name) for name in FLAT_METRICS if getattr(rec, name) is not None})
    if problems:
        raise RecordError(problems)
    kind = rec.kind or (MentionKind.COMMENT if rec.parent_id else MentionKind.POST)
    return _mention(rec, kind=kind, url=url, author=author, text=text, html=html, metrics=metrics, raw=data)


def _mention(
    rec: ImportRecord,
    *,
    kind: MentionKind,
    url: str | None,
    author: AuthorIn | None,
    text: str,
    html: str | None,
    metrics: dict[str, Any],
    raw: Any,
) -> MentionIn:
    """Built without a second validation (the hot path of every import): ImportRecord already
    enforces MentionIn's limits under the record's own field names, and the published time is
    aware UTC. A test validates constructed mentions again to keep the two in step."""
    return construct_trusted(
        MentionIn,
        {
            "platform": rec.platform,
            "external_id": rec.id,
            "kind": kind,
            "url": url,
            "author": author,
            "parent_external_id": rec.parent_id,
            "thread_external_id": rec.thread_id,
            "published_at": rec.published_at,
            "title": rec.title,
            "text": text,
            "html": html,
            "language_hint": rec.language,
            "media": rec.media,
            "metrics": metrics,
            "raw": raw,
        },
    )


def _json_kind(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null", int: "a number"}
    return names.get(type(value), "a number" if isinstance(value, float) else type(value).__name__)


def apply_mapping(record: dict[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    """Rename the file's columns/keys to our field names (``mapping``: field -> column)."""
    if not mapping:
        return record
    out = dict(record)
    for field, column in mapping.items():
        if column in record and column != field:
            out[field] = out.pop(column)
    return out


def _has_float(value: Any) -> bool:
    kind = type(value)
    if kind is float:
        return True
    if kind is dict:
        for item in value.values():
            if type(item) in _NESTED and _has_float(item):
                return True
    elif kind is list:
        for item in value:
            if type(item) in _NESTED and _has_float(item):
                return True
    return False


_NESTED = (dict, list, float)


def decode_record(payload: bytes) -> Any:
    """JSON bytes -> value, with the reasons users can act on (bad UTF-8 offset, JSON column).

    orjson first (three times faster); whatever it refuses (invalid UTF-8, lone surrogate escapes,
    NaN, broken JSON) goes through the standard library, which decides and words the error, so
    the result and every message are the standard library's. orjson reads integers beyond 64 bits
    as floats, so a record holding any float is decoded again the standard library's way."""
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError:
        pass
    else:
        if not _has_float(value):
            return value
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError([("", f"invalid UTF-8 at byte {exc.start}: {payload[exc.start : exc.start + 4]!r}")]) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}" if exc.lineno > 1 else f"column {exc.colno}"
        raise RecordError([("", f"invalid JSON at {where}: {exc.msg}")]) from exc


def parse_record(item: RawItem) -> MentionIn:
    """Parse one raw item holding one record (JSON bytes); ``context['mapping']`` renames keys."""
    try:
        data = decode_record(item.payload)
        mapping = item.context.get("mapping")
        if mapping and isinstance(data, dict):
            data = apply_mapping(data, mapping)
        # Escapes are the only way a NUL or a lone surrogate gets into decoded JSON.
        return mention_from_record(data, check_strings=b"\\u" in item.payload)
    except RecordError as exc:
        raise RecordError(exc.problems, location=item.location) from None

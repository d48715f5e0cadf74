"""Streaming readers for import files: one raw item per JSONL line or CSV record, never the whole
file in memory (a 2 GB export must import on a laptop).

:func:`open_import` checks what can be checked before anything is imported — the file is readable,
the format is known, a CSV header has every required column — and raises
:class:`~resonanz.errors.ImportFormatError` otherwise. Then :meth:`ImportReader.items` yields
:class:`RawItem` (parsed later, in batches) or :class:`Rejected` (a line that cannot even be cut out:
over the hard size limit, invalid UTF-8 in a CSV record, a CSV record the csv module refuses).

Locations are ``line N``: the physical line for JSONL, the first line of the record for CSV (a
quoted field may span lines). JSONL payloads are the line's bytes exactly as in the file, so a
replay sees what the file held; CSV payloads are the record as a JSON object after the column
mapping, with the original header and record text in the item's context.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, cast

from resonanz.connectors.base import RawItem, Rejected
from resonanz.connectors.file.parse import FIELDS, REQUIRED, TEXT_FIELDS
from resonanz.errors import ImportFormatError

FORMATS = ("jsonl", "csv")
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".tsv": "csv"}
_BOM = b"\xef\xbb\xbf"
_GZIP_MAGIC = b"\x1f\x8b"
#: A line longer than this is not even held in memory whole: a truncated copy goes to quarantine.
MIN_HARD_LIMIT = 64 * 1024 * 1024


def detect_format(path: Path, fmt: str | None) -> str:
    if fmt:
        if fmt.lower() not in FORMATS:
            raise ImportFormatError(f"unknown format {fmt!r} (use one of: {', '.join(FORMATS)})", location=str(path))
        return fmt.lower()
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    found = EXTENSIONS.get(suffixes[-1]) if suffixes else None
    if found is None:
        raise ImportFormatError(
            "cannot tell the format from the file name; name it .jsonl/.ndjson/.csv (optionally .gz) "
            "or pass --format jsonl|csv",
            location=str(path),
        )
    return found


def jsonl_line_item(line: bytes, number: int, *, context: Mapping[str, Any]) -> RawItem | None:
    """The raw item for one physical JSONL line (terminator and a leading BOM removed), or None
    for a blank line."""
    if line.endswith(b"\n"):
        line = line[:-1]
    if line.endswith(b"\r"):
        line = line[:-1]
    if number == 1 and line.startswith(_BOM):
        line = line[len(_BOM) :]
    if not line.strip():
        return None
    return RawItem(payload=line, location=f"line {number}", context=dict(context))


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class ImportReader:
    """An open import file. Use through :func:`open_import` as a context manager."""

    def __init__(
        self, path: Path, *, fmt: str, mapping: Mapping[str, str], max_item_bytes: int, source_name: str
    ) -> None:
        self.path = path
        self.format = fmt
        self.mapping = dict(mapping)
        self.max_item_bytes = max_item_bytes
        self.source_name = source_name
        self.hard_limit = max(MIN_HARD_LIMIT, 4 * max_item_bytes)
        self.total_bytes = path.stat().st_size
        self.warnings: list[str] = []
        self._file: IO[bytes] = path.open("rb")
        self._raw: IO[bytes] = self._file
        self._context: dict[str, Any] = {"format": fmt, "file": path.name, "source": source_name}
        self._columns: dict[str, str] = {}  # field -> header column
        self._extras: list[str] = []
        self._header: list[str] = []
        self._header_text = ""
        self._text: io.TextIOWrapper | None = None
        self._first = ""
        try:
            self._open()
        except (OSError, EOFError) as exc:  # a damaged .gz, a disk error
            self.close()
            raise ImportFormatError(f"cannot read the file: {exc}", location=str(path)) from exc
        except BaseException:
            self.close()
            raise

    # -- opening and checks -------------------------------------------------------------------

    def _open(self) -> None:
        head = self._file.read(4)
        self._file.seek(0)
        if head.startswith(_GZIP_MAGIC):
            self._raw = cast(IO[bytes], gzip.GzipFile(fileobj=self._file, mode="rb"))
            try:
                head = self._raw.read(4)
                self._raw.seek(0)
            except (OSError, EOFError) as exc:
                raise ImportFormatError(f"not a readable gzip file: {exc}", location=str(self.path)) from exc
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ImportFormatError("the file is UTF-16; save it as UTF-8 and import again", location=str(self.path))
        unknown = sorted(set(self.mapping) - set(FIELDS))
        if unknown:
            raise ImportFormatError(
                f"--map names unknown field(s) {', '.join(unknown)}; fields are: {', '.join(FIELDS)}",
                location=str(self.path),
            )
        if self.format == "csv":
            self._open_csv()
            return
        self._check_json_lines()
        if self.mapping:
            self._context["mapping"] = self.mapping

    def _check_json_lines(self) -> None:
        """Refuse a JSON array or a pretty-printed object up front: read as lines, every line of it
        would be quarantined on its own."""
        head = self._raw.read(64 * 1024)
        self._raw.seek(0)
        first = head.removeprefix(_BOM).lstrip().split(b"\n", 1)[0].strip()
        if first.startswith(b"[") or first == b"{":
            raise ImportFormatError(
                "this is one JSON document (an array or a pretty-printed object), not JSON Lines with one "
                "record per line; convert it, e.g. jq -c '.[]' export.json > export.jsonl",
                location=str(self.path),
            )

    def _open_csv(self) -> None:
        # surrogateescape: a record with invalid UTF-8 is rejected alone, not the whole file.
        self._text = io.TextIOWrapper(self._raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
        try:
            self._first = self._text.readline(self.hard_limit)
        except (OSError, EOFError) as exc:
            raise ImportFormatError(f"cannot read the file: {exc}", location=str(self.path)) from exc
        if not self._first.strip():
            raise ImportFormatError("the CSV file has no header line", location=str(self.path))
        delimiter = _sniff_delimiter(self._first)
        self._delimiter = delimiter
        self._header = [c.strip() for c in next(csv.reader([self._first], delimiter=delimiter))]
        self._header_text = self._first.rstrip("\r\n").encode("utf-8", "replace").decode("utf-8")
        self._resolve_columns()
        self._context["header"] = self._header_text

    def _resolve_columns(self) -> None:
        """Match our fields to header columns (exact name, then case-insensitive) and check that
        every required field has one, before a single row is imported."""
        by_lower: dict[str, str] = {}
        for col in self._header:
            by_lower.setdefault(col.lower(), col)
        found = ", ".join(repr(c) for c in self._header)
        used = ", ".join(f"{f}={c}" for f, c in self.mapping.items()) or "none"
        for field in FIELDS:
            wanted = self.mapping.get(field, field)
            column = wanted if wanted in self._header else by_lower.get(wanted.lower())
            if column is not None:
                self._columns[field] = column
            elif field in self.mapping:
                raise ImportFormatError(
                    f"--map {field}={wanted} names column {wanted!r}, which is not in the file "
                    f"(mapping used: {used}; columns found: {found})",
                    location=str(self.path),
                )
        for field in REQUIRED:
            if field not in self._columns:
                raise ImportFormatError(
                    f"missing required column {self.mapping.get(field, field)!r} for field {field!r} "
                    f"(mapping used: {used}; columns found: {found}); map it with --map {field}=COLUMN",
                    location=str(self.path),
                )
        if not any(f in self._columns for f in TEXT_FIELDS):
            raise ImportFormatError(
                f"missing required column {self.mapping.get('text', 'text')!r} for field 'text' "
                f"(or a 'title' or 'html' column; mapping used: {used}; columns found: {found}); "
                "map it with --map text=COLUMN",
                location=str(self.path),
            )
        mapped = set(self._columns.values())
        self._extras = [c for c in self._header if c not in mapped]

    # -- reading ------------------------------------------------------------------------------

    def position(self) -> int:
        """Bytes of the file on disk read so far (compressed bytes for .gz), for progress bars."""
        try:
            return min(self._file.tell(), self.total_bytes)
        except (OSError, ValueError):
            return self.total_bytes

    def items(self) -> Iterator[RawItem | Rejected]:
        try:
            yield from self._csv_items() if self.format == "csv" else self._jsonl_items()
        except (OSError, EOFError) as exc:  # a truncated .gz, a disk error
            raise ImportFormatError(f"reading stopped: {exc}", location=str(self.path)) from exc

    def _jsonl_items(self) -> Iterator[RawItem | Rejected]:
        number = 0
        readline = self._raw.readline
        while line := readline(self.hard_limit + 1):
            number += 1
            if len(line) > self.hard_limit and not line.endswith(b"\n"):
                size = len(line) + self._skip_rest_of_line()
                yield Rejected(
                    payload=line[: self.max_item_bytes],
                    reason=f"line is {size:,} bytes, over the hard limit of {self.hard_limit:,}; only its first "
                    f"{self.max_item_bytes:,} bytes are kept here, import it from the file once split",
                    location=f"line {number}",
                    context={**self._context, "level": "item", "truncated": True},
                )
                continue
            item = jsonl_line_item(line, number, context=self._context)
            if item is not None:
                yield item

    def _skip_rest_of_line(self) -> int:
        skipped = 0
        while chunk := self._raw.readline(1 << 20):
            skipped += len(chunk)
            if chunk.endswith(b"\n"):
                break
        return skipped

    def _csv_items(self) -> Iterator[RawItem | Rejected]:
        assert self._text is not None
        lines = _LineTap(self._first, self._text, self.hard_limit)
        if csv.field_size_limit() < self.hard_limit:
            csv.field_size_limit(min(self.hard_limit, sys.maxsize))
        reader = csv.reader(lines, delimiter=self._delimiter)
        width = len(self._header)
        next(reader)  # the header, checked in _open_csv
        while True:
            lines.start()
            start = lines.number + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if not lines.taken:  # the reader did not move on: give up rather than loop
                    raise ImportFormatError(f"CSV error: {exc}", location=f"line {start}") from exc
                yield self._reject_record(lines.taken, start, f"CSV error: {exc}")
                continue
            if not any(c.strip() for c in cells):
                continue
            raw_text = "".join(lines.taken)
            if len(cells) > width:
                yield self._reject_record(
                    lines.taken, start, f"record has {len(cells)} cells but the header has {width} columns"
                )
                continue
            bad_at = _first_undecodable(raw_text)
            if bad_at is not None:
                byte = len(raw_text[:bad_at].encode("utf-8", "surrogateescape"))
                yield self._reject_record(lines.taken, start, f"invalid UTF-8 at byte {byte} of the record")
                continue
            row = dict(zip(self._header, cells, strict=False))
            yield RawItem(
                payload=json.dumps(self._map_row(row), ensure_ascii=False).encode("utf-8"),
                location=f"line {start}",
                context={**self._context, "row": raw_text.rstrip("\r\n")},
            )

    def _map_row(self, row: dict[str, str]) -> dict[str, str]:
        out = {field: row.get(column, "") for field, column in self._columns.items()}
        for column in self._extras:
            out[f"_{column}" if column in out else column] = row.get(column, "")
        return out

    def _reject_record(self, taken: list[str], start: int, reason: str) -> Rejected:
        payload = "".join(taken).encode("utf-8", "surrogateescape")
        return Rejected(
            payload=payload,
            reason=reason,
            location=f"line {start}",
            content_type="text/csv",
            context={**self._context, "level": "item", "row": payload.decode("utf-8", "replace").rstrip("\r\n")},
        )

    def close(self) -> None:
        if self._text is not None:
            self._text.detach()
        if self._raw is not self._file:
            self._raw.close()
        self._file.close()

    def __enter__(self) -> ImportReader:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


def _first_undecodable(text: str) -> int | None:
    """Index of the first byte that was not UTF-8 (kept as a lone surrogate by surrogateescape)."""
    if text.isascii():
        return None
    return next((i for i, ch in enumerate(text) if "\udc80" <= ch <= "\udcff"), None)


class _LineTap:
    """Feeds physical lines to ``csv.reader`` and remembers which lines each record took."""

    def __init__(self, first: str, text: io.TextIOWrapper, limit: int) -> None:
        self._pending: str | None = first
        self._text = text
        self._limit = limit
        self.number = 0
        self.taken: list[str] = []

    def start(self) -> None:
        self.taken = []

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        if self._pending is not None:
            line, self._pending = self._pending, None
        else:
            line = self._text.readline(self._limit)
        if not line:
            raise StopIteration
        self.number += 1
        self.taken.append(line)
        return line


def open_import(
    path: Path, *, fmt: str | None, mapping: Mapping[str, str] | None, max_item_bytes: int, source_name: str
) -> ImportReader:
    """Open ``path`` for import and check it; ImportFormatError says what is wrong before any row."""
    chosen = detect_format(path, fmt)
    if not path.exists():
        raise ImportFormatError("no such file", location=str(path))
    if not path.is_file():
        raise ImportFormatError("not a regular file", location=str(path))
    try:
        return ImportReader(
            path, fmt=chosen, mapping=mapping or {}, max_item_bytes=max_item_bytes, source_name=source_name
        )
    except OSError as exc:
        raise ImportFormatError(f"cannot read the file: {exc.strerror or exc}", location=str(path)) from exc

"""The file connector: JSONL and CSV files imported with ``resonanz import``.

A file source is filled by pushing a file at it, not by a schedule, so :meth:`FileConnector.pull`
has nothing to fetch. Reading happens in :mod:`resonanz.connectors.file.reader` (streaming, one
record at a time) and mapping in :mod:`resonanz.connectors.file.parse` (pure).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from resonanz.connectors.base import Connector, PullResult, RawItem, SplitResult
from resonanz.connectors.file.parse import DEFAULT_PLATFORM, FIELDS, parse_record
from resonanz.connectors.file.reader import jsonl_line_item
from resonanz.mentions.schemas import MentionIn


class FileConfig(BaseModel):
    """Defaults for imports into this source; ``resonanz import`` flags win over them."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["jsonl", "csv"] | None = Field(default=None, description="jsonl or csv; else from the extension")
    mapping: dict[str, str] = Field(default_factory=dict, description="our field -> the file's column")

    @field_validator("mapping")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; fields are: {', '.join(FIELDS)}")
        return value


class FileConnector(Connector):
    kind: ClassVar[str] = "file"
    title: ClassVar[str] = "File import (JSONL, CSV)"
    platform: ClassVar[str] = DEFAULT_PLATFORM
    Config: ClassVar[type[BaseModel]] = FileConfig
    pulls: ClassVar[bool] = False

    def pull(self, cursor: dict[str, Any]) -> PullResult:
        """Nothing to fetch: files arrive through ``resonanz import PATH --source NAME``."""
        return PullResult(
            cursor=cursor,
            warnings=["a file source has nothing to pull; import files with `resonanz import PATH --source NAME`"],
        )

    @classmethod
    def split(cls, document: bytes, context: dict[str, Any]) -> SplitResult:
        """A whole JSONL document (small: in memory) cut into one raw item per non-blank line."""
        result = SplitResult()
        for number, line in enumerate(document.split(b"\n"), start=1):
            item = jsonl_line_item(line, number, context=context)
            if item is not None:
                result.items.append(item)
        return result

    @classmethod
    def parse(cls, item: RawItem) -> MentionIn:
        """One record (JSON object bytes) -> mention; raw is the record."""
        return parse_record(item)

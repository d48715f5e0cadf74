"""The stage contract.

A stage is pure and batch-oriented: it gets a batch of :class:`Doc` plus, for each doc, the
results of the stages it ``requires``, and returns one JSON-able result dict per doc. It never
touches the database (the runner persists) and never raises for one bad text: a stage that cannot
judge a text returns a defined "don't know" result (``"und"``, ``None``). Should it raise anyway,
the runner isolates the poisoned doc and records an error result for it alone.

``version`` is part of every stored result: bumping it marks all older results stale, so
re-analysis is a background job, not a migration. ``columns`` projects a result onto the indexed
columns of ``mention`` (language, sentiment, intent …) that search and dashboards filter on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from resonanz.config import Settings
from resonanz.mentions.models import ANALYSIS_COLUMNS

#: The mention columns a stage may fill (see the 0002 migration).
PROJECTED_COLUMNS = ANALYSIS_COLUMNS

Result = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Doc:
    """What a stage may read about a mention."""

    mention_id: int
    text: str
    title: str | None = None
    language_hint: str | None = None
    platform: str = ""
    followers: int | None = None
    #: post, comment, article, review or message (a message is addressed to the company)
    kind: str = "post"
    #: True when the mention answers another one (a comment, a reply in a thread)
    is_reply: bool = False

    @property
    def full_text(self) -> str:
        return f"{self.title}\n{self.text}" if self.title else self.text


class Stage(ABC):
    """Base class of every stage; subclasses set the class attributes."""

    name: ClassVar[str]
    version: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()
    provides: ClassVar[tuple[str, ...]] = ()
    #: one line for users: what the stage finds out
    title: ClassVar[str] = ""

    def __init__(self, settings: Settings) -> None:
        # Cheap: heavy models are loaded lazily, once per process, by the modules that own them.
        self.settings = settings

    @abstractmethod
    def run(self, docs: Sequence[Doc], upstream: Sequence[Mapping[str, Result]]) -> list[Result]:
        """One result per doc, in order. ``upstream[i][stage_name]`` is a required stage's result."""

    def columns(self, result: Result) -> dict[str, Any]:
        """The mention columns this result sets (a subset of PROJECTED_COLUMNS)."""
        return {}

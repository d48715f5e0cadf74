"""Plugin hook specifications. Built-in features register through the same hooks as plugins
installed under the ``resonanz`` entry-point group, so a user adds a platform without forking."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.orm import Session

    from resonanz.analysis.stages.base import Stage
    from resonanz.connectors.base import Connector

hookspec = pluggy.HookspecMarker("resonanz")
hookimpl = pluggy.HookimplMarker("resonanz")


@hookspec
def register_connectors() -> list[type[Connector]]:  # type: ignore[empty-body]
    """Return connector classes to make available as source kinds."""


@hookspec
def register_stages() -> list[type[Stage]]:  # type: ignore[empty-body]
    """Return analysis stage classes; the runner orders them by what they require."""


@hookspec
def mentions_matched(session: Session, mention_ids: Sequence[int]) -> None:
    """Called inside the analysis transaction after a batch of mentions was analysed and its
    listening-query matches were stored (``query_match``), so listeners see the final labels and
    matches: dashboard rollups refresh their buckets, case intake decides which mentions need an
    answer. Keep it cheap (a few set-based statements per batch) or enqueue a job; never commit."""


@hookspec
def register_notifiers() -> list[type[object]]:  # type: ignore[empty-body]
    """Return notifier classes (e-mail, webhook, chat …) that alerts and reports can deliver through."""

"""Plugin hook specifications. Built-in features register through the same hooks as plugins
installed under the ``resonanz`` entry-point group, so a user adds a platform without forking."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
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

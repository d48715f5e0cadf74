"""Registers the analysis stages that ship with Resonanz."""

from __future__ import annotations

from resonanz.analysis.stages.base import Stage
from resonanz.hookspecs import hookimpl


@hookimpl
def register_stages() -> list[type[Stage]]:
    from resonanz.analysis.stages.builtin_list import BUILTIN_STAGES

    return list(BUILTIN_STAGES)

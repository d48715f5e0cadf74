"""The built-in stages, in no particular order (the runner orders them by ``requires``)."""

from __future__ import annotations

from resonanz.analysis.stages.base import Stage

BUILTIN_STAGES: tuple[type[Stage], ...] = ()

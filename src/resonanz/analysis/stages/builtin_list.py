"""The built-in stages, in no particular order (the runner orders them by ``requires``)."""

from __future__ import annotations

from resonanz.analysis.stages.base import Stage
from resonanz.analysis.stages.language import LanguageStage

BUILTIN_STAGES: tuple[type[Stage], ...] = (LanguageStage,)

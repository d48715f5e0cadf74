"""The built-in stages, in no particular order (the runner orders them by ``requires``)."""

from __future__ import annotations

from resonanz.analysis.stages.base import Stage
from resonanz.analysis.stages.crisis import CrisisStage
from resonanz.analysis.stages.entities import EntitiesStage
from resonanz.analysis.stages.intent import IntentStage
from resonanz.analysis.stages.language import LanguageStage
from resonanz.analysis.stages.offensive import OffensiveStage
from resonanz.analysis.stages.privacy import PrivacyStage
from resonanz.analysis.stages.sentiment import SentimentStage

BUILTIN_STAGES: tuple[type[Stage], ...] = (
    PrivacyStage,
    CrisisStage,
    EntitiesStage,
    LanguageStage,
    IntentStage,
    OffensiveStage,
    SentimentStage,
)

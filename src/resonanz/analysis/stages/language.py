"""The language stage: which of the configured languages a mention is written in.

The model, its normalisation and the decision rules live in
:mod:`resonanz.analysis.classifiers.language`; this module adapts them to the stage contract.
Every text gets a result: an ISO 639-1 code from ``settings.analysis_languages`` with a
confidence, or ``"und"`` with the reason (empty, too short, unclear, another language).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from resonanz.analysis.classifiers.language import identifier
from resonanz.analysis.stages.base import Doc, Result, Stage
from resonanz.config import Settings
from resonanz.errors import ConfigError


class LanguageStage(Stage):
    """``{"lang", "confidence", "candidates": [[code, p], …top 3], "reason"}`` per mention.

    ``reason`` explains the answer: "model", "hint agreed" (the source's language tag and the
    model agree), "hint decided" (the tag tipped a close call), "hint overruled" (the model was
    sure of another language), "model (hint not configured)", or for "und": "empty", "too short",
    "unclear", "other language (xx)".
    """

    name = "language"
    version = "1"
    provides = ("lang",)
    title = "language (ISO 639-1) and confidence; 'und' when too short, unclear or not configured"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        codes = tuple(dict.fromkeys(code.strip().lower() for code in settings.analysis_languages))
        bad = [c for c in codes if len(c) != 2 or not c.isascii() or not c.isalpha()]
        if bad or not codes:
            raise ConfigError(f"analysis_languages must be ISO 639-1 codes (two letters); got {bad or 'none'}")
        self.languages = codes

    def run(self, docs: Sequence[Doc], upstream: Sequence[Mapping[str, Result]]) -> list[Result]:
        guesses = identifier(self.languages).identify([d.full_text for d in docs], [d.language_hint for d in docs])
        return [g.as_dict() for g in guesses]

    def columns(self, result: Result) -> dict[str, Any]:
        return {"lang": result["lang"], "lang_confidence": result["confidence"]}

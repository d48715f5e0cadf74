"""The intent stage: complaint, question, praise, suggestion or other, and whether it needs a response.

The model and the decision list live in :mod:`resonanz.analysis.classifiers.intent`; this module
adapts them to the stage contract and adds what only the stage knows: the configured brands. A
complaint or question that names a configured brand (or alias) counts as addressed to the company,
like one with an @handle or a "you"/"ihr"/"Sie".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from resonanz.analysis.classifiers.intent import NEEDS_RESPONSE, classify
from resonanz.analysis.stages.base import Doc, Result, Stage
from resonanz.config import Settings


def _brand_pattern(brands: Mapping[str, Sequence[str]]) -> re.Pattern[str] | None:
    names = sorted({n.strip().lower() for brand, aliases in brands.items() for n in (brand, *aliases) if n.strip()})
    if not names:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")(?!\w)")


class IntentStage(Stage):
    """``{"intent", "confidence", "needs_response", "reasons": [rule hits, "word: …"]}`` per mention.

    Uses the language stage's answer: texts neither in German nor English get rules only.
    """

    name = "intent"
    version = "1"
    requires = ("language",)
    provides = ("intent", "needs_response")
    title = "intent (complaint, question, praise, suggestion, other) and whether it needs a response"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.brands = _brand_pattern(getattr(settings, "brands", {}) or {})

    def run(self, docs: Sequence[Doc], upstream: Sequence[Mapping[str, Result]]) -> list[Result]:
        texts = [d.full_text for d in docs]
        langs = [_lang(doc, up) for doc, up in zip(docs, upstream, strict=True)]
        out: list[Result] = []
        for text, found in zip(texts, classify(texts, langs), strict=True):
            result = found.as_result()
            if self.brands is not None and found.intent in NEEDS_RESPONSE and not found.needs_response:
                hit = self.brands.search(text[:2000].lower())
                if hit is not None:
                    result["needs_response"] = True
                    result["reasons"].append(f"addressed: brand {hit.group(0)}")
            out.append(result)
        return out

    def columns(self, result: Result) -> dict[str, Any]:
        if "intent" not in result:
            return {}
        return {"intent": result["intent"], "needs_response": bool(result["needs_response"])}


def _lang(doc: Doc, upstream: Mapping[str, Result]) -> str | None:
    """The language stage's code ("und" when it could not tell); the source's hint without it."""
    lang = upstream.get("language", {}).get("lang")
    return lang if isinstance(lang, str) else doc.language_hint

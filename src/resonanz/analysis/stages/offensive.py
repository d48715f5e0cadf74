"""The offensive-language stage: insults, abuse, profanity and toxic comments in German and English.

The model lives in :mod:`resonanz.analysis.classifiers.offensive`. The result feeds the risk view
(``offensive`` column) and moderation; the explanation names the words that made a text offensive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from resonanz.analysis.classifiers.offensive import judge
from resonanz.analysis.stages.base import Doc, Result, Stage


class OffensiveStage(Stage):
    """``{"label": "offensive"|"other", "score": P(offensive), "explanation": ["word: …"]}`` per mention.

    Texts neither in German nor English score 0 with the explanation "language not modelled".
    """

    name = "offensive"
    version = "1"
    requires = ("language",)
    provides = ("offensive",)
    title = "offensive or toxic language (German, English) with the words that made it so"

    def run(self, docs: Sequence[Doc], upstream: Sequence[Mapping[str, Result]]) -> list[Result]:
        langs = [_lang(doc, up) for doc, up in zip(docs, upstream, strict=True)]
        found = judge([d.full_text for d in docs], langs)
        return [{"label": j.label, "score": j.score, "explanation": list(j.explanation)} for j in found]

    def columns(self, result: Result) -> dict[str, Any]:
        if "label" not in result:
            return {}
        return {"offensive": result["label"] == "offensive"}


def _lang(doc: Doc, upstream: Mapping[str, Result]) -> str | None:
    lang = upstream.get("language", {}).get("lang")
    return lang if isinstance(lang, str) else doc.language_hint

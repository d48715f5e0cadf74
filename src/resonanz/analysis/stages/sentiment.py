"""The sentiment stage: negative / neutral / positive for German and English mentions.

The models and the cascade live in :mod:`resonanz.analysis.classifiers.sentiment`; this module
picks the language (the language stage's answer; for "und" the source's hint or the best de/en
candidate) and adapts the results to the stage contract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from resonanz.analysis.classifiers.sentiment import LANGS, classify
from resonanz.analysis.stages.base import Doc, Result, Stage


def _language(doc: Doc, upstream: Mapping[str, Result]) -> str | None:
    found = upstream.get("language") or {}
    lang = found.get("lang")
    if lang in LANGS:
        return str(lang)
    if lang not in (None, "und"):
        return None  # a language we have no model for
    hint = (doc.language_hint or "").lower()[:2]
    if hint in LANGS:
        return hint
    for candidate in found.get("candidates") or ():
        if isinstance(candidate, list | tuple) and candidate and candidate[0] in LANGS:
            return str(candidate[0])
    return None


class SentimentStage(Stage):
    """``{"label", "score", "probabilities", "tier", "explanation": [[word, weight], …]}`` per
    mention; ``{"label": None, "reason": "unsupported language"}`` outside German and English.

    ``score`` is the calibrated probability of ``label``; ``tier`` says which model decided
    ("fast" or "accurate"); a low-confidence result the cascade could not re-score carries
    ``"accurate"`` with the reason.
    """

    name = "sentiment"
    version = "1"
    requires = ("language",)
    provides = ("sentiment", "sentiment_score")
    title = "sentiment (negative/neutral/positive) with a calibrated score and the words that drove it (de, en)"

    def run(self, docs: Sequence[Doc], upstream: Sequence[Mapping[str, Result]]) -> list[Result]:
        langs = [_language(d, up) for d, up in zip(docs, upstream, strict=True)]
        cfg = self.settings
        results = classify(
            [d.full_text for d in docs], langs, tier=cfg.sentiment_tier, threshold=cfg.sentiment_cascade_threshold,
            max_share=cfg.sentiment_cascade_max_share, cache_dir=cfg.data_dir / "models",
            transformers_dir=cfg.sentiment_transformers_model, cascade_langs=cfg.sentiment_cascade_langs,
        )  # fmt: skip
        for result, lang, up in zip(results, langs, upstream, strict=True):
            if result.get("label") is not None:
                result["lang"] = lang
            elif (up.get("language") or {}).get("lang") in (None, "und"):
                result["reason"] = "language unknown"
        return results

    def columns(self, result: Result) -> dict[str, Any]:
        if result.get("label") is None:
            return {}
        return {"sentiment": result["label"], "sentiment_score": result["score"]}

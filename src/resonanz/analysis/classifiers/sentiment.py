"""Sentiment (negative / neutral / positive) for German and English: the fast tier, the cascade,
training and evaluation (``TASK``).

Fast tier: one :class:`~resonanz.analysis.classifiers.linear.LinearModel` per language (hashed
word 1-2 + char 3-5 grams, balanced logistic regression, temperature-calibrated), shipped as
``artifacts/sentiment_<lang>.npz`` + ``.json`` and loaded lazily once per process. Every result
carries the words that drove it.

Cascade: texts whose fast-tier score (calibrated probability of the label) is below
``threshold`` are re-scored by the accurate tier (:mod:`sentiment_accurate`) when it is installed
for that language; otherwise the fast result stands and says why (``"accurate": "…"``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from resonanz.analysis.classifiers import sentiment_accurate, sentiment_transformers
from resonanz.analysis.classifiers.linear import Features, Featurizer, LinearModel, featurize
from resonanz.analysis.classifiers.sentiment_data import LABELS, load
from resonanz.analysis.metrics import score
from resonanz.analysis.tasks import ARTIFACTS

log = logging.getLogger(__name__)

LANGS = ("de", "en")
#: default cascade threshold: re-score texts whose fast-tier score is below this
DEFAULT_THRESHOLD = 0.5
#: default cap on the share of a batch the cascade re-scores (bounds the accurate tier's cost)
DEFAULT_MAX_SHARE = 0.0005
FEATURIZER = Featurizer(bits=18, word_n=2, char_range=(3, 5))
C = 4.0
SEED = 0


def artifact(lang: str, directory: Path = ARTIFACTS) -> Path:
    return directory / f"sentiment_{lang}"


@cache
def fast_model(lang: str, directory: Path = ARTIFACTS) -> LinearModel | None:
    """The shipped model for ``lang``, or ``None`` when there is none (unsupported language)."""
    path = artifact(lang, directory)
    if lang not in LANGS or not path.with_suffix(".npz").exists():
        return None
    return LinearModel.load(path)


def _fast(
    model: LinearModel, texts: Sequence[str] | Features, tier: str
) -> tuple[list[dict[str, Any]], npt.NDArray[np.float32]]:
    feats = texts if isinstance(texts, Features) else featurize(model.featurizer, texts)
    proba, why = model.explained(feats, top=5)
    best = proba.argmax(axis=1).tolist()
    labels = model.labels
    out = []
    for row, label_index, words in zip(proba.tolist(), best, why, strict=True):
        out.append({
            "label": labels[label_index],
            "score": round(row[label_index], 4),
            "probabilities": {label: round(p, 4) for label, p in zip(labels, row, strict=True)},
            "tier": tier,
            "explanation": [[w, s] for w, s in words],
        })  # fmt: skip
    return out, proba


class Scorer(Protocol):
    """What the cascade needs from an accurate tier (built-in head or a transformers model)."""

    labels: tuple[str, ...]

    def predict_proba(
        self, texts: Sequence[str], fast_proba: npt.NDArray[np.float32] | None = None
    ) -> npt.NDArray[np.float32]: ...


@dataclass
class ShareBudget:
    """How many mentions the cascade may re-score, spread over batches: each batch earns
    ``max_share`` x its size in credit, a re-score spends one. The credit starts at one (a first or
    single text, as in ``analyze-text``, can be re-scored) and is capped at one batch's worth plus
    one, so quiet batches do not save up a burst. This bounds the accurate tier's cost per mention
    whatever the data, even at shares below one mention per batch."""

    credit: float = 1.0

    def allowance(self, n: int, max_share: float) -> int:
        if max_share <= 0:
            return 0
        self.credit = min(self.credit + max_share * n, 1.0 + max_share * n)
        return math.floor(self.credit + 1e-9)

    def spend(self, used: int) -> None:
        self.credit -= used


#: the process's budget for the pipeline (one per process, like the models)
BUDGET = ShareBudget()


def chosen_for_rescoring(scores: Sequence[float], *, threshold: float, limit: int) -> list[int]:
    """Indices the cascade re-scores: scores below ``threshold``, the least confident first, at
    most ``limit`` of them, returned in input order."""
    below = [j for j, s in enumerate(scores) if s < threshold]
    if len(below) > limit:
        below = sorted(sorted(below, key=lambda j: scores[j])[: max(limit, 0)])
    return below


def classify(
    texts: Sequence[str], langs: Sequence[str | None], *, tier: str = "fast",
    threshold: float = DEFAULT_THRESHOLD, max_share: float = DEFAULT_MAX_SHARE, directory: Path = ARTIFACTS,
    cache_dir: Path | None = None, transformers_dir: Path | None = None, cascade_langs: Sequence[str] = LANGS,
    budget: ShareBudget | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """One result per text. ``tier``: ``fast`` (every text), ``accurate`` (every text through the
    accurate tier where it is installed) or ``cascade`` (the accurate tier for texts whose fast
    score is below ``threshold``, least confident first, at most ``max_share`` of the mentions over
    time: see :class:`ShareBudget`; ``budget`` defaults to the process's).
    Texts in a language without a model get ``{"label": None, "reason": "unsupported language"}``.
    ``cache_dir``: where converted encoder weights are cached (default: the user's data dir);
    ``transformers_dir``: a local Hugging Face model that replaces the built-in accurate tier;
    ``cascade_langs``: the languages the cascade re-scores (the German encoder costs ~10x the English one)."""
    results: list[dict[str, Any]] = [{"label": None, "reason": "unsupported language"} for _ in texts]
    shared: dict[Featurizer, Features] = {}  # the whole batch featurised once (and shared with offensive)
    groups: list[tuple[str, list[int], list[dict[str, Any]], npt.NDArray[np.float32]]] = []
    for lang in LANGS:
        idx = [i for i, lg in enumerate(langs) if lg == lang]
        model = fast_model(lang, directory) if idx else None
        if model is None:
            continue
        if model.featurizer not in shared:
            shared[model.featurizer] = featurize(model.featurizer, texts)
        feats = shared[model.featurizer]
        fast, proba = _fast(model, feats if len(idx) == len(texts) else feats.take(idx), "fast")
        groups.append((lang, idx, fast, proba))
        for i, result in zip(idx, fast, strict=True):
            results[i] = result
    if tier not in ("accurate", "cascade"):
        return results
    scored = [i for lang, idx, _, _ in groups if tier == "accurate" or lang in cascade_langs for i in idx]
    picked = set(scored)
    if tier == "cascade":  # the share cap is over the whole batch, so its cost is bounded per batch
        wallet = BUDGET if budget is None else budget
        limit = wallet.allowance(len(scored), max_share)
        order = chosen_for_rescoring([results[i]["score"] for i in scored], threshold=threshold, limit=limit)
        wallet.spend(len(order))
        picked = {scored[j] for j in order}
    for lang, idx, fast, proba in groups:
        chosen = [j for j, i in enumerate(idx) if i in picked]
        _rescore(lang, [texts[i] for i in idx], fast, proba, chosen, directory, cache_dir, transformers_dir)
    return results


def _rescore(
    lang: str, texts: Sequence[str], fast: list[dict[str, Any]], proba: npt.NDArray[np.float32], chosen: list[int],
    directory: Path, cache_dir: Path | None, transformers_dir: Path | None = None,
) -> None:  # fmt: skip
    """Replace the chosen fast results by the accurate tier's, keeping the fast explanation."""
    if not chosen:
        return
    scorer: Scorer | str
    if transformers_dir is not None:
        scorer = sentiment_transformers.scorer(transformers_dir)
    else:
        scorer = sentiment_accurate.scorer(lang, directory, cache_dir=cache_dir)
    if isinstance(scorer, str):  # not available: say why, keep the fast result
        for j in chosen:
            fast[j]["accurate"] = scorer
        return
    try:
        accurate = scorer.predict_proba([texts[j] for j in chosen], proba[chosen])
    except Exception as exc:
        log.warning("accurate sentiment tier failed on a batch: %s", exc)
        for j in chosen:
            fast[j]["accurate"] = f"accurate tier failed ({type(exc).__name__}); fast result kept"
        return
    for j, row in zip(chosen, accurate, strict=True):
        best = int(np.argmax(row))
        fast[j].update(
            label=scorer.labels[best], score=round(float(row[best]), 4), tier="accurate", fast_label=fast[j]["label"],
            probabilities={label: round(float(p), 4) for label, p in zip(scorer.labels, row, strict=True)},
        )  # fmt: skip


@cache
def _two_way() -> Any:
    """py3langid restricted to de/en: a task-level fallback when an example carries no language."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(list(LANGS))
    return identifier


class SentimentTask:
    """``resonanz models train|evaluate --task sentiment``."""

    name = "sentiment"
    labels = LABELS

    def __init__(self) -> None:
        #: what the last :meth:`predict` call re-scored (shown by ``resonanz models evaluate``)
        self.last_report: dict[str, Any] = {}

    def predict(
        self, texts: Sequence[str], langs: Sequence[str | None], *, tier: str = "cascade",
        threshold: float = DEFAULT_THRESHOLD, max_share: float = DEFAULT_MAX_SHARE,
        transformers_dir: Path | None = None, cache_dir: Path | None = None, cascade_langs: Sequence[str] = LANGS,
    ) -> list[str]:  # fmt: skip
        """Labels for evaluation; an example without a de/en language is routed by py3langid
        restricted to de/en, and a text no model judges counts as neutral."""
        routed = [lg if lg in LANGS else str(_two_way().classify(t)[0]) for t, lg in zip(texts, langs, strict=True)]
        results = classify(
            texts, routed, tier=tier, threshold=threshold, max_share=max_share, transformers_dir=transformers_dir,
            cache_dir=cache_dir, cascade_langs=cascade_langs, budget=ShareBudget(),
        )  # fmt: skip
        rescored = sum(r.get("tier") == "accurate" for r in results)
        reasons = sorted({str(r["accurate"]) for r in results if "accurate" in r})
        self.last_report = {
            "rescored": rescored, "rescored_share": round(rescored / len(texts), 4) if texts else 0.0,
            **({"threshold": threshold, "max_share": max_share} if tier == "cascade" else {}),
            **({"accurate_unavailable": reasons} if reasons else {}),
        }  # fmt: skip
        return [r["label"] or "neutral" for r in results]

    def train(
        self, data_dir: Path, *, out_dir: Path = ARTIFACTS, feedback: Sequence[tuple[str, str, str | None]] = ()
    ) -> dict[str, Any]:
        """One model per language from the licence-cleared sets (see :mod:`sentiment_data`), plus
        people's corrections (a correction without a language goes into both); writes
        ``sentiment_<lang>`` to ``out_dir`` and returns the dev-set report."""
        corpus = load(data_dir)
        report: dict[str, Any] = {}
        for lang in LANGS:
            rows = list(corpus.train.get(lang, []))
            rows += [(t, label, "feedback") for t, label, lg in feedback if lg in (lang, None) and label in LABELS]
            if len({label for _, label, _ in rows}) < 2:
                report[lang] = {"skipped": "no training data"}
                continue
            started = time.perf_counter()
            model = LinearModel.fit([r[0] for r in rows], [r[1] for r in rows], featurizer=FEATURIZER, c=C, seed=SEED)
            sources = sorted({r[2] for r in rows})
            trained_on = {s: corpus.sources.get(s, "corrections") for s in sources}
            model.meta = {"task": "sentiment", "lang": lang, "trained_on": trained_on, "rows": len(rows), "c": C,
                          "seed": SEED}  # fmt: skip
            model.save(artifact(lang, out_dir))
            fast_model.cache_clear()
            report[lang] = {"rows": len(rows), "seconds": round(time.perf_counter() - started, 1),
                            "temperature": model.temperature, "dev": {}}  # fmt: skip
            for dev in (d for d in corpus.dev if d.lang == lang):
                predicted = [r["label"] for r in classify(dev.texts, [lang] * len(dev.texts), directory=out_dir)]
                scores = score(dev.labels, predicted, labels=LABELS).as_dict()
                report[lang]["dev"][dev.name] = {
                    "metric": dev.metric, "value": scores[dev.metric], "n": scores["n"],
                    "macro_f1": scores["macro_f1"], "accuracy": scores["accuracy"],
                }  # fmt: skip
            model.meta["dev"] = report[lang]["dev"]
            model.save(artifact(lang, out_dir))
        return report


TASK = SentimentTask()

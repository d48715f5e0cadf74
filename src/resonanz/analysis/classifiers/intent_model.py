"""A small, fast, explainable text classifier: binary word 1-2-grams + multinomial logistic regression.

Why this shape: the intent and offensive stages must each score >= 20,000 texts/s on one core
(the whole pipeline has a budget of 200 us per mention). Word n-grams with a fixed vocabulary cost
~20 us per short text; character n-grams cost ~70 us and were ruled out. Keeping the vocabulary
(rather than hashing) lets every prediction name the words that drove it.

The artifact is two files next to each other: ``NAME.npz`` (float16 weights, the vocabulary as one
newline-joined UTF-8 blob; no pickles) and ``NAME.json`` (classes, settings, training report). The
vocabulary holds only n-grams seen at least twice in training and kept by the model, so it does not
reproduce any training text.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from scipy import sparse  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import CountVectorizer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

from resonanz.analysis.stopwords import STOPWORDS

#: bump when :func:`normalize` or the token pattern change; a saved model records it
FEATURES_VERSION = 1
#: long texts are judged on their beginning (what a reader sees first; bounds the cost of a 100 KB post)
MAX_CHARS = 2000

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_TOKEN = r"(?u)@user|\w+|[!?]|[\U0001F300-\U0001FAFF\u2600-\u27BF]"  # noqa: S105 (a regex, not a secret)
_TOKEN_RE = re.compile(_TOKEN)


def normalize(text: str) -> str:
    """Lower case, URLs -> ``url``, @handles -> ``@user`` (brand handles must not become features)."""
    text = text[:MAX_CHARS].lower()
    if "http" in text or "www." in text:  # the substitutions cost more than these checks
        text = _URL.sub(" url ", text)
    return _HANDLE.sub(" @user ", text) if "@" in text else text


def _vectorizer(vocabulary: dict[str, int] | None = None, min_df: int = 2) -> CountVectorizer:
    return CountVectorizer(
        preprocessor=normalize, token_pattern=_TOKEN, ngram_range=(1, 2), binary=True, min_df=min_df,
        vocabulary=vocabulary, dtype=np.float32,
    )  # fmt: skip


def _l2_rows(x: sparse.csr_matrix) -> sparse.csr_matrix:
    """Binary rows scaled to unit length (a text's words share one unit of evidence)."""
    counts = np.diff(x.indptr)
    scale = 1.0 / np.sqrt(np.maximum(counts, 1))
    x.data *= np.repeat(scale, counts).astype(np.float32)
    return x


#: function words that still explain an intent (negation, regret, a request, a question word)
EXPLAINING = frozenset([
    "nicht", "kein", "keine", "keinen", "keiner", "keinem", "nichts", "nie", "niemals", "leider", "bitte", "warum",
    "wieso", "weshalb", "wann", "not", "no", "nothing", "never", "cannot", "cant", "dont", "didnt", "doesnt", "isnt",
    "wont", "why", "please",
])  # fmt: skip


def _informative(entry: str) -> bool:
    return any(
        token in EXPLAINING or (token not in STOPWORDS and token.isalpha() and len(token) > 1)
        for token in entry.split(" ")
    )


def _descending(values: NDArray[np.float32]) -> NDArray[np.int64]:
    """32-bit keys that sort float32 values largest first (ties equal, so a stable sort keeps their
    order): packed under a row number, one argsort replaces ``lexsort((-values, rows))``."""
    bits = values.astype(np.float32, copy=False).view(np.int32).astype(np.int64)
    ascending = np.where(bits < 0, bits ^ 0x7FFFFFFF, bits)  # a float's bits, reordered like its value
    out: NDArray[np.int64] = 0x7FFFFFFF - ascending
    return out


@dataclass
class LinearTextModel:
    """Independent yes/no heads over one shared vocabulary (one feature pass serves every head).

    ``heads`` name what each row of ``coef`` detects (intent: complaint, praise; offensive: offensive).
    """

    heads: tuple[str, ...]
    vocabulary: list[str]
    coef: NDArray[np.float32]  # (heads, vocabulary)
    intercept: NDArray[np.float32]  # (heads,)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index = {w: i for i, w in enumerate(self.vocabulary)}

    # -- prediction -------------------------------------------------------------------------
    def features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """The same binary, L2-scaled n-gram rows as training's CountVectorizer builds, about twice
        as fast: the n-gram strings are made and looked up by C-level ``map`` calls."""
        get, find = self._index.get, _TOKEN_RE.findall
        indices: list[int] = []
        indptr = [0]
        for text in texts:
            tokens = find(normalize(text))
            found: set[int | None] = set(map(get, tokens))
            found.update(map(get, map(" ".join, itertools.pairwise(tokens))))
            found.discard(None)
            indices.extend(sorted(cast("set[int]", found)))  # None is gone
            indptr.append(len(indices))
        n = len(indices)
        x = sparse.csr_matrix(
            (np.ones(n, dtype=np.float32), np.array(indices, dtype=np.int32), np.array(indptr, dtype=np.int64)),
            shape=(len(texts), len(self.vocabulary)),
        )
        return _l2_rows(x)

    def proba(self, x: sparse.csr_matrix) -> NDArray[np.float32]:
        """P(head says yes), one row per text, one column per head."""
        scores = np.asarray(x @ self.coef.T, dtype=np.float32) + self.intercept
        out: NDArray[np.float32] = (1.0 / (1.0 + np.exp(-scores))).astype(np.float32)
        return out

    def predict_proba(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self.proba(self.features(texts))

    def top_words(
        self, x: sparse.csr_matrix, head: NDArray[np.intp], sign: NDArray[np.float32], k: int = 3
    ) -> list[list[str]]:
        """Per row, the ``k`` n-grams that pushed hardest towards ``sign`` (+1 yes, -1 no) on that
        row's ``head``; rows with sign 0 get no words. Only n-grams a reader takes for a reason
        count (:attr:`informative`): "in", "on", "!" carry weight in the model but explain nothing."""
        counts = np.diff(x.indptr)
        rows = np.repeat(np.arange(x.shape[0]), counts)
        contrib = x.data * self.coef[head[rows], x.indices] * sign[rows]
        order = np.argsort((rows << 32) | _descending(contrib), kind="stable")  # by row, strongest first
        order = order[(contrib[order] > 0) & self.informative[x.indices[order]]]
        starts = np.searchsorted(rows[order], np.arange(x.shape[0] + 1))
        vocab, indices = self.vocabulary, x.indices
        return [
            [vocab[indices[j]] for j in order[start : min(start + k, end)].tolist()]
            for start, end in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True)
        ]

    @cached_property
    def informative(self) -> NDArray[np.bool_]:
        """Per vocabulary entry: does it hold a word that means something — not only function
        words (:mod:`resonanz.analysis.stopwords`), punctuation, numbers or ``@user``? Negations,
        "leider", "bitte", "why" and the like stay: they are why a text reads as a complaint."""
        return np.array([_informative(entry) for entry in self.vocabulary], dtype=np.bool_)

    # -- persistence ------------------------------------------------------------------------
    def save(self, out_dir: Path, name: str) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        npz, meta = out_dir / f"{name}.npz", out_dir / f"{name}.json"
        blob = "\n".join(self.vocabulary).encode("utf-8")
        np.savez_compressed(
            npz, coef=self.coef.astype(np.float16), intercept=self.intercept.astype(np.float32),
            vocabulary=np.frombuffer(blob, dtype=np.uint8),
        )  # fmt: skip
        info = {**self.meta, "heads": list(self.heads), "features_version": FEATURES_VERSION}
        meta.write_text(json.dumps(info, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return [npz, meta]

    @classmethod
    def load(cls, directory: Path, name: str) -> LinearTextModel:
        info = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
        if info.get("features_version") != FEATURES_VERSION:
            raise ValueError(f"{name}: artifact built for features v{info.get('features_version')}; retrain")
        with np.load(directory / f"{name}.npz", allow_pickle=False) as data:
            vocabulary = data["vocabulary"].tobytes().decode("utf-8").split("\n")
            coef = data["coef"].astype(np.float32)
            intercept = data["intercept"].astype(np.float32)
        heads = tuple(info.pop("heads"))
        info.pop("features_version")
        return cls(heads, vocabulary, coef, intercept, meta=info)


def fit(
    texts: Sequence[str],
    targets: dict[str, Sequence[bool | None]],
    *,
    c: float = 4.0,
    min_df: int = 2,
    keep: float = 1e-3,
) -> LinearTextModel:
    """One logistic-regression head per entry of ``targets`` (None = this text says nothing about that
    head, e.g. a praise-only data set for the complaint head), over one shared vocabulary.

    Classes are weighted inversely to their frequency per head (worth ~4 points of macro-F1 on the
    sentiment data here); the seed is fixed, so the artifact is reproducible. n-grams whose largest
    absolute weight stays below ``keep`` are dropped from the vocabulary.
    """
    vec = _vectorizer(min_df=min_df if len(texts) >= 50 else 1)
    x = _l2_rows(vec.fit_transform(texts).tocsr())
    coefs, intercepts = [], []
    for head, target in targets.items():
        if len(target) != len(texts):
            raise ValueError(f"head {head}: {len(target)} targets for {len(texts)} texts")
        rows = np.array([i for i, t in enumerate(target) if t is not None], dtype=np.intp)
        y = np.array([bool(target[i]) for i in rows.tolist()])
        if len(rows) == 0 or y.all() or not y.any():
            raise ValueError(f"head {head} needs examples of both yes and no")
        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", random_state=0)
        model.fit(x[rows], y)
        coefs.append(model.coef_[0])
        intercepts.append(model.intercept_[0])
    coef = np.vstack(coefs).astype(np.float32)
    kept = np.flatnonzero(np.abs(coef).max(axis=0) >= keep)
    names = vec.get_feature_names_out()
    return LinearTextModel(
        tuple(targets), [str(names[i]) for i in kept], coef[:, kept], np.array(intercepts, dtype=np.float32)
    )

"""A small, fast, explainable text classifier: hashed n-grams + a linear model (shared by tasks).

Why this and not sklearn's ``HashingVectorizer``: its analyzers run a Python loop per n-gram
(~100 us per tweet for char 3-5 grams here), too slow for a firehose. :class:`Featurizer` hashes
a whole batch at once with numpy: the batch is joined into one code-point array, every substring
gets a 64-bit polynomial hash from prefix sums (``uint64`` arithmetic wraps mod 2**64, and the
base is odd, hence invertible), and n-grams are hashed into ``2**bits`` columns without a Python
loop per character. Features: word 1..``word_n``-grams (a word is a run of letters/digits; every
other visible character, emoji and punctuation included, is a one-character token) and char
``char_range`` grams, counts made sublinear (1 + log), weighted by an IDF learned at fit time and
L2-normalised per text.

The API is deliberately small::

    model = LinearModel.fit(texts, labels, seed=0)       # balanced classes, temperature-calibrated
    proba = model.predict_proba(texts)                    # (n, len(model.labels)) float32
    proba, why = model.predict_explained(texts, top=5)    # why[i]: [(word or bigram, weight), ...]
    model.save(path)                                      # path.npz (compressed) + path.json (meta)
    model = LinearModel.load(path)

Explanations come only from word features present in the text (no reverse hash table is needed:
each word feature remembers its span in the text), weighted by how much they pushed the text
towards the predicted label (coefficient minus the mean coefficient over labels).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp  # type: ignore[import-untyped]

#: longest text prefix (characters) that is featurised; the rest of a 100 KB post adds cost, not signal
MAX_CHARS = 2000
FORMAT = 1

_BASE = np.uint64(0x9E3779B97F4A7C15 | 1)
_BASE_INV = np.uint64(pow(int(_BASE), -1, 2**64))
_URL = re.compile(r"https?://\S+|www\.\S+")
_USER = re.compile(r"@\w+")
#: invisible characters dropped before featurising (a regex: ``str.translate`` with a dict costs ~8 us per tweet)
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\x00]")

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]


@cache
def _powers(n: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """BASE**i and BASE**-i (mod 2**64) for i < n; cached by size class to avoid recomputation."""
    with np.errstate(over="ignore"):
        pw = np.cumprod(np.full(n, _BASE, dtype=np.uint64), dtype=np.uint64)
        inv = np.cumprod(np.full(n, _BASE_INV, dtype=np.uint64), dtype=np.uint64)
    one = np.ones(1, dtype=np.uint64)
    return np.concatenate([one, pw[:-1]]), np.concatenate([one, inv[:-1]])


@cache
def _word_table() -> npt.NDArray[np.bool_]:
    """Which BMP code points are word characters (letters, digits, ``_``, apostrophes)."""
    table = np.array([chr(i).isalnum() for i in range(65536)], dtype=np.bool_)
    table[[ord("_"), ord("'"), 0x2019]] = True
    return table


def _mix(h: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64 finaliser: spreads the polynomial hash over all bits before taking the top ones."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint64(30))
        h = h * np.uint64(0xBF58476D1CE4E5B9)
        h = h ^ (h >> np.uint64(27))
        h = h * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def normalize(text: str) -> str:
    """What the model sees: NFKC (folds full-width and other compatibility look-alikes), no
    invisible characters, lower case, URLs -> ``http``, @handles -> ``@user`` (as in TweetEval),
    single spaces, at most :data:`MAX_CHARS` characters."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text[: MAX_CHARS * 2])).lower()
    if "http" in text or "www." in text:  # the substitutions cost more than these checks
        text = _URL.sub("http", text)
    if "@" in text:
        text = _USER.sub("@user", text)
    return " ".join(text.split())[:MAX_CHARS]


@dataclass
class Features:
    """A featurised batch: the matrix, the normalised texts, and the word features' spans."""

    matrix: sp.csr_matrix
    texts: list[str]
    word_doc: Ints  # per word feature: its text
    word_col: Ints  # its column
    word_span: tuple[Ints, Ints]  # start/end offsets inside texts[word_doc]

    def take(self, rows: Sequence[int]) -> Features:
        """The features of ``rows`` only, as if those texts had been featurised alone (a text's
        features never depend on its batch), word features in the same relative order."""
        index = np.asarray(rows, dtype=np.int64)
        new_of = np.full(len(self.texts), -1, dtype=np.int64)
        new_of[index] = np.arange(len(index), dtype=np.int64)
        keep = np.flatnonzero(new_of[self.word_doc] >= 0)
        a, b = self.word_span
        return Features(
            self.matrix[index], [self.texts[i] for i in index.tolist()], new_of[self.word_doc[keep]],
            self.word_col[keep], (a[keep], b[keep]),
        )  # fmt: skip


#: featurised batches, newest last: the stages that share a featuriser (sentiment, offensive) read
#: the same texts, so the second one takes the first one's work instead of hashing the batch again
_RECENT: dict[tuple[Featurizer, tuple[str, ...]], Features] = {}
_RECENT_SIZE = 2


def featurize(featurizer: Featurizer, texts: Sequence[str]) -> Features:
    """``featurizer.counts(texts)``, shared with the last few callers that asked for the same batch.

    The result is read-only by convention: every consumer derives new arrays from it."""
    key = (featurizer, tuple(texts))
    found = _RECENT.get(key)
    if found is None:
        found = featurizer.counts(texts)
        while len(_RECENT) >= _RECENT_SIZE:
            del _RECENT[next(iter(_RECENT))]
        _RECENT[key] = found
    return found


@dataclass(frozen=True)
class Featurizer:
    """Hashed word and char n-grams (see the module docstring). ``char_range=None`` disables chars."""

    bits: int = 18
    word_n: int = 2
    char_range: tuple[int, int] | None = (3, 5)

    @property
    def n_features(self) -> int:
        return 1 << self.bits

    def _col(self, h: npt.NDArray[np.uint64]) -> Ints:
        return (_mix(h) >> np.uint64(64 - self.bits)).astype(np.int64)

    def counts(self, raw: Sequence[str]) -> Features:
        """Raw n-gram counts (before IDF and normalisation)."""
        texts = [normalize(t) for t in raw]
        joined = "\x00".join(texts)
        try:
            encoded = joined.encode("utf-32-le")
        except UnicodeEncodeError:  # lone surrogates ("\ud800"): replace them, never fail
            texts = [t.encode("utf-8", "replace").decode("utf-8") for t in texts]
            joined = "\x00".join(texts)
            encoded = joined.encode("utf-32-le")
        cp = np.frombuffer(encoded, dtype=np.uint32)
        size = len(cp)
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.int64)
        doc_of = np.repeat(np.arange(len(texts), dtype=np.int64), lengths + 1)[:size]
        pw, inv = _powers(1 << max(10, int(size + 1).bit_length()))
        with np.errstate(over="ignore"):
            prefix = np.zeros(size + 1, dtype=np.uint64)
            np.cumsum((cp.astype(np.uint64) + np.uint64(1)) * pw[:size], dtype=np.uint64, out=prefix[1:])

            def span(a: Ints, b: Ints, salt: int) -> npt.NDArray[np.uint64]:
                return (prefix[b] - prefix[a]) * inv[a] + np.uint64(salt)

            rows: list[Ints] = []
            cols: list[Ints] = []
            is_sep = cp == 0
            seps = np.concatenate([[0], np.cumsum(is_sep)])
            if self.char_range is not None:
                for n in range(self.char_range[0], self.char_range[1] + 1):
                    a = np.flatnonzero(seps[n:] - seps[:-n] == 0) if size >= n else np.zeros(0, np.int64)
                    rows.append(doc_of[a])
                    cols.append(self._col(span(a, a + n, n * 0x1000193)))
            table = _word_table()
            is_word = np.zeros(size + 2, dtype=np.bool_)
            is_word[1:-1] = table[np.minimum(cp, 65535)] & (cp < 65536)
            w_start = np.flatnonzero(is_word[1:-1] & ~is_word[:-2])
            w_end = np.flatnonzero(is_word[1:-1] & ~is_word[2:]) + 1
            sym = np.flatnonzero(~is_word[1:-1] & ~is_sep & (cp != 32))
            t_start = np.concatenate([w_start, sym])
            order = np.argsort(t_start, kind="stable")
            t_start = t_start[order]
            t_end = np.concatenate([w_end, sym + 1])[order]
            t_doc = doc_of[t_start] if size else np.zeros(0, np.int64)
            uni = span(t_start, t_end, 0x51)
            w_docs, w_cols, w_a, w_b = [t_doc], [self._col(uni)], [t_start], [t_end]
            gram = uni
            for n in range(2, self.word_n + 1):
                same = t_doc[n - 1 :] == t_doc[: len(t_doc) - n + 1]
                gram = gram[:-1] * _BASE + uni[n - 1 :]
                keep = np.flatnonzero(same)
                w_docs.append(t_doc[keep])
                w_cols.append(self._col(gram[keep] + np.uint64(n * 0x3B)))
                w_a.append(t_start[keep])
                w_b.append(t_end[keep + n - 1])
        word_doc = np.concatenate(w_docs)
        word_col = np.concatenate(w_cols)
        rows.append(word_doc)
        cols.append(word_col)
        row = np.concatenate(rows)
        col = np.concatenate(cols)
        matrix = sp.csr_matrix(
            (np.ones(len(row), dtype=np.float32), (row, col)), shape=(len(texts), self.n_features), dtype=np.float32
        )
        matrix.sum_duplicates()
        a_all = np.concatenate(w_a)
        b_all = np.concatenate(w_b)
        offset = starts[word_doc]
        return Features(matrix, texts, word_doc, word_col, (a_all - offset, b_all - offset))


def _weigh(matrix: sp.csr_matrix, idf: Floats) -> tuple[sp.csr_matrix, Floats]:
    """Sublinear counts x IDF, rows L2-normalised; also returns each row's 1/norm."""
    m = matrix.copy()
    m.data = (1.0 + np.log(m.data)) * idf[m.indices]
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel()).astype(np.float32)
    scale = np.where(norms > 0, 1.0 / np.maximum(norms, 1e-12), 0.0).astype(np.float32)
    m.data *= np.repeat(scale, np.diff(m.indptr))
    return m, scale


def _softmax(z: Floats) -> Floats:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: Floats = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


@dataclass
class LinearModel:
    """Multinomial logistic regression over :class:`Featurizer` features, with a temperature."""

    labels: tuple[str, ...]
    featurizer: Featurizer
    idf: Floats
    coef: Floats  # (n_features, n_labels)
    intercept: Floats  # (n_labels,)
    temperature: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)

    # -- training ---------------------------------------------------------------------------------
    @classmethod
    def fit(
        cls, texts: Sequence[str], labels: Sequence[str], *, featurizer: Featurizer | None = None, c: float = 4.0,
        calibrate_share: float = 0.1, seed: int = 0, sample_weight: Sequence[float] | None = None,
    ) -> LinearModel:  # fmt: skip
        """Fit with balanced class weights; the temperature is fitted on a held-out ``calibrate_share``
        of the data (stratified), then the model is refitted on everything."""
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

        feat = featurizer or Featurizer()
        counts = feat.counts(texts).matrix
        df = np.bincount(counts.indices, minlength=feat.n_features).astype(np.float64)
        idf = (np.log((1 + len(texts)) / (1 + df)) + 1.0).astype(np.float32)
        x, _ = _weigh(counts, idf)
        y = np.asarray(labels)
        classes = tuple(sorted(set(labels)))
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)

        def train(rows: Ints) -> Any:
            clf = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=seed)
            clf.fit(x[rows], y[rows], sample_weight=None if weights is None else weights[rows])
            return clf

        temperature = 1.0
        if calibrate_share > 0 and len(texts) >= 50:
            rng = np.random.default_rng(seed)
            held = np.zeros(len(texts), dtype=np.bool_)
            for label in classes:
                idx = np.flatnonzero(y == label)
                held[rng.choice(idx, size=max(1, int(len(idx) * calibrate_share)), replace=False)] = True
            clf = train(np.flatnonzero(~held))
            logits = np.asarray(clf.decision_function(x[np.flatnonzero(held)]), dtype=np.float64)
            temperature = fit_temperature(logits, np.searchsorted(np.asarray(classes), y[held]))
        clf = train(np.arange(len(texts)))
        coef = np.asarray(clf.coef_, dtype=np.float32)
        intercept = np.asarray(clf.intercept_, dtype=np.float32)
        if coef.shape[0] == 1:  # binary: sklearn keeps one row; expand to one per label
            coef = np.vstack([-coef / 2, coef / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
        return cls(classes, feat, idf, np.ascontiguousarray(coef.T), intercept, temperature)

    # -- prediction -------------------------------------------------------------------------------
    def _logits(self, features: Features) -> tuple[Floats, Floats]:
        x, scale = _weigh(features.matrix, self.idf)
        logits = np.asarray(x @ self.coef, dtype=np.float32) + self.intercept
        return logits, scale

    def predict_proba(self, texts: Sequence[str]) -> Floats:
        return self.proba(featurize(self.featurizer, texts))

    def proba(self, features: Features) -> Floats:
        """Probabilities of an already featurised batch (see :func:`featurize`)."""
        logits, _ = self._logits(features)
        return _softmax(logits / self.temperature)

    def predict_explained(self, texts: Sequence[str], *, top: int = 5) -> tuple[Floats, list[list[tuple[str, float]]]]:
        """Probabilities and, per text, the words/bigrams that pushed it most towards its label."""
        return self.explained(featurize(self.featurizer, texts), top=top)

    def explained(self, feats: Features, *, top: int = 5) -> tuple[Floats, list[list[tuple[str, float]]]]:
        """:meth:`predict_explained` of an already featurised batch."""
        texts = feats.texts
        logits, scale = self._logits(feats)
        proba = _softmax(logits / self.temperature)
        best = proba.argmax(axis=1)
        doc, col = feats.word_doc, feats.word_col
        # contribution of one occurrence towards the label, relative to the other labels
        rel = self.coef[col, best[doc]] - self.coef[col].mean(axis=1)
        contrib = (rel * self.idf[col] * scale[doc]).astype(np.float32, copy=False)
        # only positive contributions can be named; sorted by text, then strongest first (stable)
        pos = np.flatnonzero(contrib > 0)
        # one stable sort of (text, -contribution) packed into an int64: a positive float32's bits
        # order like its value, so this is lexsort((-contrib, doc)) in one pass, ties kept in order
        key = (doc[pos] << 32) | (0x7FFFFFFF - contrib[pos].view(np.int32)).astype(np.int64)
        order = pos[np.argsort(key, kind="stable")]
        a, b = feats.word_span
        bounds = np.searchsorted(doc[order], np.arange(len(texts) + 1)).tolist()
        starts, ends, weights = a[order].tolist(), b[order].tolist(), contrib[order].tolist()
        out: list[list[tuple[str, float]]] = []
        for i, text in enumerate(texts):
            seen: dict[str, float] = {}
            for k in range(bounds[i], bounds[i + 1]):
                if len(seen) >= top:
                    break
                seen.setdefault(text[starts[k] : ends[k]], round(weights[k], 4))
            out.append(list(seen.items()))
        return proba, out

    # -- persistence ------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """``path.npz`` (float16 weights, compressed) + ``path.json`` (labels, featuriser, temperature)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path.with_suffix(".npz"), idf=self.idf.astype(np.float16),
                            coef=self.coef.astype(np.float16), intercept=self.intercept)  # fmt: skip
        meta = {"format": FORMAT, "labels": list(self.labels), "featurizer": asdict(self.featurizer),
                "temperature": self.temperature, **self.meta}  # fmt: skip
        path.with_suffix(".json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        with np.load(path.with_suffix(".npz")) as arrays:
            idf = arrays["idf"].astype(np.float32)
            coef = np.ascontiguousarray(arrays["coef"].astype(np.float32))
            intercept = arrays["intercept"].astype(np.float32)
        spec = meta.pop("featurizer")
        char_range = tuple(spec["char_range"]) if spec.get("char_range") else None
        feat = Featurizer(bits=spec["bits"], word_n=spec["word_n"], char_range=char_range)
        labels = tuple(meta.pop("labels"))
        temperature = float(meta.pop("temperature"))
        meta.pop("format", None)
        return cls(labels, feat, idf, coef, intercept, temperature, meta)


def fit_temperature(logits: npt.NDArray[np.float64], gold: Ints) -> float:
    """The temperature that minimises the negative log-likelihood of ``gold`` (golden-section search)."""

    def nll(t: float) -> float:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-logp[np.arange(len(gold)), gold].mean())

    lo, hi = 0.05, 20.0
    ratio = (5**0.5 - 1) / 2
    for _ in range(60):
        m1, m2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if nll(m1) < nll(m2):
            hi = m2
        else:
            lo = m1
    return round((lo + hi) / 2, 4)

"""Language identification for short social texts: py3langid's naive-Bayes byte n-gram model,
restricted to the configured languages, scored a batch at a time.

Why py3langid: on the XLM-T tweets (dev split, ``bench/eval_language.py``) it was as accurate as
lingua in high-accuracy mode and six times faster; the figures are in ``docs/models.md``. py3langid
ships its model, so nothing is trained here: :meth:`LanguageTask.train` only evaluates.

What this module adds around the model:

* **Normalisation** (:func:`normalise`): @handles, URLs, ``RT``, hashtags, emojis, zero-width and
  invalid characters are removed (they carry no language, and an English hashtag in a German tweet
  pulls it towards English); NFKC folds the fancy letters people paste (𝐇𝐞𝐥𝐥𝐨, ｆｕｌｌｗｉｄｔｈ); Cyrillic
  and Greek lookalikes inside Latin words are mapped back; mostly-uppercase text is lower-cased.
  Hashtag words are kept when nothing else is left (a post of only hashtags still has a language).
* **Batching**: the byte automaton walk is per text, but the naive-Bayes scoring is one sparse
  matrix product for the whole batch.
* **Other languages**: the model scores the configured languages plus "sink" languages written in
  other scripts (Arabic, Cyrillic, Devanagari, CJK …) and ``zxx`` (no linguistic content). When a
  sink wins, the answer is ``"und"`` instead of a forced guess among the configured languages.
* **The source's hint as a prior**: the hint's probability is multiplied by :data:`HINT_WEIGHT`
  (odds of that many to one) before renormalising, so a hint decides close calls but a confident
  model overrules a wrong hint.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from resonanz.errors import ConfigError

UND = "und"
DEFAULT_LANGUAGES = ("de", "en", "fr", "es", "it", "nl", "pt", "pl", "tr")
#: fewer letters than this after normalisation: "und" (too short)
MIN_LETTERS = 3
#: below this confidence: "und" (unclear or mixed); chosen on the XLM-T dev split
MIN_CONFIDENCE = 0.3
#: the hint's odds factor (see the module docstring); chosen on simulated right and wrong hints
HINT_WEIGHT = 8.0
#: only this many characters are read: the language of a long text shows in its first part
MAX_CHARS = 2000
#: languages of other scripts that may win instead of a configured one (then "und")
SINK_LANGUAGES = (
    "ar", "fa", "ur", "he", "el", "ru", "uk", "bg", "hi", "mr", "ne", "bn", "pa", "gu", "ta", "te", "kn",
    "ml", "si", "th", "lo", "km", "my", "ka", "hy", "am", "zh", "ja", "ko", "zxx",
)  # fmt: skip
#: Latin-script languages far enough from the default set to veto a guess when the model is sure
#: of them (Swedish would otherwise come out as Dutch); close neighbours (Catalan, Galician,
#: Luxembourgish …) are left out: as sinks they cost 2.6 points on the tweets
LATIN_SINK_LANGUAGES = (
    "sv", "da", "no", "nn", "fi", "hu", "cs", "sk", "ro", "hr", "sl", "et", "lv", "lt", "is", "sq", "vi", "id",
    "cy", "ga", "eu",
)  # fmt: skip
#: a Latin sink must be at least this sure to veto (no dev tweet of de..pt was vetoed at 0.8)
LATIN_SINK_VETO = 0.8
#: texts with this many letters are also judged by halves; if the halves are each at least
#: MIXED_CONFIDENCE sure of different languages, the text is "und" (mixed)
MIXED_MIN_LETTERS = 30
MIXED_CONFIDENCE = 0.99

_NOISE = re.compile(r"(?:https?://|www\.)\S+|\bhttps?\b…?|@\w+|(?-i:\bRT\b:?)", re.IGNORECASE)
_HASHTAG = re.compile(r"#(\w+)")
_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|#39);")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'"}
#: emojis and pictographs, arrows, dingbats, variation selectors, zero-width and bidi controls,
#: tags, private use, lone surrogates, the replacement character
_INVISIBLE = re.compile(
    "[\U0001f000-\U0001faff\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2b00-\u2bff\ufe00-\ufe0f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\ufeff\U000e0000-\U000e007f\ue000-\uf8ff\ud800-\udfff\ufffd]+"
)
_NON_LETTER = re.compile(r"[\W\d_]+")
#: bytes that are no letter: ASCII non-letters and UTF-8 continuation bytes (so each non-ASCII
#: character counts once)
_NOT_LETTER_BYTES = bytes(b for b in range(192) if not (65 <= b <= 90 or 97 <= b <= 122))
_ASCII_UPPER = bytes(range(65, 91))
_CYRILLIC_GREEK = re.compile("[\u0370-\u04ff]")
_MIXED_WORD = re.compile(r"\w*(?:[A-Za-z][\u0370-\u04ff]|[\u0370-\u04ff][A-Za-z])\w*")
_HOMOGLYPHS = str.maketrans(
    "аеорсухіјѕԁԛԝАВЕКМНОРСТХІЈЅοανιΟΑΒΕΖΗΙΚΜΝΡΤΥΧ", "aeopcyxijsdqwABEKMHOPCTXIJSoaviOABEZHIKMNPTYX"
)


def _unmix(match: re.Match[str]) -> str:
    return match.group().translate(_HOMOGLYPHS)


def _letters(text: str, encoded: bytes) -> int:
    """Letters in ``text``: exact for short texts, where "too short" is decided; for longer ones
    every non-ASCII character counts as a letter (emojis and symbols are gone by then)."""
    approx = len(encoded.translate(None, _NOT_LETTER_BYTES))
    return len(_NON_LETTER.sub("", text)) if approx < 2 * MIN_LETTERS + 10 else approx


def normalise(text: str) -> tuple[str, int]:
    """The text the model sees and how many letters it has. Never raises for any ``str``."""
    text = text[:MAX_CHARS]
    if not text.isascii():
        text = unicodedata.normalize("NFKC", _INVISIBLE.sub(" ", text))
        if _CYRILLIC_GREEK.search(text) and _MIXED_WORD.search(text):
            text = _MIXED_WORD.sub(_unmix, text)
    if "&" in text:
        text = _ENTITY.sub(lambda m: _ENTITIES[m.group()], text)
    if "@" in text or "RT" in text or "ttp" in text or "TTP" in text or "www." in text:
        text = _NOISE.sub(" ", text)
    if "#" in text:
        without = _HASHTAG.sub(" ", text)
        # only hashtags? then their words are all there is to go on
        text = without if len(_NON_LETTER.sub("", without)) >= MIN_LETTERS else _HASHTAG.sub(r"\1", text)
    text = " ".join(text.split())
    encoded = text.encode("utf-8", "replace")
    letters = _letters(text, encoded)
    if letters:
        uppercase = len(encoded) - len(encoded.translate(None, _ASCII_UPPER))
        if 2 * uppercase > letters:  # shouting: the model learnt from ordinary case
            text = text.lower()
    return text, letters


@dataclass(frozen=True, slots=True)
class _Model:
    """py3langid's arrays: the byte automaton and the naive-Bayes tables (all 142 columns)."""

    nextmove: npt.NDArray[np.unsignedinteger[Any]]  # next state per (row, byte), shared with py3langid
    rowbase: npt.NDArray[np.int64]  # state -> row offset into nextmove
    output: npt.NDArray[np.int64]  # state -> feature id or -1
    ptc: npt.NDArray[np.float16]  # features x columns: log P(feature | language)
    pc: npt.NDArray[np.float32]  # columns: log P(language)
    classes: list[str]  # column -> ISO code (a code may have two columns, e.g. two scripts)


@cache
def _model() -> _Model:
    """Loaded once per process (about a second; 60 MB)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

    base = LanguageIdentifier.from_model_file(MODEL_FILE)
    return _Model(
        nextmove=np.frombuffer(base.tk_nextmove, dtype=f"u{base.tk_nextmove.itemsize}"),
        rowbase=np.asarray(base.tk_row, dtype=np.int64) << 8,
        output=np.asarray(base.tk_output, dtype=np.int64),
        ptc=np.asarray(base.nb_ptc),
        pc=np.asarray(base.nb_pc, dtype=np.float32),
        classes=list(base.nb_classes),
    )


def known_languages() -> list[str]:
    """The ISO codes the model knows."""
    return sorted(set(_model().classes))


@dataclass(frozen=True, slots=True)
class Guess:
    """One text's language: an ISO 639-1 code or ``"und"``, and why."""

    lang: str
    confidence: float
    candidates: list[tuple[str, float]] = field(default_factory=list)
    reason: str = "model"

    def as_dict(self) -> dict[str, Any]:
        return {
            "lang": self.lang,
            "confidence": self.confidence,
            "candidates": [[code, p] for code, p in self.candidates],
            "reason": self.reason,
        }


def parse_hint(hint: str | None) -> str | None:
    """``"de-DE"``, ``"pt_BR"``, ``" EN "`` -> the primary subtag; anything else -> None."""
    if not hint or not isinstance(hint, str):
        return None
    primary = hint.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if len(primary) == 2 and primary.isascii() and primary.isalpha() else None


def _walk(model: _Model, encoded: list[bytes], lengths: npt.NDArray[np.int64]) -> tuple[Any, Any, Any]:
    """The automaton over every text at once, one byte position per step (numpy instead of a
    Python loop per byte: about twice as fast on tweets). Returns (row, feature id, byte offset)
    per feature found.

    Texts are taken longest first, so the texts still running at position ``j`` are a prefix."""
    order = np.argsort(-lengths, kind="stable")
    sorted_lengths = lengths[order]
    starts = np.zeros(len(order), dtype=np.int64)
    np.cumsum(sorted_lengths[:-1], out=starts[1:])
    flat = np.frombuffer(b"".join([encoded[i] for i in order]), dtype=np.uint8)
    visited = np.empty(len(flat), dtype=np.int64)
    states = np.zeros(len(order), dtype=np.int64)
    longest = int(sorted_lengths[0]) if len(order) else 0
    running = np.searchsorted(-sorted_lengths, -np.arange(longest), side="left")  # texts longer than j
    for j in range(longest):
        n = int(running[j])
        at = starts[:n] + j
        step = model.nextmove[model.rowbase[states[:n]] + flat[at]]
        states[:n] = step
        visited[at] = step
    found = model.output[visited]
    hit = found >= 0
    offsets = np.arange(len(flat)) - np.repeat(starts, sorted_lengths)
    return np.repeat(order, sorted_lengths)[hit], found[hit], offsets[hit]


class Identifier:
    """The model restricted to ``languages`` (+ the sinks); build through :func:`identifier`."""

    def __init__(
        self,
        languages: Sequence[str],
        *,
        sinks: Sequence[str] = SINK_LANGUAGES,
        latin_sinks: Sequence[str] | None = None,
    ) -> None:
        """``latin_sinks`` default: :data:`LATIN_SINK_LANGUAGES` plus the default languages that are
        not configured (with only de and en configured, French is "und", not English)."""
        if latin_sinks is None:
            latin_sinks = (*DEFAULT_LANGUAGES, *LATIN_SINK_LANGUAGES)
        model = _model()
        unknown = sorted(set(languages) - set(model.classes))
        if unknown:
            raise ConfigError(f"analysis_languages: the language model does not know {', '.join(unknown)}")
        self.languages = tuple(dict.fromkeys(languages))
        script = [s for s in dict.fromkeys(sinks) if s not in self.languages]
        latin = [s for s in dict.fromkeys(latin_sinks) if s not in self.languages and s not in script]
        self.labels = (*self.languages, *script, *latin)
        self._latin_from = len(self.labels) - len(latin)
        # one column per label, in label order; a label with a second column (a second script)
        # gets the sum of both probabilities: _duplicates holds (label column, extra column)
        first = [model.classes.index(code) for code in self.labels]
        extra = [(self.labels.index(code), col) for col, code in enumerate(model.classes)
                 if code in self.labels and col not in first]  # fmt: skip
        columns = first + [col for _, col in extra]
        self._duplicates = [(label, len(first) + k) for k, (label, _) in enumerate(extra)]
        self._ptc = np.ascontiguousarray(model.ptc[:, columns], dtype=np.float32)
        self._pc = model.pc[columns]
        self._configured = len(self.languages)

    def probabilities(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Rows: normalised texts; columns: :attr:`labels`. A text without features scores uniform."""
        return self._score(texts, [])[0]

    def _score(
        self, texts: Sequence[str], halved: Sequence[int]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Probabilities of the texts, and of the two halves of each text in ``halved`` (split at
        the space nearest the middle), from one walk of the automaton."""
        from scipy.sparse import csr_matrix  # type: ignore[import-untyped]

        encoded = [t.encode("utf-8", "replace")[: 4 * MAX_CHARS] for t in texts]
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        rows, feats, offsets = _walk(_model(), encoded, lengths)
        n, m = len(texts), len(halved)
        sizes = [lengths]
        if m:
            halved_rows = np.asarray(halved, dtype=np.int64)
            cuts = np.asarray([_middle(encoded[i]) for i in halved], dtype=np.int64)
            half_base = np.full(n, -1, dtype=np.int64)
            half_base[halved_rows] = n + 2 * np.arange(m)
            cut_of = np.zeros(n, dtype=np.int64)
            cut_of[halved_rows] = cuts
            in_half = half_base[rows] >= 0
            half_rows = half_base[rows[in_half]] + (offsets[in_half] >= cut_of[rows[in_half]])
            rows = np.concatenate([rows, half_rows])
            feats = np.concatenate([feats, feats[in_half]])
            sizes.append(np.stack([cuts, lengths[halved_rows] - cuts], axis=1).ravel())
        total = n + 2 * m
        counts = csr_matrix((np.ones(len(feats), dtype=np.float32), (rows, feats)), shape=(total, len(self._ptc)))
        counts.sum_duplicates()
        counts.data = np.log1p(counts.data)
        scores = np.asarray(counts @ self._ptc, dtype=np.float32) + self._pc
        scores[np.diff(counts.indptr) == 0] = 0.0
        # py3langid's calibration: temperature sqrt(bytes), then softmax
        scores /= np.sqrt(np.maximum(np.concatenate(sizes), 1)).astype(np.float32)[:, None]
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        for label, extra in self._duplicates:
            scores[:, label] += scores[:, extra]
        merged = scores[:, : len(self.labels)]
        return merged[:n], merged[n:]

    def identify(self, texts: Sequence[str], hints: Sequence[str | None] | None = None) -> list[Guess]:
        """One :class:`Guess` per text; the hints (the source's language tags) are priors."""
        cleaned: list[str] = []
        letters: list[int] = []
        for text in texts:
            clean, count = normalise(text if isinstance(text, str) else "")
            cleaned.append(clean)
            letters.append(count)
        guesses = [Guess(UND, 0.0, [], "too short" if n else "empty") for n in letters]
        scored = [i for i, n in enumerate(letters) if n >= MIN_LETTERS]
        if not scored:
            return guesses
        # long texts are also scored by halves (same batch) to find mixed ones
        halved = [i for i in scored if letters[i] >= MIXED_MIN_LETTERS]
        position = {i: row for row, i in enumerate(scored)}
        probs, half_probs = self._score([cleaned[i] for i in scored], [position[i] for i in halved])
        veto = self._latin_veto(probs)
        mixed = self._mixed(half_probs)
        mixed_at = {halved[k]: pair for k, pair in mixed.items()}
        columns = {code: j for j, code in enumerate(self.languages)}
        parsed = [parse_hint(hints[i]) if hints is not None and i < len(hints) else None for i in scored]
        hint_col = np.array([columns.get(h, -1) if h else -1 for h in parsed], dtype=np.int64)
        model_top = probs.argmax(axis=1)
        hinted = np.flatnonzero(hint_col >= 0)
        if len(hinted):
            probs[hinted, hint_col[hinted]] *= HINT_WEIGHT
            probs[hinted] /= probs[hinted].sum(axis=1, keepdims=True)
        order = np.argsort(-probs, axis=1)[:, :3]
        top_p = np.take_along_axis(probs, order, axis=1).astype(np.float64).round(4).tolist()
        rows = zip(scored, order.tolist(), top_p, hint_col.tolist(), model_top.tolist(), parsed, strict=True)
        for i, cols, ps, hint, mtop, raw_hint in rows:
            candidates = [(self.labels[c], p) for c, p in zip(cols, ps, strict=True)]
            top = cols[0]
            row = position[i]
            if row in veto:
                guesses[i] = Guess(UND, veto[row][1], [veto[row]], f"other language ({veto[row][0]})")
            elif top >= self._configured:
                guesses[i] = Guess(UND, ps[0], candidates, f"other language ({self.labels[top]})")
            elif i in mixed_at:
                guesses[i] = Guess(UND, ps[0], candidates, f"mixed ({mixed_at[i]})")
            elif ps[0] < MIN_CONFIDENCE:
                guesses[i] = Guess(UND, ps[0], candidates, "unclear")
            else:
                guesses[i] = Guess(self.labels[top], ps[0], candidates, _reason(hint, top, mtop, raw_hint))
        return guesses

    def _latin_veto(self, probs: npt.NDArray[np.float32]) -> dict[int, tuple[str, float]]:
        """Rows a far Latin-script language wins surely; then drops those columns from ``probs``
        (in place), so they do not dilute the configured languages' confidence."""
        if self._latin_from == probs.shape[1]:
            return {}
        top = probs.argmax(axis=1)
        best = probs.max(axis=1)
        sure = np.flatnonzero((top >= self._latin_from) & (best >= LATIN_SINK_VETO))
        found = {int(r): (self.labels[int(top[r])], round(float(best[r]), 4)) for r in sure}
        probs[:, self._latin_from :] = 0.0
        probs /= np.maximum(probs.sum(axis=1, keepdims=True), np.float32(1e-12))
        return found

    def _mixed(self, half_probs: npt.NDArray[np.float32]) -> dict[int, str]:
        """Index of a halved text -> "de+en" where its halves are sure of different configured
        languages."""
        if not len(half_probs):
            return {}
        top = half_probs[:, : self._configured].argmax(axis=1).reshape(-1, 2)
        sure = (half_probs[:, : self._configured].max(axis=1) >= MIXED_CONFIDENCE).reshape(-1, 2)
        hits = np.flatnonzero(sure.all(axis=1) & (top[:, 0] != top[:, 1]))
        return {int(k): f"{self.languages[top[k, 0]]}+{self.languages[top[k, 1]]}" for k in hits}


def _middle(data: bytes) -> int:
    """Where to halve a text: the space nearest its middle (after it, else before it)."""
    middle = len(data) // 2
    cut = data.find(b" ", middle)
    if cut < 0:
        cut = data.rfind(b" ", 0, middle)
    return cut if cut > 0 else middle


def _reason(hint: int, top: int, model_top: int, raw_hint: str | None) -> str:
    if hint < 0:
        return "model (hint not configured)" if raw_hint else "model"
    if top != hint:
        return "hint overruled"
    return "hint agreed" if model_top == hint else "hint decided"


@cache
def identifier(languages: tuple[str, ...] = DEFAULT_LANGUAGES) -> Identifier:
    """One identifier per language set and process."""
    return Identifier(languages)


XLMT_FOLDERS = {
    "german": "de", "english": "en", "french": "fr", "spanish": "es", "italian": "it", "portuguese": "pt",
    "arabic": "ar", "hindi": "hi",
}  # fmt: skip


def xlmt_dev(data_dir: Path) -> tuple[list[str], list[str]]:
    """The XLM-T dev tweets (``val_text.txt`` per language folder) with their folder's ISO code."""
    texts: list[str] = []
    labels: list[str] = []
    for folder, code in XLMT_FOLDERS.items():
        path = data_dir / "xlm-t-umsab" / folder / "val_text.txt"
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            texts.extend(lines)
            labels.extend([code] * len(lines))
    return texts, labels


class LanguageTask:
    """``resonanz models evaluate|train --task language``: labels are ISO 639-1 codes or "und"."""

    name = "language"
    labels: tuple[str, ...] = (*DEFAULT_LANGUAGES, UND)

    def predict(self, texts: Sequence[str], langs: Sequence[str | None], *, tier: str = "cascade") -> list[str]:
        """One code per text (every tier is the same model); ``langs`` are used as hints."""
        return [g.lang for g in identifier().identify(texts, langs)]

    def train(
        self, data_dir: Path, *, out_dir: Path, feedback: Sequence[tuple[str, str, str | None]]
    ) -> dict[str, Any]:
        """Nothing to train: py3langid ships its model, and the few settings (thresholds, hint
        weight) were chosen by ``bench/eval_language.py``. Returns the report on the XLM-T dev
        tweets (empty when ``data_dir`` lacks them) and writes nothing; corrections are ignored."""
        from resonanz.analysis.metrics import score

        texts, gold = xlmt_dev(data_dir)
        if not texts:
            return {"note": f"no XLM-T dev tweets under {data_dir}; nothing to train (py3langid ships its model)"}
        report = score(gold, self.predict(texts, [None] * len(texts))).as_dict()
        report["note"] = "py3langid ships its model; nothing was trained or written"
        return report


TASK = LanguageTask()

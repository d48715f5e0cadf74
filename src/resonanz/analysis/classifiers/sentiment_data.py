"""Reading the labelled sentiment data sets in ``../shared/data`` (see each folder's README).

Which sets may train the *shipped* model is decided here, from their licences:

=========================  ====  ===========================================  ==================
folder                     lang  licence as stated by the source              use
=========================  ====  ===========================================  ==================
semeval2017-task4a-en      en    none stated; research distribution           train
tweeteval (sentiment val)  en    "released without any restrictions"          dev (macro-recall)
xlm-t-umsab english        en    Apache-2.0 (repository)                      train + dev
twitter-us-airline-sent.   en    CC BY-NC-SA 4.0 — NON-COMMERCIAL             dev only, never train
xlm-t-umsab german         de    Apache-2.0 (repository)                      train + dev (macro-F1)
sb10k                      de    CC BY 4.0 (SpinningBytes)                     train + dev
potts                      de    MIT                                          train + dev
germeval2017 (dev, trial)  de    none stated                                  80 % train, 20 % dev
=========================  ====  ===========================================  ==================

Dev sets never leak into training: every training row whose normalised text occurs in any dev
set is dropped (XLM-T German and SB10k are the same corpus in different splits, TweetEval val is
drawn from the SemEval pool, XLM-T English from SemEval 2017).
"""

from __future__ import annotations

import csv
import hashlib
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from resonanz.analysis.classifiers.linear import normalize

LABELS = ("negative", "neutral", "positive")
_NUMBERED = dict(enumerate(LABELS))  # TweetEval / XLM-T: 0 negative, 1 neutral, 2 positive
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")

csv.field_size_limit(10_000_000)


@dataclass
class DevSet:
    """One evaluation set and the metric its source paper reports."""

    name: str
    lang: str
    metric: str  # "macro_recall", "macro_f1" or "accuracy"
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    licence: str = ""


@dataclass
class Corpus:
    """Training rows per language plus the dev sets."""

    train: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # lang -> (text, label, source)
    dev: list[DevSet] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # training source -> licence


def _unescape(text: str) -> str:
    text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _numbered(folder: Path, split: str) -> Iterator[tuple[str, str]]:
    texts = (folder / f"{split}_text.txt").read_text(encoding="utf-8").split("\n")
    labels = (folder / f"{split}_labels.txt").read_text(encoding="utf-8").split()
    for text, label in zip(texts, labels, strict=False):
        yield text, _NUMBERED[int(label)]


def _tsv(path: Path, text_col: int, label_col: int) -> Iterator[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) > max(text_col, label_col) and row[label_col] in LABELS:
                yield html.unescape(row[text_col]), row[label_col]


def _semeval(folder: Path) -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    for path in sorted(folder.glob("twitter-*-A.tsv")):
        for tweet_id, label, text in (line.split("\t", 2) for line in path.read_text("utf-8").splitlines() if line):
            if tweet_id not in seen and label in LABELS:
                seen.add(tweet_id)
                yield _unescape(text), label


def _airline(path: Path) -> Iterator[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["airline_sentiment"] in LABELS:
                yield row["text"], row["airline_sentiment"]


def _germeval_held_out(text: str) -> bool:
    """Deterministic 20 % dev share of GermEval 2017 (its official train file is unavailable)."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) % 100 < 20


def _key(text: str) -> str:
    return re.sub(r"\W+", "", normalize(text.replace("http", " ")))


def load(data_dir: Path) -> Corpus:
    """Everything that exists under ``data_dir``; missing folders are skipped."""
    corpus = Corpus()
    d = data_dir

    def dev(name: str, lang: str, metric: str, rows: Iterator[tuple[str, str]], licence: str) -> None:
        dev_set = DevSet(name, lang, metric, licence=licence)
        for text, label in rows:
            dev_set.texts.append(text)
            dev_set.labels.append(label)
        if dev_set.texts:
            corpus.dev.append(dev_set)

    def exists(*parts: str) -> bool:
        return d.joinpath(*parts).exists()

    if exists("tweeteval", "sentiment", "val_text.txt"):
        dev("tweeteval-val", "en", "macro_recall", _numbered(d / "tweeteval/sentiment", "val"), "unrestricted")
    if exists("xlm-t-umsab", "english", "val_text.txt"):
        dev("xlm-t-en-val", "en", "macro_f1", _numbered(d / "xlm-t-umsab/english", "val"), "Apache-2.0")
    if exists("twitter-us-airline-sentiment", "Tweets.train.csv"):
        path = d / "twitter-us-airline-sentiment/Tweets.train.csv"
        dev("airline (out of domain)", "en", "macro_f1", _airline(path), "CC BY-NC-SA 4.0, evaluation only")
    if exists("xlm-t-umsab", "german", "val_text.txt"):
        dev("xlm-t-de-val", "de", "macro_f1", _numbered(d / "xlm-t-umsab/german", "val"), "Apache-2.0")
    if exists("sb10k", "dev.tsv"):
        dev("sb10k-dev", "de", "macro_f1", _tsv(d / "sb10k/dev.tsv", 2, 1), "CC BY 4.0")
    if exists("potts", "dev.tsv"):
        dev("potts-dev", "de", "macro_f1", _tsv(d / "potts/dev.tsv", 2, 1), "MIT")
    germeval = [
        row
        for name in ("dev_v1.4.tsv", "trial.tsv")
        if exists("germeval2017", name)
        for row in _tsv(d / "germeval2017" / name, 1, 3)
    ]
    dev("germeval2017-dev20", "de", "accuracy", (r for r in germeval if _germeval_held_out(r[0])), "not stated")

    banned = {_key(t) for s in corpus.dev for t in s.texts}

    def train(lang: str, source: str, licence: str, rows: Iterator[tuple[str, str]]) -> None:
        kept = [(t, label, source) for t, label in rows if _key(t) not in banned]
        if kept:
            corpus.train.setdefault(lang, []).extend(kept)
            corpus.sources[source] = licence

    if exists("semeval2017-task4a-en"):
        train("en", "semeval2017-task4a-en", "none stated (research)", _semeval(d / "semeval2017-task4a-en"))
    if exists("xlm-t-umsab", "english", "train_text.txt"):
        train("en", "xlm-t-umsab/english", "Apache-2.0", _numbered(d / "xlm-t-umsab/english", "train"))
    if exists("xlm-t-umsab", "german", "train_text.txt"):
        train("de", "xlm-t-umsab/german", "Apache-2.0", _numbered(d / "xlm-t-umsab/german", "train"))
    if exists("sb10k", "train.tsv"):
        train("de", "sb10k", "CC BY 4.0", _tsv(d / "sb10k/train.tsv", 2, 1))
    if exists("potts", "train.tsv"):
        train("de", "potts", "MIT", _tsv(d / "potts/train.tsv", 2, 1))
    train("de", "germeval2017 (80 %)", "not stated", (r for r in germeval if not _germeval_held_out(r[0])))
    return corpus

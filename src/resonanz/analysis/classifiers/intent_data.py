"""Reading the labelled data for the intent model from ``../shared/data`` (see each folder's README).

Every example says what it teaches: ``complaint`` and ``praise`` are True/False/None, None meaning
"this data set does not say" (Flausch annotates praise, not complaints). Data sets without a dev
split are split here by a hash of the text (20 % dev, stable across runs and machines), so the
reported numbers are on text the model never saw.

Licences (as stated by each source; recorded in the artifact and docs/models.md):
complaints-social-media none stated (cite the paper); GermEval 2017 and 2025 (Flausch) and SemEval-2017
none stated (shared-task data); XLM-T Apache-2.0 (tweets under Twitter terms); IBM customer care Apache-2.0.
The airline set is CC BY-NC-SA and is read only by :func:`airline_eval`, never for training.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

LICENCES = {
    "complaints-social-media": "no licence stated by the source (README asks to cite Preotiuc-Pietro et al. 2019)",
    "germeval2017": "no licence stated by the source (GermEval 2017 shared task)",
    "germeval2025-flausch": "no licence stated by the source (GermEval 2025 shared task)",
    "xlm-t-umsab": "Apache-2.0 (repository); tweets under Twitter terms",
    "ibm-twitter-customer-care": "Apache-2.0",
    "semeval2017-task4a-en": "no data licence stated by the source (SemEval-2017 Task 4; tweets under Twitter terms)",
}


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    lang: str
    source: str
    split: str  # "train" or "dev"
    complaint: bool | None
    praise: bool | None


def hash_split(text: str, dev_percent: int = 20) -> str:
    """'dev' for a stable ``dev_percent`` share of texts, else 'train' (identical texts stay together)."""
    h = int(hashlib.sha256(("intent-dev:" + text).encode("utf-8", "surrogatepass")).hexdigest()[:8], 16)
    return "dev" if h % 100 < dev_percent else "train"


def _csv_rows(path: Path, *, header: bool) -> Iterator[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        if header:
            next(reader, None)
        yield from reader


def complaints(root: Path) -> Iterator[Example]:
    for row in _csv_rows(root / "complaints-social-media" / "complaints-data.train.csv", header=False):
        text, label = row[1], row[2] == "1"
        yield Example(text, "en", "complaints-social-media", hash_split(text), label, False if label else None)


def germeval2017(root: Path) -> Iterator[Example]:
    """Deutsche Bahn feedback: relevant + negative = complaint, relevant + positive = praise."""
    folder = root / "germeval2017"
    for name in ("dev_v1.4.tsv", "trial.tsv"):
        with (folder / name).open(encoding="utf-8") as fh:
            for line in fh:
                parts = line.rstrip("\n").split("\t")
                if len(parts) < 4 or not parts[1].strip():
                    continue
                text, relevant, sentiment = parts[1], parts[2] == "true", parts[3]
                yield Example(
                    text, "de", "germeval2017", hash_split(text), relevant and sentiment == "negative",
                    relevant and sentiment == "positive",
                )  # fmt: skip


def flausch(root: Path) -> Iterator[Example]:
    for row in _csv_rows(root / "germeval2025-flausch" / "flausch_task1.train.csv", header=True):
        text = row[2]
        yield Example(text, "de", "germeval2025-flausch", hash_split(text), None, row[3] == "yes")


def xlmt(root: Path) -> Iterator[Example]:
    """Sentiment tweets: positive counts as praise (weak; the only permissive English praise data here)."""
    for folder, lang in (("english", "en"), ("german", "de")):
        for split, name in (("train", "train"), ("dev", "val")):
            base = root / "xlm-t-umsab" / folder
            texts = (base / f"{name}_text.txt").read_text(encoding="utf-8").split("\n")
            labels = (base / f"{name}_labels.txt").read_text(encoding="utf-8").split()
            for text, label in zip(texts, labels, strict=False):
                yield Example(text, lang, "xlm-t-umsab", split, None, label.strip() == "2")


def semeval(root: Path) -> Iterator[Example]:
    """SemEval-2017 4A, the 2015/2016 brand- and topic-targeted tweets: positive counts as praise. It
    shares tweets with XLM-T English, so XLM-T's dev tweets are left out here (no leak into that dev)."""
    dev = {e.text for e in xlmt(root) if e.split == "dev" and e.lang == "en"}
    for path in sorted((root / "semeval2017-task4a-en").glob("twitter-201[56]*-A.tsv")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 3 and parts[2] not in dev:
                    yield Example(parts[2], "en", "semeval2017-task4a-en", "train", None, parts[1] == "positive")


def customer_care(root: Path) -> Iterator[tuple[Example, bool]]:
    """IBM customer-care threads: (example, is_customer). Agents' replies teach "not a complaint";
    customers' turns are unlabelled (complaints and questions mixed) and serve the needs_response check."""
    data = json.loads((root / "ibm-twitter-customer-care" / "dev.json").read_text(encoding="utf-8"))
    for conversation in data:
        session = str(conversation.get("dialogHeader", {}).get("sessionID", ""))
        split = hash_split(session)
        for turn in conversation.get("dialogContent", []):
            text = str(turn.get("message", ""))
            customer = "client" in turn
            example = Example(text, "en", "ibm-twitter-customer-care", split, None if customer else False, None)
            yield example, customer


def training_examples(root: Path) -> list[Example]:
    out = [*complaints(root), *germeval2017(root), *flausch(root), *xlmt(root), *semeval(root)]
    out.extend(e for e, customer in customer_care(root) if not customer)
    return out


def airline_eval(root: Path) -> list[tuple[str, str]]:
    """(text, gold) from the airline set, for evaluation only (CC BY-NC-SA): negative = complaint,
    positive = praise, neutral = other (many neutral tweets are questions; reported separately)."""
    path = root / "twitter-us-airline-sentiment" / "Tweets.train.csv"
    if not path.exists():
        return []
    gold = {"negative": "complaint", "positive": "praise", "neutral": "other"}
    with path.open(encoding="utf-8", newline="") as fh:
        return [(row["text"], gold[row["airline_sentiment"]]) for row in csv.DictReader(fh)]

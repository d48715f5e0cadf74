"""Optional backend: any local Hugging Face sequence-classification model directory as the
sentiment cascade's accurate tier (extra ``resonanz[transformers]``; setting
``sentiment_transformers_model``).

Why a directory and not a hub name: analysis runs offline; the operator downloads or trains a
model elsewhere and points the setting at it. Its labels must name negative / neutral / positive
(``config.id2label``, case-insensitive, prefixes such as ``neg``/``NEGATIVE``/``Negative`` accepted);
a model with other labels is refused with the reason, and the fast result stands. Runs on CPU,
one thread, in batches, texts truncated to ``MAX_TOKENS``.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from resonanz.analysis.classifiers.sentiment_data import LABELS

log = logging.getLogger(__name__)

MISSING_EXTRA = "transformers backend not installed (pip install 'resonanz[transformers]'); fast result kept"
MAX_TOKENS = 128
BATCH = 32


def label_order(id2label: dict[int, str]) -> list[int] | str:
    """For each of :data:`LABELS`, the model's output index; or why the labels do not fit."""
    found: dict[str, int] = {}
    for index, name in id2label.items():
        key = str(name).strip().lower()
        for label in LABELS:
            if key == label or key.startswith(label[:3]):
                found[label] = int(index)
    if set(found) != set(LABELS):
        return f"model labels {sorted(map(str, id2label.values()))} do not name negative/neutral/positive"
    return [found[label] for label in LABELS]


@dataclass
class TransformersScorer:
    """A local sequence-classification model; ``predict_proba`` ignores the fast probabilities."""

    labels: tuple[str, ...]
    model: Any
    tokenizer: Any
    columns: list[int]

    def predict_proba(
        self, texts: Sequence[str], fast_proba: npt.NDArray[np.float32] | None = None
    ) -> npt.NDArray[np.float32]:
        torch = importlib.import_module("torch")
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(texts), BATCH):
                chunk = [t[:4000] for t in texts[start : start + BATCH]]
                encoded = self.tokenizer(
                    chunk, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
                )
                logits = self.model(**encoded).logits.float()
                proba = torch.softmax(logits, dim=-1).numpy()
                out[start : start + len(chunk)] = proba[:, self.columns]
        return out


@cache
def scorer(model_dir: Path) -> TransformersScorer | str:
    """The model in ``model_dir`` (loaded once per process) or a one-line reason why not."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        torch = importlib.import_module("torch")
        transformers = importlib.import_module("transformers")
    except ImportError:
        return MISSING_EXTRA
    if not (model_dir / "config.json").is_file():
        return f"no Hugging Face model in {model_dir} (config.json missing); fast result kept"
    try:
        model = transformers.AutoModelForSequenceClassification.from_pretrained(str(model_dir), local_files_only=True)
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    except (OSError, ValueError) as exc:
        log.warning("cannot load the sentiment model in %s: %s", model_dir, exc)
        return f"cannot load the model in {model_dir} ({type(exc).__name__}); fast result kept"
    columns = label_order(dict(model.config.id2label))
    if isinstance(columns, str):
        return columns + "; fast result kept"
    torch.set_num_threads(1)
    model.eval()
    return TransformersScorer(LABELS, model, tokenizer, columns)

"""Training and the dev-set report of the intent model (``resonanz models train --task intent``).

The shipped artifact is trained on the train parts only, so the report's dev numbers describe the
shipped model. What each number means (recorded in docs/models.md):

- ``complaint@<source>``: complaint vs. not on that source's dev part, end to end (every intent
  other than complaint counts as "other");
- ``praise@<source>``: praise vs. not, end to end;
- ``airline (eval only)``: the CC BY-NC-SA airline tweets, never trained on: negative = complaint,
  positive = praise, neutral = other (question/suggestion predictions are folded into other);
- ``needs_response@customer-care``: how often customers' first turns vs. agents' replies in the
  IBM customer-care dev part are flagged (customers write to be answered; agents do not).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from resonanz.analysis.classifiers import intent_data as data
from resonanz.analysis.classifiers.intent import ARTIFACT, classify, load_model
from resonanz.analysis.classifiers.intent_model import LinearTextModel, fit
from resonanz.analysis.metrics import score


def _binary(gold: Sequence[bool], predicted: Sequence[str], label: str) -> dict[str, Any]:
    report = score(
        [label if g else "other" for g in gold], [p if p == label else "other" for p in predicted], [label, "other"]
    ).as_dict()
    per_class: dict[str, Any] = report["per_class"]  # type: ignore[assignment]
    return {"n": report["n"], "macro_f1": report["macro_f1"], label: per_class[label]}


def evaluate(model: LinearTextModel, root: Path) -> dict[str, Any]:
    """The dev-set report (see the module docstring)."""
    report: dict[str, Any] = {}
    dev = [e for e in data.training_examples(root) if e.split == "dev"]
    for head in ("complaint", "praise"):
        for source in sorted({e.source for e in dev if getattr(e, head) is not None}):
            rows = [e for e in dev if e.source == source and getattr(e, head) is not None]
            predicted = [r.intent for r in classify([e.text for e in rows], [e.lang for e in rows], model=model)]
            report[f"{head}@{source}"] = _binary([bool(getattr(e, head)) for e in rows], predicted, head)
    airline = data.airline_eval(root)
    if airline:
        texts = [t for t, _ in airline]
        started = time.perf_counter()
        results = classify(texts, ["en"] * len(texts), model=model)
        seconds = time.perf_counter() - started
        predicted = [r.intent if r.intent in ("complaint", "praise") else "other" for r in results]
        full = score([g for _, g in airline], predicted).as_dict()
        neutral = [r.intent for r, (_, g) in zip(results, airline, strict=True) if g == "other"]
        full["share_question_among_neutral"] = round(neutral.count("question") / max(len(neutral), 1), 4)
        full["texts_per_s_batched"] = round(len(texts) / seconds)
        report["airline (eval only)"] = full
    turns = [(e, customer) for e, customer in data.customer_care(root) if e.split == "dev"]
    flags = classify([e.text for e, _ in turns], ["en"] * len(turns), model=model)
    for who, want in (("customers", True), ("agents", False)):
        picked = [f for f, (_, customer) in zip(flags, turns, strict=True) if customer is want]
        report[f"needs_response@customer-care {who}"] = {
            "n": len(picked),
            "share_flagged": round(sum(f.needs_response for f in picked) / max(len(picked), 1), 4),
        }
    return report


def train(data_dir: Path, *, out_dir: Path, feedback: Sequence[tuple[str, str, str | None]] = ()) -> dict[str, Any]:
    """Fit both heads on the train parts (+ people's corrections), write ``intent.npz/json``, report."""
    examples = [e for e in data.training_examples(data_dir) if e.split == "train"]
    texts = [e.text for e in examples]
    complaint: list[bool | None] = [e.complaint for e in examples]
    praise: list[bool | None] = [e.praise for e in examples]
    for text, label, _lang in feedback:
        texts.append(text)
        complaint.append(label == "complaint")
        praise.append(label == "praise")
    model = fit(texts, {"complaint": complaint, "praise": praise})
    report = evaluate(model, data_dir)
    counts: dict[str, int] = {}
    for e in examples:
        counts[e.source] = counts.get(e.source, 0) + 1
    model.meta = {
        "training_data": {s: {"rows": n, "licence": data.LICENCES[s]} for s, n in sorted(counts.items())},
        "feedback_rows": len(feedback),
        "vocabulary_size": len(model.vocabulary),
        "dev_report": report,
    }
    model.save(out_dir, ARTIFACT)
    load_model.cache_clear()
    return report

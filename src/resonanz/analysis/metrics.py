"""Classification metrics, computed the way the source papers report them (accuracy,
macro-averaged recall as in SemEval/TweetEval sentiment, macro-F1 as in GermEval and XLM-T)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Report:
    n: int
    accuracy: float
    macro_recall: float
    macro_f1: float
    per_class: dict[str, ClassScores] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_recall": round(self.macro_recall, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_class": {
                label: {"precision": round(s.precision, 4), "recall": round(s.recall, 4), "f1": round(s.f1, 4),
                        "support": s.support}
                for label, s in self.per_class.items()
            },
        }  # fmt: skip


def score(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None) -> Report:
    """Scores over ``labels`` (default: every label in ``gold``). Macro averages are taken over the
    labels that occur in ``gold``, so a label the data lacks does not count as a zero."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    classes = list(labels) if labels is not None else sorted(set(gold))
    per_class: dict[str, ClassScores] = {}
    for label in classes:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = ClassScores(precision, recall, f1, tp + fn)
    present = [s for s in per_class.values() if s.support] or list(per_class.values())
    n = len(gold)
    return Report(
        n=n,
        accuracy=sum(1 for g, p in zip(gold, predicted, strict=True) if g == p) / n if n else 0.0,
        macro_recall=sum(s.recall for s in present) / len(present) if present else 0.0,
        macro_f1=sum(s.f1 for s in present) / len(present) if present else 0.0,
        per_class=per_class,
    )

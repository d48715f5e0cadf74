"""Training on a tiny fixture (licences respected), the featuriser, calibration, the cascade with a
stand-in accurate tier, and ``resonanz models evaluate --task sentiment`` through the CLI."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from typer.testing import CliRunner

from resonanz.analysis.classifiers import sentiment_accurate
from resonanz.analysis.classifiers.linear import Featurizer, LinearModel, fit_temperature
from resonanz.analysis.classifiers.sentiment import LABELS, TASK, classify, fast_model
from resonanz.analysis.tasks import get_task
from resonanz.cli.main import app

EN = {
    "positive": ["love it", "great service thanks", "awesome day", "so happy with this", "best product ever"],
    "negative": ["hate it", "terrible service", "awful day", "so angry about this", "worst product ever"],
    "neutral": ["the shop opens at nine", "new version released today", "meeting on monday", "it is a phone"],
}
DE = {
    "positive": ["ich liebe es", "super service danke", "toller tag", "sehr zufrieden damit"],
    "negative": ["ich hasse es", "schrecklicher service", "mieser tag", "sehr wütend darüber"],
    "neutral": ["der laden öffnet um neun", "neue version heute", "termin am montag", "das ist ein telefon"],
}


def _data(root: Path) -> Path:
    sem = root / "semeval2017-task4a-en"
    sem.mkdir(parents=True)
    rows = [f"{i}\t{label}\t{text} {i % 7}" for i, (label, texts) in enumerate(EN.items()) for text in texts]
    rows = [f"{n}{r}" for n in range(6) for r in rows]
    (sem / "twitter-2016train-A.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    german = root / "xlm-t-umsab" / "german"
    german.mkdir(parents=True)
    pairs = [(f"{t} {n}", LABELS.index(label)) for n in range(6) for label, texts in DE.items() for t in texts]
    (german / "train_text.txt").write_text("\n".join(t for t, _ in pairs) + "\n", encoding="utf-8")
    (german / "train_labels.txt").write_text("\n".join(str(y) for _, y in pairs) + "\n", encoding="utf-8")
    val = root / "tweeteval" / "sentiment"
    val.mkdir(parents=True)
    (val / "val_text.txt").write_text("love this service\nterrible day\nthe shop is a phone\n", encoding="utf-8")
    (val / "val_labels.txt").write_text("2\n0\n1\n", encoding="utf-8")
    airline = root / "twitter-us-airline-sentiment"
    airline.mkdir()
    (airline / "Tweets.train.csv").write_text(
        "tweet_id,airline_sentiment,text\n1,negative,flight late again\n2,positive,great crew thanks\n",
        encoding="utf-8",
    )
    return root


def test_training_writes_artifacts_that_load_and_predict(tmp_path: Path) -> None:
    out = tmp_path / "artifacts"
    report = TASK.train(_data(tmp_path / "data"), out_dir=out, feedback=[("mega geil", "positive", "de")])
    for lang in ("de", "en"):
        assert (out / f"sentiment_{lang}.npz").stat().st_size < 2_000_000
        model = LinearModel.load(out / f"sentiment_{lang}")
        assert model.labels == LABELS and model.temperature > 0
        assert "twitter-us-airline-sentiment" not in json.dumps(model.meta["trained_on"])  # non-commercial: eval only
    assert "feedback" in LinearModel.load(out / "sentiment_de").meta["trained_on"]
    assert "feedback" not in LinearModel.load(out / "sentiment_en").meta["trained_on"]
    assert set(report["en"]["dev"]) == {"tweeteval-val", "airline (out of domain)"}
    assert report["en"]["dev"]["tweeteval-val"]["metric"] == "macro_recall"
    results = classify(["i love it, great", "ich hasse es"], ["en", "de"], directory=out)
    assert [r["label"] for r in results] == ["positive", "negative"]
    assert fast_model("fr", out) is None


def test_same_ngram_same_column_and_spans_point_into_the_text() -> None:
    feats = Featurizer(bits=16).counts(["good movie", "a good movie!", "bad \ud800 x"])
    assert set(feats.matrix[0].indices) < set(feats.matrix[1].indices)
    starts, ends = feats.word_span
    words = {feats.texts[d][a:b] for d, a, b in zip(feats.word_doc, starts, ends, strict=True)}
    assert {"good", "movie", "good movie", "!", "movie!", "bad"} <= words


def test_temperature_is_recovered_from_overconfident_logits() -> None:
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 3, size=(4000, 3))
    tempered = np.exp(logits / 2.0)
    p = tempered / tempered.sum(axis=1, keepdims=True)
    gold = np.array([rng.choice(3, p=row) for row in p])
    assert abs(fit_temperature(logits, gold) - 2.0) < 0.25


def _stand_in_embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """A deterministic 'encoder' for tests: hashed word counts folded into 16 dimensions."""
    dense = Featurizer(bits=4, word_n=1, char_range=None).counts(texts).matrix.toarray()
    return np.asarray(dense, dtype=np.float32)


def test_cascade_rescores_low_confidence_texts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "artifacts"
    TASK.train(_data(tmp_path / "data"), out_dir=out, feedback=[])
    texts = [t for texts in EN.values() for t in texts]
    labels = [label for label, texts in EN.items() for _ in texts]
    fast = fast_model("en", out)
    assert fast is not None
    sentiment_accurate.train_head(texts * 4, labels * 4, fast=fast, embed=_stand_in_embed,
                                  out=sentiment_accurate.head_path("en", out))  # fmt: skip
    original = sentiment_accurate.scorer
    assert not isinstance(original("en", out, _stand_in_embed), str)
    monkeypatch.setattr(sentiment_accurate, "scorer", lambda lang, d, **_: original(lang, d, _stand_in_embed))
    both = ["love it", "hate it"]
    everything = classify(both, ["en", "en"], tier="cascade", threshold=1.01, max_share=1.0, directory=out)
    nothing = classify(["love it"], ["en"], tier="cascade", threshold=0.0, directory=out)
    assert [r["tier"] for r in everything] == ["accurate", "accurate"]
    assert all("fast_label" in r and 0 <= r["score"] <= 1 for r in everything)
    assert nothing[0]["tier"] == "fast"


def test_evaluate_through_the_cli(tmp_path: Path) -> None:
    examples = [
        ("I love this, thank you so much!", "positive", "en"),
        ("Worst service ever, I am so angry", "negative", "en"),
        ("Vielen Dank, das ist wirklich super!", "positive", "de"),
        ("Total enttäuscht, der schlechteste Laden überhaupt", "negative", None),
    ]
    path = tmp_path / "sentiment.jsonl"
    lines = [json.dumps({"text": t, "label": y, "lang": lang}, ensure_ascii=False) for t, y, lang in examples]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["models", "evaluate", "--task", "sentiment", "--file", str(path), "--tier", "fast", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    predicted = get_task("sentiment").predict([t for t, _, _ in examples], [lang for *_, lang in examples], tier="fast")
    expected = sum(p == y for p, (_, y, _) in zip(predicted, examples, strict=True)) / len(examples)
    assert report["n"] == 4 and report["tier"] == "fast" and report["accuracy"] == expected
    assert set(report["per_class"]) <= set(LABELS)

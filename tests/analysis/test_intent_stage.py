"""The intent stage: contract on bad input, needs_response, training on a tiny fixture, the evaluate command."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import orjson
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from typer.testing import CliRunner

from resonanz.analysis.classifiers import intent as intent_mod
from resonanz.analysis.classifiers.intent import LABELS, TASK, classify, load_model
from resonanz.analysis.classifiers.intent_model import _vectorizer
from resonanz.analysis.classifiers.intent_training import train
from resonanz.analysis.metrics import score
from resonanz.analysis.stages.base import Doc
from resonanz.analysis.stages.intent import IntentStage
from resonanz.cli.main import app
from resonanz.config import Settings

BAD = {
    "empty": "",
    "only_emojis": "😡😡😡 👩🏽‍💻🇩🇪",
    "only_urls": "https://example.com/a www.x.example",
    "huge": ("Die App stürzt ständig ab, wie kann ich das beheben? " * 2000)[:100_000],
    "mixed": "Der Zug ist again late, echt jetzt? Worst service ever.",
    "unsupported": "这是一个测试，火车又晚点了。",
    "surrogates": "Hallo \ud800 @a\udc00 wie kann ich das ändern",
    "zero_width": "Kann mir jemand\u200b helfen\u200d?",
    "homoglyphs": "Die B\u0430hn ist zu sp\u0430t!",
}


def _run(stage: IntentStage, texts: list[str], langs: list[str | None]) -> list[dict[str, object]]:
    docs = [Doc(mention_id=i, text=t) for i, t in enumerate(texts)]
    upstream = [{"language": {"lang": lang, "confidence": 0.9}} for lang in langs]
    return stage.run(docs, upstream)


@pytest.mark.parametrize("name", sorted(BAD))
def test_every_bad_text_gets_a_defined_storable_result(name: str) -> None:
    stage = IntentStage(Settings())
    (result,) = _run(stage, [BAD[name]], ["und" if name != "unsupported" else "zh"])
    assert result["intent"] in LABELS
    assert 0.0 <= float(result["confidence"]) <= 1.0  # type: ignore[arg-type]
    assert isinstance(result["needs_response"], bool) and isinstance(result["reasons"], list)
    orjson.dumps(result)  # storable
    assert set(stage.columns(result)) == {"intent", "needs_response"}


def test_the_whole_batch_in_one_call_matches_one_by_one() -> None:
    stage = IntentStage(Settings())
    texts, langs = list(BAD.values()), ["und"] * len(BAD)
    batch = _run(stage, texts, langs)
    assert batch == [_run(stage, [t], [lang])[0] for t, lang in zip(texts, langs, strict=True)]


def test_unmodelled_language_uses_rules_only() -> None:
    (result,) = _run(IntentStage(Settings()), ["Pourquoi mon colis est-il en retard ?"], ["fr"])
    assert result["intent"] == "question" and "language not modelled: rules only" in result["reasons"]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "needs"),
    [
        ("@DB_Bahn wie kann ich meine Erstattung beantragen?", True),
        ("How do I reset my password, can you help?", True),
        ("Weiß jemand, wie man das Passwort zurücksetzt?", False),  # asks the crowd, not the company
        ("@Acme thanks so much, great service!", False),  # praise needs no answer
    ],
)
def test_needs_response_is_a_question_or_complaint_that_addresses_someone(text: str, needs: bool) -> None:
    (result,) = _run(IntentStage(Settings()), [text], [None])
    assert result["needs_response"] is needs, result
    if needs:
        assert result["intent"] in {"question", "complaint"}


def test_a_configured_brand_counts_as_addressed() -> None:
    text = "Weiß jemand, wie man bei Nordwelle kündigt?"
    (plain,) = _run(IntentStage(Settings()), [text], ["de"])
    (branded,) = _run(IntentStage(Settings(brands={"Nordwelle": ["nord welle"]})), [text], ["de"])
    assert plain["needs_response"] is False and branded["needs_response"] is True
    assert "addressed: brand nordwelle" in branded["reasons"]  # type: ignore[operator]


def test_shipped_model_tells_complaint_praise_and_question_apart() -> None:
    results = classify(
        [
            "@telekom Internet geht schon wieder nicht, seit drei Tagen!",
            "my flight got cancelled again, worst airline ever",
            "Vielen Dank, ihr seid großartig ❤️",
            "Wie kann ich meine Adresse ändern?",
        ],
        ["de", "en", "de", "de"],
    )
    assert [r.intent for r in results] == ["complaint", "complaint", "praise", "question"]
    assert any(r.startswith("word: ") for r in results[1].reasons)


def test_fast_features_equal_the_training_vectorizer() -> None:
    model = load_model()
    texts = ["@X Der Zug ist schon wieder zu spät!! https://t.co/x 😡", "thanks, great job", "", "a a a b"]
    fast = model.features(texts).toarray()
    reference: CountVectorizer = _vectorizer({w: i for i, w in enumerate(model.vocabulary)})
    slow = reference.transform(texts).toarray()
    norms = (slow**2).sum(axis=1, keepdims=True) ** 0.5
    assert ((fast - slow / (norms + (norms == 0))) ** 2).sum() < 1e-8


def _tiny_data(root: Path) -> None:
    """The folder layout train() reads, with a handful of invented rows per data set."""
    complaints = [
        ("@Shop my order never arrived, terrible service", 1), ("@Shop still waiting for my refund, ridiculous", 1),
        ("@Shop the app crashes every time, so annoying", 1), ("@Shop broken again, worst purchase ever", 1),
        ("@Shop what time do you open", 0), ("@Shop nice weather today", 0), ("@Shop see you tomorrow", 0),
        ("@Shop just bought a new jacket", 0),
    ] * 4  # fmt: skip
    (root / "complaints-social-media").mkdir(parents=True)
    with (root / "complaints-social-media" / "complaints-data.train.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([(i, t + f" {i}", label, "retail") for i, (t, label) in enumerate(complaints)])
    (root / "germeval2017").mkdir()
    rows = ["u\tZug schon wieder zu spät, katastrophe\ttrue\tnegative\t", "u\tDanke, toller Service\ttrue\tpositive\t",
            "u\tDer Zug fährt um acht\ttrue\tneutral\t", "u\tPressemitteilung\tfalse\tneutral\t"] * 5  # fmt: skip
    (root / "germeval2017" / "dev_v1.4.tsv").write_text(
        "\n".join(r.replace("\t", f" {i}\t", 2).replace(f" {i}\t", "\t", 1) for i, r in enumerate(rows)) + "\n"
    )
    (root / "germeval2017" / "trial.tsv").write_text("")
    (root / "germeval2025-flausch").mkdir()
    flausch = [("Du bist so toll, danke!", "yes"), ("Mega Video, weiter so", "yes"), ("Kann ich verstehen", "no"),
               ("Nein", "no")] * 5  # fmt: skip
    with (root / "germeval2025-flausch" / "flausch_task1.train.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["document", "comment_id", "comment", "flausch"])
        writer.writerows([("v", i, t + f" {i}", y) for i, (t, y) in enumerate(flausch)])
    for folder in ("english", "german"):
        base = root / "xlm-t-umsab" / folder
        base.mkdir(parents=True)
        for split in ("train", "val"):
            (base / f"{split}_text.txt").write_text("love it\nhate it\nit is tuesday\n")
            (base / f"{split}_labels.txt").write_text("2\n0\n1\n")
    (root / "semeval2017-task4a-en").mkdir()
    (root / "semeval2017-task4a-en" / "twitter-2016train-A.tsv").write_text(
        "1\tpositive\tgreat phone\n2\tneutral\tphone\n"
    )
    (root / "ibm-twitter-customer-care").mkdir()
    turns = [{"client": "c", "message": "@Shop how do I get a refund?"}, {"agent": "a", "message": "Sorry, DM us."}]
    conversation = {"dialogHeader": {"sessionID": "s1"}, "dialogContent": turns}
    (root / "ibm-twitter-customer-care" / "dev.json").write_text(json.dumps([conversation]))


def test_training_on_a_tiny_fixture_writes_an_artifact_that_loads_and_predicts(tmp_path: Path) -> None:
    _tiny_data(tmp_path / "data")
    out = tmp_path / "artifacts"
    report = train(tmp_path / "data", out_dir=out, feedback=[("Der Knopf klemmt dauernd", "complaint", "de")])
    assert (out / "intent.npz").stat().st_size > 0
    meta = json.loads((out / "intent.json").read_text())
    assert meta["feedback_rows"] == 1 and "complaints-social-media" in meta["training_data"]
    assert "airline (eval only)" not in report  # the fixture has no airline data: nothing NC is read
    model = load_model(out)
    assert model.heads == ("complaint", "praise") and len(model.vocabulary) > 10
    (result,) = classify(["@Shop terrible service, still waiting"], ["en"], model=model)
    assert result.intent == "complaint"


def test_align_folds_labels_the_file_does_not_use_into_other() -> None:
    predicted = ["complaint", "question", "praise", "suggestion", "other"]
    assert TASK.align(predicted, {"complaint", "other"}) == ["complaint", "other", "other", "other", "other"]
    assert TASK.align(predicted, set(LABELS)) == predicted


def test_evaluate_through_the_cli(tmp_path: Path) -> None:
    examples = [
        ("@telekom Internet geht schon wieder nicht!", "complaint", "de"),
        ("Wie kann ich meine Adresse ändern?", "question", "de"),
        ("Vielen Dank, ihr seid großartig", "praise", "de"),
        ("Please add a dark mode", "suggestion", "en"),
        ("my flight got cancelled again, worst airline ever", "complaint", "en"),
        ("Der Zug fährt um acht Uhr ab.", "other", "de"),
    ]
    path = tmp_path / "intent.jsonl"
    path.write_text("\n".join(json.dumps({"text": t, "label": y, "lang": g}) for t, y, g in examples) + "\n")
    result = CliRunner().invoke(app, ["models", "evaluate", "--task", "intent", "--file", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    expected = score([y for _, y, _ in examples], TASK.predict([t for t, _, _ in examples], [g for *_, g in examples]))
    assert report["n"] == 6 and report["accuracy"] == round(expected.accuracy, 4)
    assert set(report["per_class"]) == set(LABELS) and report["per_second"] > 0
    assert intent_mod.TASK is TASK

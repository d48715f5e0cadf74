"""The offensive stage: contract on bad input, explanations, training on a tiny fixture, the evaluate command."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from resonanz.analysis.classifiers.offensive import LABELS, TASK, judge, load_model
from resonanz.analysis.metrics import score
from resonanz.analysis.stages.base import Doc
from resonanz.analysis.stages.offensive import OffensiveStage
from resonanz.cli.main import app
from resonanz.config import Settings

BAD = {
    "empty": "",
    "only_emojis": "😡😡😡 👩🏽‍💻🇩🇪",
    "only_urls": "https://example.com/a www.x.example",
    "huge": ("Du bist so ein Idiot, echt jetzt. " * 3000)[:100_000],
    "mixed": "Der Zug ist again late, what an idiot of a company",
    "unsupported": "这是一个测试，火车又晚点了。",
    "surrogates": "Du Idiot \ud800 @a\udc00",
    "zero_width": "Id\u200biot\u200d",
    "homoglyphs": "Du bist ein \u0399diot",
}


def _run(texts: list[str], langs: list[str | None]) -> list[dict[str, object]]:
    stage = OffensiveStage(Settings())
    docs = [Doc(mention_id=i, text=t) for i, t in enumerate(texts)]
    return stage.run(docs, [{"language": {"lang": lang}} for lang in langs])


@pytest.mark.parametrize("name", sorted(BAD))
def test_every_bad_text_gets_a_defined_storable_result(name: str) -> None:
    (result,) = _run([BAD[name]], ["zh" if name == "unsupported" else "und"])
    assert result["label"] in LABELS and 0.0 <= float(result["score"]) <= 1.0  # type: ignore[arg-type]
    assert isinstance(result["explanation"], list)
    orjson.dumps(result)
    assert OffensiveStage(Settings()).columns(result) == {"offensive": result["label"] == "offensive"}


def test_batch_equals_one_by_one_and_unmodelled_languages_score_zero() -> None:
    texts, langs = list(BAD.values()), ["und"] * len(BAD)
    assert _run(texts, langs) == [_run([t], [g])[0] for t, g in zip(texts, langs, strict=True)]
    (fr,) = _run(["Tu es un idiot"], ["fr"])
    assert fr == {"label": "other", "score": 0.0, "explanation": ["language not modelled"]}


def test_shipped_model_flags_insults_and_explains_them() -> None:
    found = judge(
        ["Du bist so ein dummer Vollidiot, halt die Fresse", "Der Zug kommt heute pünktlich um acht.",
         "shut up you fucking idiot", "Thanks for the quick delivery, have a nice day"],
        ["de", "de", "en", "en"],
    )  # fmt: skip
    assert [j.label for j in found] == ["offensive", "other", "offensive", "other"]
    assert found[0].explanation and all(e.startswith("word: ") for e in found[0].explanation)
    assert found[1].explanation == ()


def _tiny_data(root: Path) -> None:
    (root / "germeval2018").mkdir(parents=True)
    rows = [("Du Vollidiot, halt die Klappe", "OFFENSE"), ("Schönen Tag euch allen", "OTHER"),
            ("Was für ein dummes Pack", "OFFENSE"), ("Der Bus kommt um acht", "OTHER")] * 10  # fmt: skip
    (root / "germeval2018" / "germeval2018.training.txt").write_text(
        "\n".join(f"{t} {i}\t{y}\t{y}" for i, (t, y) in enumerate(rows)) + "\n"
    )
    (root / "germeval2021-toxic").mkdir()
    with (root / "germeval2021-toxic" / "GermEval21_TrainData.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["comment_id", "comment_text", "Sub1_Toxic", "Sub2_Engaging", "Sub3_FactClaiming"])
        writer.writerows([(i, f"Ihr Idioten {i}" if i % 2 else f"Gute Idee {i}", i % 2, 0, 0) for i in range(30)])
    base = root / "tweeteval" / "offensive"
    base.mkdir(parents=True)
    for split in ("train", "val"):
        (base / f"{split}_text.txt").write_text("\n".join(["you stupid idiot", "have a nice day"] * 10) + "\n")
        (base / f"{split}_labels.txt").write_text("\n".join(["1", "0"] * 10) + "\n")


def test_training_on_a_tiny_fixture_writes_an_artifact_that_loads_and_predicts(tmp_path: Path) -> None:
    _tiny_data(tmp_path / "data")
    out = tmp_path / "artifacts"
    report = TASK.train(tmp_path / "data", out_dir=out, feedback=[("Du Depp", "offensive", "de")])
    assert set(report) == {"germeval2018 dev", "germeval2021-toxic dev", "tweeteval-offensive dev"}
    meta = json.loads((out / "offensive.json").read_text())
    assert meta["feedback_rows"] == 1 and meta["training_data"]["germeval2018"]["licence"] == "CC BY 4.0"
    model = load_model(out)
    found = judge(["you stupid idiot", "have a nice day"], ["en", "en"], model=model)
    assert [j.label for j in found] == ["offensive", "other"]


def test_evaluate_through_the_cli(tmp_path: Path) -> None:
    examples = [("Halt die Fresse, du Vollidiot", "offensive", "de"), ("Schönes Wetter heute", "other", "de"),
                ("you are a fucking moron", "offensive", "en"), ("Great game last night", "other", "en")]  # fmt: skip
    path = tmp_path / "off.jsonl"
    path.write_text("\n".join(json.dumps({"text": t, "label": y, "lang": g}) for t, y, g in examples) + "\n")
    result = CliRunner().invoke(app, ["models", "evaluate", "--task", "offensive", "--file", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    expected = score([y for _, y, _ in examples], TASK.predict([t for t, _, _ in examples], [g for *_, g in examples]))
    assert report["n"] == 4 and report["macro_f1"] == round(expected.macro_f1, 4)

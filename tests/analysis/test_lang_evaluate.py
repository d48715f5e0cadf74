"""``resonanz models evaluate --task language`` on a small labelled fixture, and the no-op train."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from resonanz.analysis.classifiers.language import TASK, UND
from resonanz.analysis.metrics import score
from resonanz.analysis.tasks import get_task
from resonanz.cli.main import app

EXAMPLES = [
    ("Die Lieferung kam zwei Tage zu spät und der Karton war kaputt.", "de", None),
    ("@telekom warum ist das Internet schon wieder weg?? #störung", "de", "de"),
    ("My order never arrived and support keeps ignoring me https://t.co/abc", "en", None),
    ("Loving the new update, great job team! 😍", "en", "en"),
    ("Le service client ne répond jamais, c'est inadmissible.", "fr", None),
    ("El pedido llegó roto y nadie me devuelve el dinero.", "es", None),
    ("Il prodotto è arrivato in ritardo ma funziona bene.", "it", None),
    ("De bezorging was snel en het product werkt prima.", "nl", None),
    ("O atendimento foi ótimo, resolveram tudo em minutos.", "pt", "pt-BR"),
    ("Zamówienie przyszło uszkodzone, proszę o zwrot pieniędzy.", "pl", None),
    ("Siparişim hâlâ gelmedi, kimse cevap vermiyor.", "tr", None),
    ("👍👍", UND, None),
    ("مرحبا كيف حالك اليوم", UND, None),
]


def _fixture(tmp_path: Path) -> Path:
    path = tmp_path / "lang.jsonl"
    lines = [json.dumps({"text": t, "label": label, "lang": hint}, ensure_ascii=False) for t, label, hint in EXAMPLES]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_evaluate_language_through_the_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["models", "evaluate", "--task", "language", "--file", str(_fixture(tmp_path)), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    texts = [t for t, _, _ in EXAMPLES]
    gold = [label for _, label, _ in EXAMPLES]
    expected = score(gold, TASK.predict(texts, [h for _, _, h in EXAMPLES])).as_dict()
    assert report["n"] == len(EXAMPLES) and report["task"] == "language"
    assert report["accuracy"] == expected["accuracy"] >= 0.9
    assert report["per_class"]["und"]["support"] == 2 and report["per_second"] > 0


def test_the_task_is_found_by_name_and_predicts_codes() -> None:
    task = get_task("language")
    assert task is TASK and set(task.labels) >= {"de", "en", UND}
    predicted = task.predict(["Guten Morgen zusammen, wie geht es euch heute?", ""], [None, None], tier="fast")
    assert predicted == ["de", UND]


def test_train_writes_nothing_and_reports_on_the_dev_tweets(tmp_path: Path) -> None:
    out = tmp_path / "artifacts"
    empty = TASK.train(tmp_path / "nowhere", out_dir=out, feedback=[])
    assert "nothing to train" in str(empty["note"])
    folder = tmp_path / "data" / "xlm-t-umsab" / "german"
    folder.mkdir(parents=True)
    (folder / "val_text.txt").write_text("Heute ist ein schöner Tag in Berlin\n@user ich komme morgen\n", "utf-8")
    report = TASK.train(tmp_path / "data", out_dir=out, feedback=[("x", "de", None)])
    assert report["n"] == 2 and 0.0 <= float(report["accuracy"]) <= 1.0  # type: ignore[arg-type]
    assert not out.exists()

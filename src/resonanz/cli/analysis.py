"""``resonanz analyze``, ``resonanz analyze-text``, ``resonanz models train|evaluate``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from resonanz.analysis.feedback import training_feedback
from resonanz.analysis.metrics import score
from resonanz.analysis.runner import analyze_pending, build_stages, count_pending, run_stages
from resonanz.analysis.stages.base import Doc
from resonanz.analysis.tasks import ARTIFACTS, TASK_MODULES, TIERS, available_tasks, get_task
from resonanz.cli.context import console, database, handle_errors, print_json, print_table, session_scope, settings
from resonanz.errors import InputError

models_app = typer.Typer(help="Train and evaluate the built-in models.", no_args_is_help=True)

DEFAULT_DATA = Path("../shared/data")


@handle_errors
def analyze(
    stage: Annotated[list[str] | None, typer.Option("--stage", help="only these stages (and what they need)")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="stop after this many mentions")] = None,
    batch: Annotated[int, typer.Option(min=1, max=10_000)] = 500,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """(Re)analyse stored mentions that lack a current result; safe to interrupt and run again."""
    db = database()
    stages = build_stages(db.settings, stage)
    if not stages:
        raise InputError("no analysis stages are installed", location="--stage")
    with session_scope() as session:
        total = count_pending(session, stages)
    if limit is not None:
        total = min(total, limit)
    started = time.perf_counter()
    with Progress(
        TextColumn("analysing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console,
        disable=as_json,
    ) as bar:  # fmt: skip
        task = bar.add_task("analyse", total=total)
        report = analyze_pending(db.sessions, stages, batch=batch, limit=limit, progress=lambda n: bar.advance(task, n))
    seconds = time.perf_counter() - started
    names = [f"{s.name}@{s.version}" for s in stages]
    data: dict[str, Any] = {
        "stages": names,
        "analysed": report.analysed,
        "seconds": round(seconds, 2),
        "per_second": round(report.analysed / seconds) if seconds else None,
    }
    if as_json:
        print_json(data)
    else:
        console.print(f"analysed {data['analysed']:,} mention(s) with {', '.join(names)} in {data['seconds']} s")


@handle_errors
def analyze_text(
    text: Annotated[str, typer.Argument(help="the text to analyse")],
    lang: Annotated[str | None, typer.Option(help="the source's language hint")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run every stage on one text and show each result with its explanation."""
    stages = build_stages(settings())
    (results,) = run_stages(stages, [Doc(mention_id=0, text=text, language_hint=lang)])
    if as_json:
        print_json({f"{s.name}": {"version": s.version, **results[s.name]} for s in stages})
        return
    for stage in stages:
        console.rule(f"{stage.name} ({stage.version})")
        console.print(json.dumps(results[stage.name], ensure_ascii=False, indent=2), markup=False, highlight=False)


def _read_eval(path: Path) -> tuple[list[str], list[str], list[str | None]]:
    texts: list[str] = []
    labels: list[str] = []
    langs: list[str | None] = []
    with path.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                texts.append(str(row["text"]))
                labels.append(str(row["label"]))
                langs.append(row.get("lang"))
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(f'expected {{"text": …, "label": …}}: {exc}', location=f"{path}:{number}") from exc
    if not texts:
        raise InputError("the file holds no examples", location=str(path))
    return texts, labels, langs


@models_app.command("evaluate")
@handle_errors
def evaluate(
    task: Annotated[str, typer.Option(help=f"one of {', '.join(TASK_MODULES)}")],
    file: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="JSONL: {text, label, lang}")],
    tier: Annotated[str, typer.Option(help="fast, accurate or cascade")] = "cascade",
    threshold: Annotated[
        float | None, typer.Option(min=0, max=1, help="sentiment cascade threshold (default: the setting)")
    ] = None,
    max_share: Annotated[
        float | None, typer.Option(min=0, max=1, help="sentiment cascade: most re-scored per batch (default: setting)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Score a model on labelled examples: accuracy, macro-recall, macro-F1, per class, speed."""
    if tier not in TIERS:
        raise InputError(f"choose one of {', '.join(TIERS)}", location="--tier")
    model = get_task(task)
    texts, gold, langs = _read_eval(file)
    options: dict[str, Any] = {}
    if task == "sentiment":  # the cascade's knobs; other tasks have one model
        cfg = settings()
        options = {
            "threshold": cfg.sentiment_cascade_threshold if threshold is None else threshold,
            "max_share": cfg.sentiment_cascade_max_share if max_share is None else max_share,
            "transformers_dir": cfg.sentiment_transformers_model, "cache_dir": cfg.data_dir / "models",
            "cascade_langs": cfg.sentiment_cascade_langs,
        }  # fmt: skip
    started = time.perf_counter()
    predicted = model.predict(texts, langs, tier=tier, **options)
    align = getattr(model, "align", None)
    if callable(align):  # e.g. intent scored on a complaint/other file: its other labels count as "other"
        predicted = list(align(predicted, set(gold)))
    seconds = time.perf_counter() - started
    report: dict[str, Any] = score(gold, predicted).as_dict()
    report.update(task=task, tier=tier, per_second=round(len(texts) / seconds) if seconds else None)
    report.update(getattr(model, "last_report", None) or {})  # e.g. the sentiment cascade's re-scored share
    if as_json:
        print_json(report)
        return
    console.print(
        f"{task} ({tier}) on {report['n']:,} examples: accuracy {report['accuracy']:.3f}, macro-recall "
        f"{report['macro_recall']:.3f}, macro-F1 {report['macro_f1']:.3f}, {report['per_second']:,} texts/s"
    )
    if "rescored" in report:
        console.print(f"re-scored by the accurate tier: {report['rescored']:,} ({report['rescored_share']:.1%})")
    for reason in report.get("accurate_unavailable", ()):
        console.print(f"[yellow]{reason}[/yellow]", highlight=False)
    print_table(
        "per class",
        ["label", "precision", "recall", "F1", "n"],
        [(k, v["precision"], v["recall"], v["f1"], v["support"]) for k, v in report["per_class"].items()],
    )


@models_app.command("train")
@handle_errors
def train(
    task: Annotated[list[str] | None, typer.Option("--task", help="default: every task")] = None,
    data_dir: Annotated[Path, typer.Option(help="the labelled data sets (../shared/data)")] = DEFAULT_DATA,
    out_dir: Annotated[Path, typer.Option(help="where the artifacts go (default: inside the package)")] = ARTIFACTS,
    with_feedback: Annotated[bool, typer.Option("--with-feedback", help="fold people's corrections in")] = False,
    tier: Annotated[
        str, typer.Option(help="fast, or accurate (the sentiment cascade's heads; needs resonanz[accurate])")
    ] = "fast",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Train the built-in models from the labelled data sets and write their artifacts."""
    if not data_dir.is_dir():
        raise InputError(f"{data_dir} is not a directory with the labelled data sets", location="--data-dir")
    if tier not in ("fast", "accurate"):
        raise InputError("choose fast or accurate", location="--tier")
    if tier == "accurate":
        if (task or ["sentiment"]) != ["sentiment"]:
            raise InputError("only the sentiment task has an accurate tier", location="--tier")
        from resonanz.analysis.classifiers.sentiment_heads import train_accurate

        with console.status("training the accurate sentiment heads (embedding takes minutes) …"):
            heads = train_accurate(data_dir, out_dir=out_dir, cache_dir=settings().data_dir / "models")
        if as_json:
            print_json({"sentiment": heads})
        else:
            console.print(
                f"[bold]sentiment (accurate)[/bold]: {json.dumps(heads, ensure_ascii=False)}", highlight=False
            )
        return
    reports: dict[str, Any] = {}
    for name in task or available_tasks():
        feedback: list[tuple[str, str, str | None]] = []
        if with_feedback:
            with session_scope() as session:
                feedback = training_feedback(session, task=name)
        with console.status(f"training {name} …"):
            reports[name] = get_task(name).train(data_dir, out_dir=out_dir, feedback=feedback)
        if not as_json:
            console.print(f"[bold]{name}[/bold]: {json.dumps(reports[name], ensure_ascii=False)}", highlight=False)
    if as_json:
        print_json(reports)


@models_app.command("list")
@handle_errors
def list_models(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The analysis stages and trainable tasks installed."""
    stages = build_stages(settings())
    tasks = available_tasks()
    if as_json:
        print_json(
            {
                "stages": [
                    {"name": s.name, "version": s.version, "requires": list(s.requires), "title": s.title}
                    for s in stages
                ],
                "tasks": tasks,
            }
        )
        return
    print_table("Stages (in run order)", ["name", "version", "requires", "what"],
                [(s.name, s.version, ", ".join(s.requires), s.title) for s in stages])  # fmt: skip
    console.print(f"trainable tasks: {', '.join(tasks) or 'none'}")


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
    app.command("analyze-text")(analyze_text)
    app.add_typer(models_app, name="models")

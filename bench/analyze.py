"""Analysis benchmark: the full default pipeline (every registered stage) over N realistic mentions,
single process; mentions/s, peak memory and where the time goes, per stage.

    .venv/bin/python bench/analyze.py                      # 100,000 mentions through run_stages
    .venv/bin/python bench/analyze.py --count 20000 --json
    .venv/bin/python bench/analyze.py --store              # also analyze_pending into a fresh SQLite file
    .venv/bin/python bench/analyze.py --profile            # cProfile of run_stages, top 30, to stderr
    .venv/bin/python bench/analyze.py --stages privacy,crisis,entities

The mentions come from the demo's phrase templates (``resonanz.demo``): German and English in the
ratio of the demo (85:15), complaints, questions, praise, competitor and crisis posts, replies and a
few news paragraphs; some start with an @handle, some end in a link, an emoji or a hashtag; a
few carry a phone number or an IBAN. Authors' followers are log-normal. Deterministic per seed.

Timed: ``run_stages`` over batches of ``--batch`` docs (what ``resonanz analyze`` runs per batch),
and, per stage, its ``run`` calls (a timing wrapper on each stage instance). Not timed: making the
texts and building the stages. ``--store`` adds a second, separate measurement: the mentions are
stored first (untimed), then ``analyze_pending`` reads, analyses, stores and projects them.
Peak memory is the process's peak resident set (``ru_maxrss``), generator included; the
resident set before the stages ran is printed beside it. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import platform
import pstats
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from resonanz.analysis.runner import analyze_pending, build_stages, run_stages
from resonanz.analysis.stages.base import Doc, Result, Stage
from resonanz.config import Settings
from resonanz.demo import phrases
from resonanz.demo.world import COMPETITORS, OWN
from resonanz.demo.writer import TextWriter

CATEGORIES = ("complaint", "complaint", "question", "praise", "competitor", "crisis")
EMOJIS = ("😡", "🙄", "👍", "😂", "❤️", "🚆", "👍🏽", "🤷‍♀️", "🇩🇪")
EXTRAS = ("Ruf mich an: 0171 {n}", "IBAN DE89 3704 0044 0532 0130 00", "Schreibt mir an kunde{n}@mail.example")


def bench_settings(data_dir: Path) -> Settings:
    """Settings with the demo's brands, so brand matching does real work."""
    brands = {c.name: [c.short, c.app, c.subscription, c.scooter, c.service] for c in (OWN, *COMPETITORS)}
    return Settings(data_dir=data_dir, brands=brands)


def make_texts(count: int, *, seed: int = 11) -> list[tuple[str, str | None, int]]:
    """``count`` (text, title, followers) triples; see the module docstring for the mix."""
    rng = random.Random(seed)
    writer = TextWriter(rng)
    writer.unique = lambda make: make()  # type: ignore[method-assign]  # repeats are fine here
    out: list[tuple[str, str | None, int]] = []
    for _ in range(count):
        lang = "en" if rng.random() < 0.15 else "de"
        roll = rng.random()
        title: str | None = None
        if roll < 0.03:
            title, text = writer.article(lang)
        elif roll < 0.15:
            text = writer.short(phrases.REPLIES[lang], lang, tail=0.5)
        else:
            text = writer.post(lang, rng.choice(CATEGORIES))
            if rng.random() < 0.08:
                text += " " + writer.post(lang, rng.choice(CATEGORIES))
        if rng.random() < 0.10:
            text = f"@user_{rng.randint(1, 5000)} {text}"
        if rng.random() < 0.06:
            text += f" https://social.example/{rng.randint(1, 10**6)}"
        if rng.random() < 0.10:
            text += " " + rng.choice(EMOJIS)
        if rng.random() < 0.01:
            text += " " + rng.choice(EXTRAS).format(n=rng.randint(1_000_000, 9_999_999))
        out.append((text, title, int(rng.lognormvariate(5, 1.8))))
    return out


def _timed(stage: Stage, spent: dict[str, list[float]]) -> None:
    """Wrap ``stage.run`` (on the instance) so its wall and CPU time add up in ``spent[stage.name]``."""
    inner: Callable[[Sequence[Doc], Sequence[Mapping[str, Result]]], list[Result]] = stage.run
    wall, cpu = time.perf_counter, time.process_time

    def run(docs: Sequence[Doc], upstream: Sequence[Mapping[str, Result]]) -> list[Result]:
        start, start_cpu = wall(), cpu()
        try:
            return inner(docs, upstream)
        finally:
            total = spent.setdefault(stage.name, [0.0, 0.0])
            total[0] += wall() - start
            total[1] += cpu() - start_cpu

    stage.run = run  # type: ignore[method-assign]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_run_stages(stages: list[Stage], docs: list[Doc], batch: int, profile: bool) -> dict[str, Any]:
    """Wall and CPU time (``process_time``: on a shared machine, the time this process really had a
    core, so the fair "one core" figure) of run_stages over all docs, and per stage."""
    spent: dict[str, list[float]] = {}
    for stage in stages:
        _timed(stage, spent)
    run_stages(stages, docs[:batch])  # warm-up: lazy model loads happen here, not in the timing
    spent.clear()
    profiler = cProfile.Profile() if profile else None
    errors = 0
    start, start_cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    for i in range(0, len(docs), batch):
        for per_doc in run_stages(stages, docs[i : i + batch]):
            errors += sum(1 for r in per_doc.values() if "error" in r)
    if profiler:
        profiler.disable()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
    if profiler:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(30)
    n = len(docs)
    per_stage = {
        name: {"seconds": round(w, 3), "cpu_seconds": round(c, 3), "cpu_us_per_mention": round(c / n * 1e6, 1),
               "mentions_per_cpu_s": round(n / c) if c else None}
        for name, (w, c) in sorted(spent.items(), key=lambda kv: -kv[1][1])
    }  # fmt: skip
    return {
        "mentions": n,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "mentions_per_s": round(n / seconds),
        "mentions_per_cpu_s": round(n / cpu_seconds),
        "errors": errors,
        "per_stage": per_stage,
        "runner_overhead_cpu_s": round(cpu_seconds - sum(c for _, c in spent.values()), 3),
    }


def bench_store(
    settings: Settings, stage_names: list[str] | None, texts: list[tuple[str, str | None, int]], batch: int
) -> dict[str, Any]:
    """Store the mentions (untimed), then time ``analyze_pending`` over all of them."""
    from resonanz.db.database import open_database
    from resonanz.db.engine import transaction
    from resonanz.mentions.ingest import store_batch
    from resonanz.mentions.schemas import AuthorIn, MentionIn

    db = open_database(settings)
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(0, len(texts), 5000):
        items = [
            MentionIn(platform="bench", external_id=str(n), text=text, title=title, published_at=stamp,
                      author=AuthorIn(handle=f"u{n % 5000}", followers=followers))
            for n, (text, title, followers) in enumerate(texts[i : i + 5000], start=i)
        ]  # fmt: skip
        with transaction(db.sessions) as session:
            store_batch(session, items, source_id=None, now=stamp)
    stages = build_stages(settings, stage_names)
    start = time.perf_counter()
    report = analyze_pending(db.sessions, stages, batch=batch)
    seconds = time.perf_counter() - start
    db.dispose()
    return {
        "mentions": report.analysed,
        "seconds": round(seconds, 2),
        "mentions_per_s": round(report.analysed / seconds),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--stages", help="comma-separated stage names (default: every registered stage)")
    parser.add_argument("--store", action="store_true", help="also time analyze_pending into a fresh SQLite file")
    parser.add_argument("--profile", action="store_true", help="cProfile of run_stages to stderr")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    names = args.stages.split(",") if args.stages else None
    with tempfile.TemporaryDirectory(prefix="resonanz-bench-") as tmp:
        settings = bench_settings(Path(tmp))
        t0 = time.perf_counter()
        texts = make_texts(args.count)
        made = time.perf_counter() - t0
        docs = [Doc(i, text, title, platform="bench", followers=f) for i, (text, title, f) in enumerate(texts)]
        stages = build_stages(settings, names)
        rss_before = rss_mb()
        result: dict[str, Any] = {
            "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()},
            "stages": [s.name for s in stages],
            "avg_chars": round(sum(len(d.full_text) for d in docs) / len(docs), 1),
            "generate_s": round(made, 2),
            "run_stages": bench_run_stages(stages, docs, args.batch, args.profile),
            "rss_before_stages_mb": round(rss_before, 1),
        }
        result["peak_rss_mb"] = round(rss_mb(), 1)
        if args.store:
            result["analyze_pending_sqlite"] = bench_store(settings, names, texts, args.batch)
            result["peak_rss_mb_with_store"] = round(rss_mb(), 1)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    r = result["run_stages"]
    print(f"stages: {', '.join(result['stages'])}; {r['mentions']:,} mentions, {result['avg_chars']} chars on average")
    print(f"run_stages: {r['seconds']} s wall, {r['mentions_per_s']:,} mentions/s; {r['cpu_seconds']} s CPU, "
          f"{r['mentions_per_cpu_s']:,} mentions per CPU second; {r['errors']} error results")  # fmt: skip
    print(f"peak RSS {result['peak_rss_mb']} MB (before the stages ran: {result['rss_before_stages_mb']} MB)")
    print(f"{'stage':<12} {'wall s':>8} {'CPU s':>8} {'CPU us/mention':>15} {'mentions/CPU s':>15}")
    for name, st in r["per_stage"].items():
        print(f"{name:<12} {st['seconds']:>8} {st['cpu_seconds']:>8} {st['cpu_us_per_mention']:>15} "
              f"{st['mentions_per_cpu_s']:>15,}")  # fmt: skip
    print(f"{'runner':<12} {'':>8} {r['runner_overhead_cpu_s']:>8}")
    if "analyze_pending_sqlite" in result:
        a = result["analyze_pending_sqlite"]
        print(f"analyze_pending (SQLite, stored): {a['seconds']} s wall, {a['mentions_per_s']:,} mentions/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Compare language identifiers on the XLM-T dev tweets and choose the language stage's settings.

    OMP_NUM_THREADS=1 .venv/bin/python bench/eval_language.py --data-dir ../shared/data

Prints Markdown tables (they go to docs/models.md, ## Language):

1. candidates: py3langid restricted to the configured languages, on raw and on normalised text;
   lingua (``pip install lingua-language-detector``; skipped when missing) in high- and
   low-accuracy mode, raw and normalised; and Resonanz's identifier (normalised, batched, sinks
   for other scripts, "und" below the confidence floor). Accuracy counts "und" as wrong.
2. the confidence floor and the sink languages (what "und" costs and buys),
3. the hint weight, on simulated right and wrong hints (a wrong hint is another configured
   language, drawn with a fixed seed),
4. calibration: confidence bins against accuracy.

Speed is CPU time of this process (one core; other work on the machine does not count), best of
three, per text including normalisation.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from resonanz.analysis.classifiers import language as lang

SIX = ("de", "en", "fr", "es", "it", "pt")
CONFIGURED = lang.DEFAULT_LANGUAGES
#: every Latin-script language py3langid knows beyond the configured ones (for the sink comparison)
ALL_LATIN = (
    *lang.LATIN_SINK_LANGUAGES, "ca", "gl", "oc", "lb", "la", "eo", "af", "fy", "tl", "ms", "sw", "br", "an", "wa",
    "ht", "mt", "lij", "vec", "ext",
)  # fmt: skip


def cpu_rate(fn: Callable[[], object], n: int, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return n / best if best else float("inf")


def accuracy(gold: Sequence[str], pred: Sequence[str], codes: Sequence[str] = SIX) -> float:
    pairs = [(g, p) for g, p in zip(gold, pred, strict=True) if g in codes]
    return sum(g == p for g, p in pairs) / len(pairs)


def spread(gold: Sequence[str], pred: Sequence[str], code: str, top: int = 4) -> str:
    found = Counter(p for g, p in zip(gold, pred, strict=True) if g == code)
    total = sum(found.values())
    return ", ".join(f"{k} {v / total:.0%}" for k, v in found.most_common(top)) if total else "-"


def row(name: str, gold: Sequence[str], pred: Sequence[str], rate: float) -> str:
    per = " | ".join(f"{accuracy(gold, pred, (c,)):.3f}" for c in SIX)
    return (
        f"| {name} | **{accuracy(gold, pred):.4f}** | {per} | {spread(gold, pred, 'ar', 2)} | "
        f"{spread(gold, pred, 'hi')} | {rate:,.0f} |"
    )


def py3langid_candidates(texts: list[str]) -> list[tuple[str, Callable[[], list[str]]]]:
    import py3langid.langid as langid

    ident = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)
    ident.set_languages(list(CONFIGURED))
    return [
        ("py3langid, raw text", lambda: [ident.classify(t)[0] for t in texts]),
        ("py3langid, normalised", lambda: [ident.classify(lang.normalise(t)[0])[0] for t in texts]),
    ]


def lingua_candidates(texts: list[str]) -> list[tuple[str, Callable[[], list[str]]]]:
    try:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
    except ImportError:
        print("(lingua is not installed: pip install lingua-language-detector)")
        return []
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in CONFIGURED]
    out: list[tuple[str, Callable[[], list[str]]]] = []
    for mode in ("high", "low"):
        builder = LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models()
        detector = (builder.with_low_accuracy_mode() if mode == "low" else builder).build()

        def detect(text: str, detector: object = detector) -> str:
            found = detector.detect_language_of(text)  # type: ignore[attr-defined]
            return found.iso_code_639_1.name.lower() if found else "und"

        out.append((f"lingua {mode}, raw text", lambda d=detect: [d(t) for t in texts]))
        out.append((f"lingua {mode}, normalised", lambda d=detect: [d(lang.normalise(t)[0]) for t in texts]))
    return out


def resonanz_predict(ident: lang.Identifier, texts: list[str], hints: Sequence[str | None] | None = None) -> list[str]:
    out: list[str] = []
    for start in range(0, len(texts), 500):
        chunk_hints = hints[start : start + 500] if hints is not None else None
        out.extend(g.lang for g in ident.identify(texts[start : start + 500], chunk_hints))
    return out


def candidates_table(texts: list[str], gold: list[str]) -> None:
    print("| method | de/en/fr/es/it/pt | de | en | fr | es | it | pt | arabic -> | hindi -> | texts/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, predict in [*py3langid_candidates(texts), *lingua_candidates(texts)]:
        pred = predict()
        print(row(name, gold, pred, cpu_rate(predict, len(texts), repeats=1 if "lingua" in name else 3)))
    ident = lang.identifier(CONFIGURED)
    pred = resonanz_predict(ident, texts)
    print(row("**resonanz** (normalised, batched, sinks, floor)", gold, pred,
              cpu_rate(lambda: resonanz_predict(ident, texts), len(texts))))  # fmt: skip


def und_row(name: str, gold: Sequence[str], pred: Sequence[str]) -> str:
    six = [(g, p) for g, p in zip(gold, pred, strict=True) if g in SIX]
    decided = [(g, p) for g, p in six if p != lang.UND]
    ar = [p for g, p in zip(gold, pred, strict=True) if g == "ar"]
    return (
        f"| {name} | {accuracy(gold, pred):.4f} | {1 - len(decided) / len(six):.1%} | "
        f"{sum(g == p for g, p in decided) / len(decided):.4f} | {ar.count(lang.UND) / len(ar):.0%} |"
    )


def und_table(texts: list[str], gold: list[str]) -> None:
    """What each "und" rule costs on the six languages and buys (arabic -> und)."""
    print("\n| variant | accuracy (und = wrong) | und among de..pt | accuracy of the decided | arabic -> und |")
    print("|---|---|---|---|---|")
    saved = (lang.MIN_CONFIDENCE, lang.MIXED_CONFIDENCE)
    variants = [
        ("no sinks", lang.Identifier(CONFIGURED, sinks=(), latin_sinks=())),
        ("script sinks", lang.Identifier(CONFIGURED, latin_sinks=())),
        ("script + far Latin sinks (default)", lang.identifier(CONFIGURED)),
        ("script + all Latin sinks", lang.Identifier(CONFIGURED, latin_sinks=ALL_LATIN)),
    ]
    lang.MIXED_CONFIDENCE = 2.0  # off
    for floor in (0.0, 0.2, 0.3, 0.4, 0.5, 0.7):
        lang.MIN_CONFIDENCE = floor
        for name, ident in variants:
            if floor == saved[0] or name.endswith("(default)"):
                print(und_row(f"{name}, floor {floor}, no mixed rule", gold, resonanz_predict(ident, texts)))
    lang.MIN_CONFIDENCE = saved[0]
    for mixed in (0.9, 0.95, 0.99, 0.999):
        lang.MIXED_CONFIDENCE = mixed
        pred = resonanz_predict(variants[2][1], texts)
        print(und_row(f"default sinks, floor {saved[0]}, mixed halves >= {mixed}", gold, pred))
    lang.MIN_CONFIDENCE, lang.MIXED_CONFIDENCE = saved


def hint_table(texts: list[str], gold: list[str]) -> None:
    rng = random.Random(4)
    six = [i for i, g in enumerate(gold) if g in SIX]
    texts6 = [texts[i] for i in six]
    gold6 = [gold[i] for i in six]
    right: list[str | None] = list(gold6)
    wrong: list[str | None] = [rng.choice([c for c in CONFIGURED if c != g]) for g in gold6]
    ident = lang.identifier(CONFIGURED)
    print("\n| hint weight | no hint | right hint | wrong hint | wrong hint taken |")
    print("|---|---|---|---|---|")
    saved = lang.HINT_WEIGHT
    for weight in (1.0, 2.0, 4.0, 8.0, 16.0, 64.0):
        lang.HINT_WEIGHT = weight
        none = resonanz_predict(ident, texts6)
        ok = resonanz_predict(ident, texts6, right)
        bad = resonanz_predict(ident, texts6, wrong)
        taken = sum(p == w for p, w in zip(bad, wrong, strict=True)) / len(bad)
        print(f"| {weight:g} | {accuracy(gold6, none):.4f} | {accuracy(gold6, ok):.4f} | "
              f"{accuracy(gold6, bad):.4f} | {taken:.1%} |")  # fmt: skip
    lang.HINT_WEIGHT = saved


def calibration_table(texts: list[str], gold: list[str]) -> None:
    ident = lang.identifier(CONFIGURED)
    guesses = [g for s in range(0, len(texts), 500) for g in ident.identify(texts[s : s + 500])]
    pairs = [(g, guess) for g, guess in zip(gold, guesses, strict=True) if g in SIX and guess.candidates]
    edges = (0.0, 0.5, 0.7, 0.9, 0.99, 1.01)
    print("\n| confidence of the top language | n | mean confidence | accuracy |")
    print("|---|---|---|---|")
    ece = 0.0
    for low, high in itertools.pairwise(edges):
        inside = [(g, guess) for g, guess in pairs if low <= guess.candidates[0][1] < high]
        if not inside:
            continue
        mean = sum(guess.candidates[0][1] for _, guess in inside) / len(inside)
        acc = sum(g == guess.candidates[0][0] for g, guess in inside) / len(inside)
        ece += len(inside) / len(pairs) * abs(mean - acc)
        print(f"| [{low}, {min(high, 1.0)}) | {len(inside)} | {mean:.3f} | {acc:.3f} |")
    print(f"\nexpected calibration error: {ece:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    texts, gold = lang.xlmt_dev(args.data_dir)
    if not texts:
        raise SystemExit(f"no XLM-T dev tweets under {args.data_dir}/xlm-t-umsab")
    counts = Counter(gold)
    print(f"XLM-T dev tweets: {len(texts)} ({', '.join(f'{k} {v}' for k, v in counts.items())})\n")
    candidates_table(texts, gold)
    und_table(texts, gold)
    hint_table(texts, gold)
    calibration_table(texts, gold)


if __name__ == "__main__":
    main()

"""Why an alert fired, in a form people read: the numbers against the baseline, the words that
drive it and a few posts. Pure: callers pass texts in.

Top terms are words over-represented in the alert's window against the baseline window, ranked
by a smoothed log-odds ratio weighted by how often they occur in the window (a word in 40 of 60
window posts and 3 of 500 baseline posts ranks high; a word that is always there does not).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from resonanz.listening.alerts.rules import Finding
from resonanz.mentions.text import fold
from resonanz.mentions.tokens import words

#: short function words in the product's main languages; everything else may be a driver
_STOPWORDS_TEXT = """
the and for are but not you your with this that have has was were will would can could our out all
any from they them their there what when who why how its it's just get got about into than then also
more most very been being one two http https www com amp der die das und ist nicht ein eine einen
einem einer mit von den dem des auf für fuer sich auch wie bei aus nach noch nur wir ihr sie ich
mich mir uns euch was wer wenn dann schon aber oder als zum zur vom hat habe haben sind war waren
wird werden kann koennen mehr sehr doch mal
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


@dataclass(frozen=True)
class TermLift:
    term: str
    window: int  # posts in the window containing it
    baseline: int  # posts in the baseline containing it
    lift: float  # window share ÷ baseline share (smoothed)


def _doc_terms(text: str) -> set[str]:
    found = set()
    for word in words(fold(text)):
        if len(word) >= 3 and word not in STOPWORDS and not word.isdigit():
            found.add(word)
    # hashtags are what crowds rally behind: keep them whole as well
    for token in text.split():
        if token.startswith("#") and len(token) > 2:
            found.add("#" + fold(token[1:].strip(".,;:!?)(\"'")))
    return found


def top_terms(window: Iterable[str], baseline: Iterable[str], *, limit: int = 8, min_count: int = 2) -> list[TermLift]:
    """Words over-represented in ``window`` texts against ``baseline`` texts."""
    win = Counter[str]()
    n_win = 0
    for text in window:
        n_win += 1
        win.update(_doc_terms(text))
    base = Counter[str]()
    n_base = 0
    for text in baseline:
        n_base += 1
        base.update(_doc_terms(text))
    if not n_win:
        return []
    ranked: list[tuple[float, TermLift]] = []
    for term, count in win.items():
        if count < min_count:
            continue
        p_win = (count + 0.5) / (n_win + 1.0)
        p_base = (base[term] + 0.5) / (n_base + 1.0)
        log_odds = math.log(p_win / (1 - min(p_win, 0.999))) - math.log(p_base / (1 - min(p_base, 0.999)))
        if log_odds <= 0.5:
            continue
        ranked.append((log_odds * math.sqrt(count), TermLift(term, count, base[term], round(p_win / p_base, 1))))
    ranked.sort(key=lambda item: (-item[0], item[1].term))
    tags = {lift.term for _, lift in ranked if lift.term.startswith("#")}
    # "#nordwelledown" and the word "nordwelledown" (the tokenizer drops the '#') are one driver
    return [lift for _, lift in ranked if "#" + lift.term not in tags][:limit]


def snippet(title: str | None, text: str, width: int = 240) -> str:
    """A one-line excerpt; still untrusted text (templates escape it)."""
    body = " ".join(f"{title}: {text}".split()) if title else " ".join(text.split())
    return body if len(body) <= width else body[: width - 1].rstrip() + "…"


def build_explanation(
    *,
    kind: str,
    finding: Finding,
    bucket_start: str,
    bucket_minutes: int,
    terms: Sequence[TermLift],
    samples: Sequence[dict[str, Any]],
    params: dict[str, Any],
) -> dict[str, Any]:
    """The JSON stored on an alert (and sent in webhooks): every number a person needs."""
    return {
        "kind": kind,
        "bucket_start": bucket_start,
        "bucket_minutes": bucket_minutes,
        "observed": finding.observed,
        "baseline": finding.baseline,
        "threshold": finding.threshold,
        "score": finding.score,
        "numbers": finding.numbers,
        "params": params,
        "top_terms": [{"term": t.term, "window": t.window, "baseline": t.baseline, "lift": t.lift} for t in terms],
        "samples": list(samples),
    }

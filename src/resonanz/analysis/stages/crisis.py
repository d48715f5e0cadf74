"""Crisis terms and the mention's risk score.

Why: a recall, a data leak or a lawsuit named in one post can become tomorrow's headline; such a
post must reach a person before the others. The stage finds the configured crisis terms
(``settings.crisis_terms`` for every brand, ``settings.crisis_terms_by_brand`` for one brand)
with the project's folding, whole-word, inflection- and compound-aware
(:mod:`resonanz.analysis.matching`: "Kundendatenleck" holds "Datenleck", "Dаtenleck" with a
Cyrillic "а" too), and combines the risk signals into ``risk_score`` in [0, 1] with its reasons.

Signals, combined as a noisy-or (each one alone raises the score; together they raise it more,
never past 1), then scaled by the author's reach:

- crisis terms: the first distinct term 0.5, each further one closes a quarter of the rest;
- personal data from the ``privacy`` stage (required, so it runs first): a posted card number or
  IBAN weighs more than an e-mail address;
- offensive language: the ``offensive`` stage's probability, when that stage (required, so it
  runs first) labels the text offensive — below its threshold the text adds nothing, so a calm
  post keeps a risk of 0; an error or an unknown result from it is ignored;
- reach: a post by an account with a million followers counts fully, one by an account with no
  followers 60 % (``log10`` scale), because reach is what turns an angry post into a crisis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from resonanz.analysis.matching import TermMatcher, normalize
from resonanz.analysis.stages.base import Doc, Result, Stage
from resonanz.config import Settings

CRISIS_FIRST = 0.5
CRISIS_MORE = 0.25
#: weight of one kind of personal data found in a post
PII_WEIGHTS = {"card": 0.5, "iban": 0.4, "phone": 0.3, "address": 0.3, "email": 0.2}
OFFENSIVE_WEIGHT = 0.6
#: share of the score a post from an account without followers keeps
REACH_FLOOR = 0.6
#: followers at which reach counts fully
REACH_FULL = 1_000_000
#: label of a term that concerns every brand
ALL_BRANDS = ""
#: the analysed text is cut here: a crisis is named near the start, and 100 KB articles must stay cheap
MAX_CHARS = 50_000


def risk_score(
    *,
    crisis_terms: Sequence[str] = (),
    pii_kinds: Sequence[str] = (),
    offensive: float | None = None,
    followers: int | None = None,
) -> tuple[float, list[dict[str, Any]]]:
    """The combined score (rounded to 3 places) and the reasons behind it, strongest first."""
    reasons: list[dict[str, Any]] = []
    keep = 1.0  # probability mass not yet claimed by a signal (noisy-or)
    for i, term in enumerate(crisis_terms):
        weight = CRISIS_FIRST if i == 0 else CRISIS_MORE
        keep *= 1 - weight
        reasons.append({"signal": "crisis_term", "value": term, "weight": weight})
    for kind in dict.fromkeys(pii_kinds):
        weight = PII_WEIGHTS.get(kind, 0.2)
        keep *= 1 - weight
        reasons.append({"signal": "personal_data", "value": kind, "weight": weight})
    if offensive is not None and offensive > 0:
        weight = round(OFFENSIVE_WEIGHT * min(1.0, float(offensive)), 3)
        keep *= 1 - weight
        reasons.append({"signal": "offensive", "value": round(float(offensive), 3), "weight": weight})
    base = 1 - keep
    if base <= 0:
        return 0.0, []
    reach = min(1.0, math.log10(1 + max(0, followers or 0)) / math.log10(1 + REACH_FULL))
    factor = REACH_FLOOR + (1 - REACH_FLOOR) * reach
    if followers is not None:
        reasons.append({"signal": "reach", "value": followers, "weight": round(factor, 3)})
    reasons.sort(key=lambda r: -float(r["weight"]) if r["signal"] != "reach" else 1)
    return round(min(1.0, base * factor), 3), reasons


class CrisisStage(Stage):
    name = "crisis"
    version = "2"
    requires = ("privacy", "offensive")
    provides = ("terms", "brands", "risk_score", "reasons")
    title = "Crisis terms (recall, data leak, lawsuit …) and a risk score with its reasons"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        pairs = [(term, ALL_BRANDS) for term in settings.crisis_terms]
        for brand, terms in settings.crisis_terms_by_brand.items():
            pairs.extend((term, brand) for term in terms)
        self.matcher = TermMatcher(pairs, compounds=True)

    def run(self, docs: Sequence[Doc], upstream: Sequence[Mapping[str, Result]]) -> list[Result]:
        out: list[Result] = []
        for doc, up in zip(docs, upstream, strict=True):
            hits = self.matcher.find_normalized(normalize(doc.full_text[:MAX_CHARS])) if self.matcher else []
            terms = list(dict.fromkeys(h.term for h in hits))
            brands: dict[str, list[str]] = {}
            for h in hits:
                if h.label != ALL_BRANDS:
                    brands.setdefault(h.label, []).append(h.term)
            privacy = up.get("privacy") or {}
            kinds = [f["kind"] for f in privacy.get("found", ()) if isinstance(f, dict) and "kind" in f]
            offensive = _offensive(up.get("offensive"))
            if not terms and not kinds and offensive is None:  # most posts: nothing to weigh
                out.append({"terms": terms, "brands": brands, "risk_score": 0.0, "reasons": []})
                continue
            score, reasons = risk_score(
                crisis_terms=terms, pii_kinds=kinds, offensive=offensive, followers=doc.followers
            )
            out.append({"terms": terms, "brands": brands, "risk_score": score, "reasons": reasons})
        return out

    def columns(self, result: Result) -> dict[str, Any]:
        return {"risk_score": result["risk_score"]}


def _offensive(result: Mapping[str, Any] | None) -> float | None:
    """P(offensive) when the offensive stage judged the text offensive, else None."""
    if not result or result.get("label") != "offensive":
        return None
    score = result.get("score")
    return float(score) if isinstance(score, int | float) else None

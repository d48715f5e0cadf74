"""Policy checks on an outgoing reply (pure: no database, no I/O).

Every reply is checked before it is submitted or sent; the findings are shown inline in the
composer and stored on the reply. Three severities, because not every finding means "stop":

* ``block`` - the reply cannot go out as written (longer than the channel allows, empty);
* ``review`` - a person with ``cases.approve`` must look first (personal data the customer did not
  share in public, profanity, a blocked phrase, a negative tone): the reply goes to the approval
  queue instead of the outbox;
* ``info`` - worth knowing, no gate (the reply's language differs from the customer's, SMS segments).

The checks reuse the analysis layer, so the inbox and the listening side agree on what is personal
data (:func:`resonanz.analysis.stages.privacy.find_personal_data`), what is offensive
(:mod:`resonanz.analysis.classifiers.offensive`), what is negative
(:mod:`resonanz.analysis.classifiers.sentiment`) and which language a text is in; phrases are
matched with the crisis stage's folding, inflection- and compound-aware
:class:`~resonanz.analysis.matching.TermMatcher` ("garantiert", "Garantieleistung", "GARANTIERT").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from resonanz.analysis.matching import TermMatcher, normalize

BLOCK = "block"
REVIEW = "review"
INFO = "info"

#: tone: our own reply judged negative with at least this probability needs a second look
NEGATIVE_TONE_MIN = 0.6
#: language mismatch: only when the identifier is at least this sure of the reply's language
LANGUAGE_CONFIDENCE_MIN = 0.6
#: an SMS longer than this many segments is refused (carriers drop or bill very long messages)
SMS_MAX_SEGMENTS = 10


class LimitUnit(StrEnum):
    chars = "characters"  # Unicode code points
    graphemes = "graphemes"  # user-perceived characters (an emoji with skin tone is one)
    sms = "sms"  # GSM-7 or UCS-2 segments


@dataclass(frozen=True)
class ChannelLimit:
    limit: int
    unit: LimitUnit


#: per platform: what one reply may hold. X counts code points here (its own weighting counts
#: CJK and URLs differently; a reply under 280 code points without links is always accepted).
CHANNEL_LIMITS: dict[str, ChannelLimit] = {
    "x": ChannelLimit(280, LimitUnit.chars),
    "twitter": ChannelLimit(280, LimitUnit.chars),
    "bluesky": ChannelLimit(300, LimitUnit.graphemes),
    "mastodon": ChannelLimit(500, LimitUnit.chars),
    "threads": ChannelLimit(500, LimitUnit.chars),
    "sms": ChannelLimit(SMS_MAX_SEGMENTS, LimitUnit.sms),
    "whatsapp": ChannelLimit(4096, LimitUnit.chars),
    "instagram": ChannelLimit(2200, LimitUnit.chars),
    "facebook": ChannelLimit(8000, LimitUnit.chars),
    "youtube": ChannelLimit(10000, LimitUnit.chars),
    "reddit": ChannelLimit(10000, LimitUnit.chars),
    "appstore": ChannelLimit(5970, LimitUnit.chars),
    "playstore": ChannelLimit(350, LimitUnit.chars),
}

#: phrases every installation blocks (more come from the blocked_phrase table and competitor brands)
DEFAULT_PHRASES: tuple[tuple[str, str, str], ...] = (
    ("garantiert", "guarantee", "a promise we may not be able to keep"),
    ("Garantie", "guarantee", "a promise we may not be able to keep"),
    ("guarantee", "guarantee", "a promise we may not be able to keep"),
    ("guaranteed", "guarantee", "a promise we may not be able to keep"),
    ("wir haften", "legal", "an admission of liability: legal must approve"),
    ("Schadensersatz", "legal", "compensation is a legal matter"),
    ("Entschädigung zusagen", "legal", "a legal promise"),
    ("we accept liability", "legal", "an admission of liability: legal must approve"),
    ("we are liable", "legal", "an admission of liability: legal must approve"),
    ("compensation", "legal", "compensation is a legal matter"),
    ("legally binding", "legal", "a legal promise"),
    ("rechtsverbindlich", "legal", "a legal promise"),
)


@dataclass(frozen=True)
class Finding:
    """One problem in a reply. ``start``/``end`` are offsets into the reply text when known, so the
    composer can underline the place; ``masked`` never holds a full personal value."""

    code: str  # personal_data | profanity | blocked_phrase | tone | length | language | empty
    severity: str
    message: str
    start: int | None = None
    end: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Phrase:
    phrase: str
    kind: str  # reply_models.PhraseKind
    reason: str | None = None


@dataclass(frozen=True)
class ReplyContext:
    """What the checks need to know about the conversation the reply goes into."""

    platform: str
    customer_lang: str | None = None
    #: texts the customer posted in public (their personal data there is theirs to repeat)
    public_customer_texts: Sequence[str] = ()
    phrases: Sequence[Phrase] = ()
    #: names of competitor brands (listening brands of kind competitor, with their aliases)
    competitors: Sequence[str] = ()


def needs_review(findings: Sequence[Finding | dict[str, Any]]) -> bool:
    return any((f.severity if isinstance(f, Finding) else f.get("severity")) == REVIEW for f in findings)


def is_blocked(findings: Sequence[Finding | dict[str, Any]]) -> bool:
    return any((f.severity if isinstance(f, Finding) else f.get("severity")) == BLOCK for f in findings)


def check_reply(text: str, *, context: ReplyContext, lang: str | None = None, models: bool = True) -> list[Finding]:
    """Every finding for ``text`` in this ``context``, in text order where they have a place.
    ``models=False`` skips the classifier checks (profanity, tone, language): the pure rules only."""
    if not text.strip():
        return [Finding("empty", BLOCK, "the reply is empty")]
    findings: list[Finding] = []
    findings += personal_data(text, context.public_customer_texts)
    findings += blocked_phrases(text, context.phrases, context.competitors)
    findings += length(text, context.platform)
    if models:
        reply_lang = lang or detect_language(text)
        findings += profanity(text, reply_lang)
        findings += tone(text, reply_lang)
        findings += language_mismatch(text, reply_lang, context.customer_lang)
    return sorted(findings, key=lambda f: (f.start is None, f.start or 0))


# --- personal data --------------------------------------------------------------------------------


def _compact(value: str) -> str:
    return re.sub(r"[\s()./-]", "", value).casefold()


def personal_data(text: str, public_texts: Sequence[str]) -> list[Finding]:
    """Personal data in the reply that none of the customer's public posts holds."""
    from resonanz.analysis.stages.privacy import find_personal_data

    shared = {_compact(t[f["start"] : f["end"]]) for t in public_texts for f in find_personal_data(t)}
    out = []
    for f in find_personal_data(text):
        if _compact(text[f["start"] : f["end"]]) in shared:
            continue
        out.append(
            Finding(
                "personal_data",
                REVIEW,
                f"personal data ({f['kind']}: {f['masked']}) the customer did not share in public",
                f["start"],
                f["end"],
                {"kind": f["kind"], "masked": f["masked"]},
            )
        )
    return out


# --- phrases --------------------------------------------------------------------------------------


def _locate(text: str, phrase: str) -> tuple[int | None, int | None]:
    """Best-effort place of ``phrase`` in ``text`` for underlining (matching itself is normalised)."""
    m = re.search(re.escape(phrase), text, re.IGNORECASE)
    if m is None:
        norm_phrase = normalize(phrase)
        for word in re.finditer(r"\w+", text):
            if norm_phrase in normalize(word.group()):
                return word.start(), word.end()
        return None, None
    return m.start(), m.end()


def blocked_phrases(text: str, phrases: Sequence[Phrase], competitors: Sequence[str]) -> list[Finding]:
    terms = [(p.phrase, f"{p.kind}\x1f{p.reason or ''}") for p in (*_defaults(), *phrases)]
    out = [_phrase_finding(text, hit.term, *hit.label.split("\x1f", 1)) for hit in TermMatcher(terms).find(text)]
    names = TermMatcher([(name, name) for name in competitors], compounds=False)
    out += [_phrase_finding(text, hit.term, "competitor", "a competitor's name") for hit in names.find(text)]
    return out


def _defaults() -> list[Phrase]:
    return [Phrase(p, k, r) for p, k, r in DEFAULT_PHRASES]


def _phrase_finding(text: str, phrase: str, kind: str, reason: str) -> Finding:
    start, end = _locate(text, phrase)
    why = f": {reason}" if reason else ""
    if kind == "profanity":  # the installation's own profanity list (cases.care_settings)
        return Finding("profanity", REVIEW, f"“{phrase}” is on the profanity list", start, end, {"kind": kind})
    return Finding("blocked_phrase", REVIEW, f"blocked phrase “{phrase}” ({kind}){why}", start, end, {"kind": kind})


# --- length ---------------------------------------------------------------------------------------

_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXT = set("^{}\\[~]|€\f")


def graphemes(text: str) -> int:
    """User-perceived characters, approximately (no regex/grapheme dependency): combining marks,
    variation selectors, skin-tone modifiers and anything joined by a zero-width joiner belong to the
    character before; a pair of regional indicators (a flag) is one."""
    count = 0
    joined = False
    pending_flag = False
    for ch in text:
        cp = ord(ch)
        if joined:
            joined = False
            continue
        if cp == 0x200D:
            joined = True
            continue
        if unicodedata.combining(ch) or 0xFE00 <= cp <= 0xFE0F or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F:
            continue
        if 0x1F1E6 <= cp <= 0x1F1FF:
            if pending_flag:
                pending_flag = False
                continue
            pending_flag = True
        else:
            pending_flag = False
        count += 1
    return count


def sms_segments(text: str) -> tuple[int, str]:
    """(segments, encoding): GSM-7 fits 160 per message or 153 per part; anything else is UCS-2 with
    70 or 67 per part (counted in UTF-16 units, as carriers do)."""
    if all(ch in _GSM7 or ch in _GSM7_EXT for ch in text):
        units = sum(2 if ch in _GSM7_EXT else 1 for ch in text)
        return (1 if units <= 160 else -(-units // 153)), "GSM-7"
    units = len(text.encode("utf-16-le")) // 2
    return (1 if units <= 70 else -(-units // 67)), "UCS-2"


def length(text: str, platform: str) -> list[Finding]:
    rule = CHANNEL_LIMITS.get(platform.lower())
    if rule is None:
        return []
    if rule.unit is LimitUnit.sms:
        segments, encoding = sms_segments(text)
        detail = {"segments": segments, "encoding": encoding, "limit": rule.limit}
        if segments > rule.limit:
            return [
                Finding("length", BLOCK, f"{segments} SMS segments ({encoding}); at most {rule.limit}", detail=detail)
            ]
        if segments > 1:
            return [Finding("length", INFO, f"sent as {segments} SMS segments ({encoding})", detail=detail)]
        return []
    used = graphemes(text) if rule.unit is LimitUnit.graphemes else len(text)
    if used <= rule.limit:
        return []
    detail = {"used": used, "limit": rule.limit, "unit": rule.unit.value}
    message = f"{used} {rule.unit.value}; {platform} allows {rule.limit} (shorten by {used - rule.limit})"
    return [Finding("length", BLOCK, message, detail=detail)]


# --- classifier checks ----------------------------------------------------------------------------


def detect_language(text: str) -> str | None:
    from resonanz.analysis.classifiers.language import identifier

    guess = identifier().identify([text])[0]
    if guess.lang == "und" or guess.confidence < LANGUAGE_CONFIDENCE_MIN:
        return None
    return guess.lang


def profanity(text: str, lang: str | None) -> list[Finding]:
    from resonanz.analysis.classifiers.offensive import judge

    verdict = judge([text], [lang])[0]
    if verdict.label != "offensive":
        return []
    words = ", ".join(w.removeprefix("word: ") for w in verdict.explanation)
    why = f" (words: {words})" if words else ""
    return [
        Finding("profanity", REVIEW, f"reads as offensive, p={verdict.score:.2f}{why}", detail={"score": verdict.score})
    ]


def tone(text: str, lang: str | None) -> list[Finding]:
    from resonanz.analysis.classifiers.sentiment import classify

    if lang not in ("de", "en"):
        return []
    result = classify([text], [lang], tier="fast")[0]
    negative = float(result.get("probabilities", {}).get("negative", 0.0))
    if result.get("label") != "negative" or negative < NEGATIVE_TONE_MIN:
        return []
    return [Finding("tone", REVIEW, f"our reply reads as negative (p={negative:.2f})", detail={"negative": negative})]


def language_mismatch(text: str, lang: str | None, customer_lang: str | None) -> list[Finding]:
    if not lang or not customer_lang or customer_lang == "und" or lang == customer_lang:
        return []
    return [
        Finding(
            "language",
            INFO,
            f"the reply looks {lang}, the customer wrote {customer_lang}",
            detail={"reply": lang, "customer": customer_lang},
        )
    ]

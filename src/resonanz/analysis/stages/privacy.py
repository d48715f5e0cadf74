"""Personal data in a mention: e-mail addresses, phone numbers, IBANs, payment cards, street addresses.

Why: a customer who posts an IBAN or a phone number in public needs care to hide the post and
answer privately, and such posts must not spread further through exports. So the stage says
*what* kind of data is there and *where* (offsets into :attr:`Doc.full_text`), but it never keeps
the raw value: results are shown to many employees, so every finding is masked
(``DE89 **** **** **** **** 00``).

Precision over recall. Every kind is one compiled regex and one pass; the candidates are then
checked in Python (IBAN: ISO 13616 length + mod-97; cards: Luhn + issuer prefix; phones: digit
count, not a date, not an order number by context). Kinds are tried in a fixed order and a later
finding that overlaps an earlier one is dropped (the digits of an IBAN are no phone number).
Postal codes count only as part of a street address, never alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from resonanz.analysis.stages.base import Doc, Result, Stage

#: at most this many findings per mention are listed (the flag still says "has personal data")
MAX_FOUND = 50

# --- e-mail ---------------------------------------------------------------------------------------

# Not preceded by "@" or a word character, so a Mastodon handle "@anna@social.example" is no address.
_EMAIL = re.compile(r"(?<![\w.+@-])[\w.%+-]{1,64}@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,24}\b")

# --- IBAN (ISO 13616) -----------------------------------------------------------------------------

#: country -> IBAN length (the SWIFT registry; unknown countries are refused, which keeps random
#: letter-digit runs from passing the 1-in-97 checksum by chance)
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24,
    "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21,
    "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LI": 21,
    "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30,
    "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip
# Printed in groups of four with single spaces, or without spaces; longer than any country's
# length on purpose: the candidate is cut to its country's length before the checksum.
_IBAN = re.compile(r"(?<![\w-])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?(?!\w)")


def iban_valid(compact: str) -> bool:
    """ISO 13616: known country, its exact length, and (rearranged, letters as 10..35) mod 97 == 1."""
    compact = compact.upper()
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact.isalnum() or not compact.isascii():
        return False
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


def _cut(raw: str, significant: int) -> int:
    """Characters of ``raw`` spanning its first ``significant`` non-space characters."""
    seen = 0
    for i, char in enumerate(raw):
        if char != " ":
            seen += 1
            if seen == significant:
                return i + 1
    return len(raw)


def _ibans(text: str) -> Iterator[tuple[int, int, str]]:
    for m in _IBAN.finditer(text):
        raw = m.group()
        length = IBAN_LENGTHS.get(raw[:2].upper())
        compact = raw.replace(" ", "")
        if length is None or len(compact) < length:
            continue
        compact = compact[:length].upper()
        if iban_valid(compact):
            masked = compact[:4] + "*" * (length - 6) + compact[-2:]
            yield m.start(), m.start() + _cut(raw, length), " ".join(masked[i : i + 4] for i in range(0, length, 4))


# --- payment cards --------------------------------------------------------------------------------

_CARD = re.compile(r"(?<![\w+.,/-])\d(?:[ -]?\d){12,18}(?![\w]|[.,/-]\d)")
# Issuer prefixes (Visa, Mastercard incl. 2-series, Amex, Diners, Discover, JCB, UnionPay, Maestro):
# Luhn alone lets one random number in ten through, the prefix cuts that to a few in a thousand.
_CARD_PREFIX = re.compile(
    r"4|5[1-5]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)|3[47]|3(?:0[0-5]|[689])|35(?:2[89]|[3-8])"
    r"|6(?:011|4[4-9]|5|2)|50(?:18|20|38)|5893|6304|67(?:59|6[1-3])"
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = ord(char) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_CARD_WORDS = re.compile(r"karte|card|visa|master|amex|kredit|credit|debit|zahl|pay")
#: lengths by first digit where the networks fix them (Amex 15, Mastercard 16, Visa 13/16/19)
_CARD_LENGTHS = {"34": (15,), "37": (15,), "4": (13, 16, 19), "5": (16,), "2": (16,)}


def _card_length_ok(digits: str) -> bool:
    allowed = _CARD_LENGTHS.get(digits[:2]) or _CARD_LENGTHS.get(digits[:1])
    return allowed is None or len(digits) in allowed or digits.startswith(("50", "56", "57", "58"))


def _cards(text: str) -> Iterator[tuple[int, int, str]]:
    for m in _CARD.finditer(text):
        raw = m.group()
        digits = raw.replace(" ", "").replace("-", "")
        if not (13 <= len(digits) <= 19 and _CARD_PREFIX.match(digits) and _card_length_ok(digits)):
            continue
        if not luhn_valid(digits):
            continue
        if _order_number(text, m.start(), _CARD_WORDS):
            continue
        yield m.start(), m.end(), _mask_digits(raw, keep_last=4)


# --- phone numbers --------------------------------------------------------------------------------

_SEP = r"[ \t./-]?"
_PHONE = re.compile(
    r"(?<![\w+/.,#-])(?:"
    # international: +49 30 1234567, +49 (0)30 123456, 0044 20 7946 0958, +1 (555) 123-4567
    rf"(?:\+|\b00)[1-9]\d{{0,2}}(?:{_SEP}\(0\))?{_SEP}\(?\d{{1,5}}\)?(?:{_SEP}\d{{2,8}}){{1,4}}"
    # national with trunk prefix: 030 1234567, (030) 123 456, 0171-1234567, 030/123456-78
    rf"|\(?\b0[1-9]\d{{1,4}}\)?(?:{_SEP}\d{{2,8}}){{1,4}}"
    # North American without country code: (555) 123-4567, 555-123-4567
    r"|\(?\b[2-9]\d{2}\)?[ .-]\d{3}[.-]\d{4}"
    r")(?![\w€$%]|[.,:]\d)"
)
_DATE = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{1,4}")
_ORDER_WORDS = re.compile(
    r"(?:bestell|auftrag|order|rechnung|invoice|kunden|vertrag|ticket|tracking|sendung|referenz|\bref|\bnr"
    r"|\bno\b|nummer|number|\bid\b|iban|konto|account|artikel|betrag|summe|preis|price|datum|date)\w*[\s:.#-]*$"
)
_PHONE_WORDS = re.compile(r"\b(?:tel|fon|phone|mobil|handy|anruf|ruf|call|whatsapp|fax|erreichbar|hotline|sms)")


def _order_number(text: str, start: int, unless: re.Pattern[str]) -> bool:
    """Is the number at ``start`` labelled as an order/customer/ticket number (and not as ``unless``)?"""
    before = text[max(0, start - 30) : start].lower()
    return _ORDER_WORDS.search(before) is not None and unless.search(before) is None


def _phones(text: str) -> Iterator[tuple[int, int, str]]:
    for m in _PHONE.finditer(text):
        raw = m.group()
        digits = sum(c.isdigit() for c in raw)
        international = raw.startswith(("+", "00"))
        if not (8 <= digits <= 15 if international else 8 <= digits <= 13):
            continue
        if _DATE.fullmatch(raw):
            continue
        if _order_number(text, m.start(), _PHONE_WORDS):
            continue
        keep_first = 0
        if international:
            cc = re.match(r"(?:\+|00)[1-9]\d{0,2}", raw)
            keep_first = cc.end() if cc else 0
        yield m.start(), m.end(), raw[:keep_first] + _mask_digits(raw[keep_first:], keep_last=2)


# --- German street addresses ----------------------------------------------------------------------

# Suffixes that make a street on their own ("Musterstraße 12"), and weaker ones that need a postal
# code and town after the number ("Parkplatz 3" and "Heimweg 20" are no addresses, "Am Markt 5,
# 12345 Stadt" is).
_STRONG = r"stra(?:ß|ss)e|str\.|allee|gasse|chaussee|damm|ufer"
_WEAK = r"weg|platz|ring|markt|pfad|stieg|twiete|kamp"
_STREET_WORD = r"Straße|Strasse|Str\.|Allee|Chaussee|Damm|Ufer|Gasse|Weg|Platz|Ring|Markt"
_NOT_A_FIRST_WORD = r"(?!(?:Der|Die|Das|Den|Dem|Des|Ein|Eine|Einen|Mein|Meine|Unser|Unsere|Jede|Jeder|Welche)\s)"
_UNITS = r"(?!\s*(?i:min|minuten|km|m\b|meter|euro|eur\b|€|%|uhr|jahr|tag|stunde|std|h\b|mal\b|grad|prozent|x\b|stück))"
_ADDRESS = re.compile(
    r"\b(?P<street>"
    rf"(?:{_NOT_A_FIRST_WORD}[A-ZÄÖÜ][\w-]*[ -])?[A-ZÄÖÜ][\w-]*?(?i:(?P<strong>{_STRONG})|(?P<weak>{_WEAK}))"
    rf"|{_NOT_A_FIRST_WORD}[A-ZÄÖÜ][\w-]*\s(?P<word>{_STREET_WORD})"
    r")"
    rf"(?P<number>\s?\d{{1,4}}(?!\d){_UNITS}(?:\s?[a-zA-Z]\b)?(?:\s?[-/]\s?\d{{1,4}}[a-zA-Z]?)?)"
    r"(?P<town>,?\s+\d{5}\s+[A-ZÄÖÜ][\w-]+)?"
    r"(?![\w,.]\d)"
)
_DIGIT_RUN = re.compile(r"\d+[a-zA-Z]?\b")


# The full pattern tries every capitalised word; a street suffix right before a number is rare,
# so this cheap search decides whether the full pattern runs at all.
# Case-insensitive matching is ten times slower in ``re``, so only the first letter varies here.
_ADDRESS_HINT = re.compile(rf"(?:{_STRONG}|{_WEAK}|S(?:tra(?:ß|ss)e|tr\.)|[AGDUWPRMK][a-zß]+)\s?\d")


def _addresses(text: str) -> Iterator[tuple[int, int, str]]:
    if _ADDRESS_HINT.search(text) is None:
        return
    for m in _ADDRESS.finditer(text):
        word = m.group("word")
        weak = m.group("weak") is not None or (word is not None and word in {"Weg", "Platz", "Ring", "Markt"})
        if weak and m.group("town") is None:
            continue
        rest = text[m.end("street") : m.end()]
        yield m.start(), m.end(), m.group("street") + _DIGIT_RUN.sub(lambda d: "*" * len(d.group()), rest)


# --- helpers --------------------------------------------------------------------------------------


def _mask_digits(raw: str, *, keep_last: int) -> str:
    """Every digit as "*" except the last ``keep_last``; separators stay, so the shape is visible."""
    total = sum(c.isdigit() for c in raw)
    out: list[str] = []
    seen = 0
    for char in raw:
        if char.isdigit():
            seen += 1
            out.append(char if seen > total - keep_last else "*")
        else:
            out.append(char)
    return "".join(out)


def _emails(text: str) -> Iterator[tuple[int, int, str]]:
    if "@" not in text:
        return
    for m in _EMAIL.finditer(text):
        local, domain = m.group().rsplit("@", 1)
        host, _, tld = domain.rpartition(".")
        yield m.start(), m.end(), f"{local[0]}***@{host[0]}***.{tld}"


#: kinds in the order they claim text: an earlier kind's span hides later overlapping candidates
FINDERS: tuple[tuple[str, Callable[[str], Iterator[tuple[int, int, str]]]], ...] = (
    ("email", _emails),
    ("iban", _ibans),
    ("card", _cards),
    ("phone", _phones),
    ("address", _addresses),
)
_HAS_DIGIT = re.compile(r"\d")
# IBANs, card and phone numbers all have eight digits or more; most posts have fewer in all
# ("RE 7 um 08:15, 40 Minuten"), so those three regexes run only where this one finds eight.
_EIGHT_DIGITS = re.compile(r"\d(?:\D*\d){7}")
_NEED_EIGHT_DIGITS = frozenset({"iban", "card", "phone"})


def find_personal_data(text: str) -> list[dict[str, Any]]:
    """Masked findings ``{"kind", "start", "end", "masked"}`` in text order (offsets into ``text``)."""
    found: list[dict[str, Any]] = []
    if not text or (_HAS_DIGIT.search(text) is None and "@" not in text):
        return found  # every kind but e-mail needs a digit: most posts stop here
    many_digits = _EIGHT_DIGITS.search(text) is not None
    # IBAN-shaped runs with a wrong checksum are still no card or phone number.
    taken = [m.span() for m in _IBAN.finditer(text) if m.group()[:2].upper() in IBAN_LENGTHS] if many_digits else []
    for kind, finder in FINDERS:
        if not many_digits and kind in _NEED_EIGHT_DIGITS:
            continue
        for start, end, masked in finder(text):
            if kind != "iban" and any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append({"kind": kind, "start": start, "end": end, "masked": _clean(masked)})
    found.sort(key=lambda f: f["start"])
    return found[:MAX_FOUND]


def _clean(value: str) -> str:
    """JSON-safe: a lone surrogate cannot be stored, so it becomes U+FFFD."""
    return value if value.isascii() else value.encode("utf-8", "replace").decode("utf-8", "replace")


class PrivacyStage(Stage):
    name = "privacy"
    version = "1"
    provides = ("found", "has_pii")
    title = "Personal data in the text (e-mail, phone, IBAN, payment card, street address), masked"

    def run(self, docs: Sequence[Doc], upstream: Sequence[Mapping[str, Result]]) -> list[Result]:
        out: list[Result] = []
        for doc in docs:
            found = find_personal_data(doc.full_text)
            out.append({"found": found, "has_pii": bool(found)})
        return out

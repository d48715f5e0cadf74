"""Entities and terms of a mention: hashtags, @handles, URLs and their domains, emojis, the
configured brands/products/competitors, and key phrases.

Why: these are what dashboards count (share of voice, top hashtags, linked sites, term clouds,
trending phrases) and what listening queries filter on. Every list is de-duplicated in order of
first occurrence and capped, so a spam post with 500 hashtags stays a small result.

- URLs: ``http(s)://…`` and ``www.…``, trailing punctuation trimmed; ``domains`` are the
  registered domains ("shop.example.co.uk" -> "example.co.uk", with a built-in list of the common
  multi-label public suffixes; "www." dropped).
- hashtags (need a letter: "#1" is a rank, not a tag) and handles ("@anna", Mastodon's
  "@anna@social.example", Bluesky's "@anna.bsky.social") are read after URLs are blanked out, so
  "example.com/#top" yields no tag; an e-mail address is no handle.
- emojis: whole sequences (ZWJ families, skin tones, flags, keycaps, tag flags) by a regex over
  the Extended_Pictographic ranges of Unicode 15 — no package needed, and texts that are pure
  ASCII skip it.
- brands: ``settings.brands`` (name -> aliases and misspellings), matched like crisis terms
  (folded, homoglyphs mapped) but as whole words only: a brand is a name, not a word stem.
- key phrases: :func:`resonanz.analysis.terms.keyphrases`, which skips links, hashtags and handles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from resonanz.analysis.matching import TermMatcher, normalize
from resonanz.analysis.stages.base import Doc, Result, Stage
from resonanz.analysis.terms import keyphrases
from resonanz.config import Settings

#: longest stretch of a text that is read (a mention longer than this is an article)
MAX_CHARS = 20_000
#: most items kept per list
MAX_ITEMS = 20
MAX_URL = 2_000

_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'`{}|\\^\u200b-\u200d\u2060\ufeff]+")
_URL_TAIL = ".,;:!?)]}>'\"»”’…*"
_SURROGATE = re.compile("[\ud800-\udfff]")
_HASHTAG = re.compile(r"(?<![\w#&/])#(\w*[^\W\d_]\w*)")
_HANDLE = re.compile(r"(?<![\w@/.])@([^\W_](?:[\w.-]{0,62}[^\W_])?)(?:@([^\W_][\w-]*(?:\.[\w-]+)+))?")

# Extended_Pictographic (emoji-data.txt, Unicode 15), split into symbols shown as emoji by default
# and older text symbols ("™", "↔", "▶") that count only with the emoji variation selector U+FE0F.
_PICTO = (
    "\u231a\u231b\u23e9-\u23f3\u23f8-\u23fa\u25fd\u25fe\u2600-\u2605\u2607-\u2612\u2614-\u2685"
    "\u2690-\u2705\u2708-\u2712\u2714\u2716\u271d\u2721\u2728\u2733\u2734\u2744\u2747\u274c\u274e"
    "\u2753-\u2755\u2757\u2763-\u2767\u2795-\u2797\u27a1\u27b0\u27bf\u2b1b\u2b1c\u2b50\u2b55"
    "\U0001f000-\U0001f0ff\U0001f10d-\U0001f10f\U0001f12f\U0001f16c-\U0001f171\U0001f17e\U0001f17f"
    "\U0001f18e\U0001f191-\U0001f19a\U0001f1ad-\U0001f1e5\U0001f201-\U0001f20f\U0001f21a\U0001f22f"
    "\U0001f232-\U0001f23a\U0001f23c-\U0001f23f\U0001f249-\U0001f3fa\U0001f400-\U0001f53d"
    "\U0001f546-\U0001f64f\U0001f680-\U0001f6ff\U0001f774-\U0001f77f\U0001f7d5-\U0001f7ff"
    "\U0001f80c-\U0001f80f\U0001f848-\U0001f84f\U0001f85a-\U0001f85f\U0001f888-\U0001f88f"
    "\U0001f8ae-\U0001f8ff\U0001f90c-\U0001f93a\U0001f93c-\U0001f945\U0001f947-\U0001faff"
    "\U0001fc00-\U0001fffd"
)
_TEXT_SYMBOLS = (
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u2328\u23cf\u24c2\u25aa\u25ab\u25b6\u25c0"
    "\u25fb\u25fc\u2934\u2935\u2b05-\u2b07\u3030\u303d\u3297\u3299"
)
_ONE = f"(?:[{_PICTO}][\ufe0f\U0001f3fb-\U0001f3ff]?|[{_TEXT_SYMBOLS}]\ufe0f)"
_EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff]{2}"  # a flag: two regional indicators
    "|[0-9#*]\ufe0f?\u20e3"  # a keycap
    f"|{_ONE}[\U000e0020-\U000e007e]*\U000e007f?(?:\u200d{_ONE})*"  # ZWJ sequence, tag flag
)

#: public suffixes of two labels under which people register names ("example.co.uk"); the full
#: Public Suffix List would be exact, these cover what German and English posts link to
_MULTI_LABEL_SUFFIXES = """
    co.uk org.uk ac.uk gov.uk me.uk ltd.uk plc.uk net.uk sch.uk nhs.uk com.au net.au org.au edu.au gov.au
    co.nz org.nz co.jp ne.jp or.jp ac.jp co.kr co.in net.in org.in co.za org.za com.br net.br org.br com.mx
    com.ar com.tr gov.tr com.cn net.cn org.cn com.hk com.sg com.tw co.il co.at or.at gv.at ac.at com.pl net.pl
    org.pl com.es com.pt com.gr com.ua co.id com.my com.ph com.vn com.sa com.eg co.th
    github.io gitlab.io blogspot.com wordpress.com herokuapp.com netlify.app vercel.app pages.dev
    """
MULTI_LABEL_SUFFIXES = frozenset(_MULTI_LABEL_SUFFIXES.split())


def registered_domain(host: str) -> str:
    """The part of a host name someone registered: "www.shop.example.co.uk" -> "example.co.uk"."""
    host = host.lower().rstrip(".")
    if not host or host.replace(".", "").isdigit() or ":" in host:
        return host  # an IP address
    labels = host.split(".")
    keep = 3 if ".".join(labels[-2:]) in MULTI_LABEL_SUFFIXES else 2
    return ".".join(labels[-keep:])


def _trim_url(url: str) -> str:
    url = url[:MAX_URL]
    while url and url[-1] in _URL_TAIL:
        # a closing parenthesis belongs to the URL when it opened one (Wikipedia links)
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _domain(url: str) -> str | None:
    try:
        host = urlsplit(url if "://" in url[:10] else "http://" + url).hostname
    except ValueError:  # "http://[broken" and other URLs the parser refuses
        return None
    return registered_domain(host) if host and "." in host else None


def _unique(values: list[str], *, safe: bool = False) -> list[str]:
    """De-duplicated (case-insensitively, first spelling wins), capped, JSON-safe (``safe``: known
    to be already)."""
    if not values:
        return values
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.casefold(), value)
    return _safe(list(seen.values())[:MAX_ITEMS], safe)


def _safe(values: list[str], safe: bool) -> list[str]:
    return values if safe else [_json_safe(v) for v in values]


def _json_safe(value: str) -> str:
    """A lone surrogate cannot be stored as JSON; it becomes U+FFFD."""
    return value if value.isascii() else value.encode("utf-8", "replace").decode("utf-8", "replace")


def emojis(text: str) -> list[str]:
    """Emoji sequences in order, repeated ones once (pure ASCII text has none: skipped)."""
    # Every emoji lies above U+2000 except the keycaps' base; max() over a str runs in C.
    if text.isascii() or max(text) < "\u20e3":
        return []
    return list(dict.fromkeys(_EMOJI.findall(text)))[:MAX_ITEMS]


class EntitiesStage(Stage):
    name = "entities"
    version = "1"
    provides = ("hashtags", "handles", "urls", "domains", "emojis", "brands", "keyphrases")
    title = "Hashtags, @handles, links and domains, emojis, brands and products, key phrases"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        pairs = [(alias, brand) for brand, aliases in settings.brands.items() for alias in (brand, *aliases)]
        self.brands = TermMatcher(pairs, compounds=False)

    def run(self, docs: Sequence[Doc], upstream: Sequence[Mapping[str, Result]]) -> list[Result]:
        return [self.one(doc.full_text[:MAX_CHARS]) for doc in docs]

    def one(self, text: str) -> Result:
        urls = [_trim_url(u) for u in _URL.findall(text)] if ("://" in text or "www." in text) else []
        # Blank out links, so "https://x.example/#top" yields no hashtag and ".../@anna" no handle.
        rest = _URL.sub(" ", text) if urls else text
        handles = (
            ["@" + h + ("@" + server if server else "") for h, server in _HANDLE.findall(rest)] if "@" in rest else []
        )
        hashtags = ["#" + tag for tag in _HASHTAG.findall(rest)] if "#" in rest else []
        urls = [u for u in urls if u]
        domains = [d for d in map(_domain, urls) if d]
        brands = [hit.label for hit in self.brands.find_normalized(normalize(text))] if self.brands else []
        # a text without lone surrogates yields none in anything taken from it: no per-item checks
        safe = text.isascii() or _SURROGATE.search(text) is None
        return {
            "hashtags": _unique(hashtags, safe=safe),
            "handles": _unique(handles, safe=safe),
            "urls": _safe(list(dict.fromkeys(urls))[:MAX_ITEMS], safe) if urls else [],
            "domains": _safe(list(dict.fromkeys(domains))[:MAX_ITEMS], safe) if domains else [],
            "emojis": emojis(text),
            "brands": list(dict.fromkeys(brands)) if brands else [],
            "keyphrases": _safe(keyphrases(rest), safe),
        }

"""Text helpers shared by every connector and by search: HTML to plain text, sanitising,
Unicode folding for the search index, and the hashes that identify content and revisions.

All functions are pure and cheap: they run once per ingested item on the hot path.
"""

from __future__ import annotations

import functools
import hashlib
import html as html_lib
import re
import unicodedata
from html.parser import HTMLParser

import nh3

# Tags that carry meaning in a post (links, emphasis, quotes, lists, images); everything else,
# scripts, styles, forms and event handlers above all, is removed by nh3.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "figcaption", "figure", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "q", "s", "small", "span",
    "strong", "sub", "sup", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "abbr": {"title"}}
_BLOCK_TAGS = {"p", "br", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "pre", "hr"}
_SKIP_TAGS = {"script", "style", "noscript", "template"}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_NEWLINES = re.compile(r"\n\s*\n+")
_HTML_HINT = re.compile(r"<[a-zA-Z/!][^>]*>|&[a-zA-Z#][a-zA-Z0-9]*;")


def looks_like_html(value: str) -> bool:
    return bool(_HTML_HINT.search(value))


def sanitize_html(value: str, *, base_url: str | None = None) -> str:
    """Untrusted HTML made safe to embed in our pages (links get ``rel=noopener nofollow``)."""
    cleaned = nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return cleaned


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(value: str) -> str:
    """Readable plain text from HTML: tags dropped, entities decoded, paragraphs kept."""
    if not looks_like_html(value):
        return normalize_whitespace(html_lib.unescape(value))
    parser = _TextExtractor()
    parser.feed(value)
    parser.close()
    return normalize_whitespace("".join(parser.parts))


def normalize_whitespace(value: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in value.replace("\r\n", "\n").split("\n")]
    return _NEWLINES.sub("\n\n", "\n".join(lines)).strip()


@functools.cache
def _combining_marks() -> re.Pattern[str]:
    """A character class of every combining mark (built once, on the first non-ASCII text):
    one regex substitution is far faster than testing each character in Python."""
    ranges: list[str] = []
    start = prev = -2
    # Every combining mark of Unicode 15 lies between U+0300 and plane 1 (planes 2-3 are CJK
    # ideographs, plane 14's tags and selectors have combining class 0): scanning that span
    # instead of all 1.1 million code points makes the first call 25 ms instead of 300 ms.
    for cp in range(0x300, 0x20000):
        if unicodedata.combining(chr(cp)):
            if cp != prev + 1:
                if start >= 0:
                    ranges.append(_char_range(start, prev))
                start = cp
            prev = cp
    ranges.append(_char_range(start, prev))
    return re.compile("[" + "".join(ranges) + "]+")


def _char_range(first: int, last: int) -> str:
    return re.escape(chr(first)) if first == last else f"{re.escape(chr(first))}-{re.escape(chr(last))}"


def fold(value: str) -> str:
    """Fold text for search so that spelling variants meet.

    Case-insensitive with full Unicode case folding ("Straße" -> "strasse"), German umlauts
    written out ("Müller" == "Mueller"), other diacritics dropped ("café" == "cafe"). Index and
    query go through this same function on SQLite and PostgreSQL, so both engines agree.
    """
    # Hot path (runs once per ingested item): C-level string methods only. ``str.replace`` is
    # several times faster than ``str.translate`` with a dict for three characters.
    folded = unicodedata.normalize("NFKC", value).casefold()
    if folded.isascii():
        return folded
    folded = folded.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    if folded.isascii():
        return folded
    # Decompose and strip only the non-ASCII runs (an emoji, a dash, an accented letter), each
    # once per distinct run: ASCII neither decomposes nor combines with what follows, so this is
    # the whole-text NFKD and strip, at a third of the cost on typical posts.
    return _NON_ASCII.sub(_fold_run, folded)


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _fold_run(match: re.Match[str]) -> str:
    return _fold_non_ascii(match.group())


@functools.lru_cache(maxsize=8192)
def _fold_non_ascii(run: str) -> str:
    return _combining_marks().sub("", unicodedata.normalize("NFKD", run))


def content_hash(text: str, title: str | None = None) -> str:
    """Identity of the *content*, across sources: the same words with other spacing or case
    are the same content (a repost), whoever posted them."""
    return folded_content_hash(fold(f"{title or ''}\n{text}"))


def folded_content_hash(folded: str) -> str:
    """:func:`content_hash` of text already folded (``fold(title + "\\n" + text)``, or of the text
    alone: the leading newline is whitespace and stripped), so ingest folds each item once."""
    # str.split() splits on exactly the characters the regex \\s matches and drops the ends: the
    # same as ``re.sub(r"\\s+", " ", folded).strip()``, three times faster.
    basis = " ".join(folded.split())
    return hashlib.blake2b(basis.encode("utf-8"), digest_size=16).hexdigest()


def digest(*parts: str | None) -> str:
    """A short stable digest over several strings (revision hashes, derived ids)."""
    # One update over the joined parts hashes the same bytes as one update per part + separator.
    joined = "\x1f".join([part or "" for part in parts]) + "\x1f"
    return hashlib.blake2b(joined.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()

"""Untrusted post HTML made safe to show.

A post's HTML comes from strangers on the internet. It is cleaned with nh3 (the Rust ``ammonia``
sanitiser) to a small allowlist of text markup: no script, no event handlers, no styles, no
images or frames (a remote image would tell a tracker who read the post), and links only with
http, https or mailto. Everything else on a page is escaped by Jinja's autoescaping; this is the
one place where markup from a post becomes :class:`~markupsafe.Markup`.
"""

from __future__ import annotations

import nh3
from markupsafe import Markup

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h3", "h4", "h5", "h6", "i", "li",
        "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
#: removed together with their content (the text inside a <script> is code, not prose)
DROP_WITH_CONTENT = frozenset({"script", "style", "template", "noscript", "iframe", "object", "svg", "math"})


def sanitise_html(html: str) -> Markup:
    """``html`` reduced to the allowlist, safe to insert into a page as markup."""
    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow ugc",
        strip_comments=True,
    )
    return Markup(cleaned)  # noqa: S704 - nh3 output is the sanitised form


def safe_url(url: str | None) -> str | None:
    """A link target from a post or platform, or None when it is not http(s) (``javascript:`` …)."""
    if not url:
        return None
    candidate = url.strip()
    scheme, sep, _ = candidate.partition(":")
    if sep and scheme.lower() in {"http", "https"} and not any(c in candidate for c in "\x00\r\n\t"):
        return candidate
    return None

"""A corpus of XSS payloads, written as an import file so they enter through the real import path.

Every payload, if it ever ran, would set ``window.__xss`` or open a dialog (``alert``), which the
XSS test traps. The payloads sit in every field a page shows: text (with hashtags), title, HTML,
author handle and name, author URL, mention URL, media URLs, and unknown fields that end up in the
raw payload (shown to admins).
"""

from __future__ import annotations

import json
from pathlib import Path

XSS_SOURCE = "xss-corpus"

#: Each sets window.__xss=1 (or alerts) if executed. Covers script tags, event handlers, SVG, URL
#: schemes, iframes, CSS, attribute and tag breakouts, encodings and template syntax.
PAYLOADS: tuple[str, ...] = (
    "<script>window.__xss=1</script>",
    "<SCRIPT SRC=data:text/javascript,window.__xss=1></SCRIPT>",
    "<img src=x onerror=window.__xss=1>",
    '<img src="x" onerror="alert(1)">',
    "<svg onload=window.__xss=1>",
    "<svg><script>window.__xss=1</script></svg>",
    "<body onload=window.__xss=1>",
    "<details open ontoggle=window.__xss=1>",
    '<a href="javascript:window.__xss=1">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    '<iframe src="javascript:parent.__xss=1"></iframe>',
    '<div style="background:url(javascript:window.__xss=1)">css</div>',
    '<div style="width:expression(window.__xss=1)">ie</div>',
    "<style>@import 'javascript:window.__xss=1';</style>",
    '"><script>window.__xss=1</script>',
    "'><img src=x onerror=window.__xss=1>",
    '" onmouseover="window.__xss=1" autofocus onfocus="window.__xss=1" x="',
    "</textarea><script>window.__xss=1</script>",
    "</title><script>window.__xss=1</script>",
    "&lt;script&gt;window.__xss=1&lt;/script&gt;",
    "&#60;img src=x onerror=window.__xss=1&#62;",
    "\uff1cscript\uff1ewindow.__xss=1\uff1c/script\uff1e",
    "<scr<script>ipt>window.__xss=1</scr</script>ipt>",
    "{{ 7*7 }}{% raw %}<script>window.__xss=1</script>",
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>",
    '<object data="javascript:window.__xss=1"></object>',
    '<embed src="javascript:window.__xss=1">',
    '<form action="javascript:window.__xss=1"><button>go</button></form>',
    "<input autofocus onfocus=window.__xss=1>",
    '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=1">',
    '<base href="javascript:window.__xss=1//">',
)

#: URLs: the import accepts only http(s), so breakouts hide in the query and the fragment.
URL_PAYLOADS: tuple[str, ...] = (
    'https://evil.example/?q="><script>window.__xss=1</script>',
    "https://evil.example/#'><img src=x onerror=window.__xss=1>",
    'https://evil.example/" onmouseover="window.__xss=1',
)


def records() -> list[dict[str, object]]:
    """One import record per payload, the payload in every field; plus replies so threads show it."""
    out: list[dict[str, object]] = []
    for i, payload in enumerate(PAYLOADS):
        url = URL_PAYLOADS[i % len(URL_PAYLOADS)]
        out.append(
            {
                "id": f"xss-{i}",
                "platform": "xsstest",
                "title": f"XSS title {i} {payload}",
                "text": f"XSS text {i} {payload} #{payload} #xss{i} @{payload}",
                "html": f"<p>XSS html {i} {payload}</p>",
                "url": url,
                "published_at": f"2026-03-{1 + i % 28:02d}T12:{i % 60:02d}:00Z",
                "author": {
                    "handle": f"xss-author-{i}{payload}",
                    "name": f"XSS Author {i} {payload}",
                    "url": url,
                    "followers": i,
                },
                "language": "en",
                "media": [url],
                "metrics": {"likes": i},
                "extra_field": payload,
            }
        )
        if i % 4 == 0:  # a reply, so the thread view shows payloads too
            out.append(
                {
                    "id": f"xss-{i}-reply",
                    "platform": "xsstest",
                    "parent_id": f"xss-{i}",
                    "text": f"XSS reply {i} {payload}",
                    "published_at": f"2026-03-{1 + i % 28:02d}T13:00:00Z",
                    "author": {"handle": f"xss-replier-{i}", "name": payload},
                }
            )
    return out


def write_xss_file(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for record in records():
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path

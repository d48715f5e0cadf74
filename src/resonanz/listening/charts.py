"""Accessible SVG charts as pure functions: plain series in, an SVG string out.

Why server-side SVG: the same string is embedded in the dashboard page, in the HTML e-mail digest
and in the PDF report, so a chart looks the same everywhere and needs no JavaScript library. The
page's Content-Security-Policy forbids inline ``style`` and ``<script>``, so the web variant carries
CSS classes only (``web/static/charts.css`` colours them) and ``data-href``/``data-tip`` attributes
that ``web/static/dashboards.js`` turns into hover tooltips and click-through. ``standalone=True``
writes presentation attributes (``fill``, ``stroke``, ``font-size``) instead, for PDF and e-mail
where no stylesheet is loaded.

Accessibility: ``role="img"`` with ``<title>`` and ``<desc>`` (``aria-labelledby``), and every point
or bar has its own ``<title>`` with its label and number (also the browser's native tooltip).
Element ids derive from a digest of the chart, so two charts on one page never clash and the
output is deterministic. All text is XML-escaped.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

#: colours of the series classes rz-s0..rz-s7 (the same as web/static/charts.css), for standalone
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
#: named series colours (sentiment), class rz-<name>
NAMED = {"positive": "#16a34a", "negative": "#dc2626", "neutral": "#9ca3af", "unknown": "#e5e7eb"}
TEXT = "#374151"
GRID = "#e5e7eb"
WIDTH = 720
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 12, 30
#: bar lists are narrower, so that on a 375 px phone their text stays legible
LIST_WIDTH = 480
MAX_X_LABELS = 6


@dataclass(frozen=True)
class Series:
    """One line or one stack layer: a name (legend, tooltip), its values, and a colour key (a
    palette index as ``"s0"`` … or a named colour such as ``"positive"``)."""

    name: str
    values: Sequence[float]
    color: str = "s0"


def _x(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _colour(key: str) -> str:
    if key in NAMED:
        return NAMED[key]
    if key.startswith("s") and key[1:].isdigit():
        return PALETTE[int(key[1:]) % len(PALETTE)]
    return PALETTE[0]


def _paint(key: str, *, standalone: bool, kind: str) -> str:
    """``class`` for the web, ``fill``/``stroke`` for standalone output."""
    if not standalone:
        return f'class="rz-{kind} rz-{_x(key)}"'
    colour = _colour(key)
    if kind == "line":
        return f'fill="none" stroke="{colour}" stroke-width="2"'
    return f'fill="{colour}"'


def _text_attrs(standalone: bool, cls: str, anchor: str = "middle") -> str:
    if standalone:
        return f'fill="{TEXT}" font-size="11" font-family="sans-serif" text-anchor="{anchor}"'
    return f'class="{cls}" text-anchor="{anchor}"'


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return float(step * exp)
    return float(10 * exp)  # pragma: no cover


def _chart_id(*parts: object) -> str:
    return "rzc-" + hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()[:10]


def _open(cid: str, title: str, desc: str, width: int, height: int, standalone: bool) -> list[str]:
    cls = "" if standalone else ' class="rz-chart"'
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg"{cls} role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" aria-labelledby="{cid}-t {cid}-d">',
        f'<title id="{cid}-t">{_x(title)}</title>',
        f'<desc id="{cid}-d">{_x(desc)}</desc>',
    ]


def _axes(
    top: float, labels: Sequence[str], step: float, standalone: bool, fmt: Callable[[float], str], lows: float = 0.0
) -> list[str]:
    """Horizontal grid lines with y labels, and up to MAX_X_LABELS x labels."""
    out: list[str] = []
    plot_h = HEIGHT - TOP - BOTTOM
    grid = f'stroke="{GRID}"' if standalone else 'class="rz-grid"'
    for k in range(5):
        value = lows + (top - lows) * k / 4
        y = TOP + plot_h - plot_h * k / 4
        out.append(f'<line {grid} x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_num(y)}" y2="{_num(y)}"/>')
        out.append(
            f'<text {_text_attrs(standalone, "rz-axis", "end")} x="{LEFT - 6}" y="{_num(y + 4)}">'
            f"{_x(fmt(value))}</text>"
        )
    n = len(labels)
    every = max(1, math.ceil(n / MAX_X_LABELS))
    for i in range(0, n, every):
        x = LEFT + step * (i + 0.5)
        out.append(f'<text {_text_attrs(standalone, "rz-axis")} x="{_num(x)}" y="{HEIGHT - 10}">{_x(labels[i])}</text>')
    return out


def _point_attrs(href: str | None, tip: str, standalone: bool) -> str:
    if standalone:
        return ""
    attrs = f' class="rz-hit" data-tip="{_x(tip)}" tabindex="0"'
    if href:
        attrs += f' data-href="{_x(href)}"'
    return attrs


def line_chart(
    series: Sequence[Series],
    labels: Sequence[str],
    *,
    title: str,
    desc: str,
    hrefs: Sequence[str | None] | None = None,
    tip_labels: Sequence[str] | None = None,
    fmt: Callable[[float], str] = _num,
    y_min: float | None = None,
    y_max: float | None = None,
    standalone: bool = False,
) -> str:
    """Lines over the buckets ``labels``; each bucket has an invisible hit column with a tooltip of
    every series' value (and ``hrefs[i]`` for click-through). ``y_min``/``y_max`` fix the scale
    (net sentiment: -1..1); by default it runs from 0 to a round number above the largest value.
    ``tip_labels`` (default ``labels``) name the buckets in tooltips."""
    n = len(labels)
    cid = _chart_id("line", title, labels, [(s.name, tuple(s.values)) for s in series], standalone)
    out = _open(cid, title, desc, WIDTH, HEIGHT, standalone)
    values = [v for s in series for v in s.values]
    low = y_min if y_min is not None else 0.0
    top = y_max if y_max is not None else _nice_max(max(values, default=0.0))
    step = (WIDTH - LEFT - RIGHT) / max(n, 1)
    plot_h = HEIGHT - TOP - BOTTOM
    out += _axes(top, labels, step, standalone, fmt, low)

    def y_of(v: float) -> float:
        return TOP + plot_h - plot_h * (v - low) / ((top - low) or 1.0)

    for s in series:
        pts = " ".join(f"{_num(LEFT + step * (i + 0.5))},{_num(y_of(v))}" for i, v in enumerate(s.values))
        if pts:
            out.append(
                f'<polyline {_paint(s.color, standalone=standalone, kind="line")} points="{pts}">'
                f"<title>{_x(s.name)}</title></polyline>"
            )
    for i, label in enumerate(tip_labels or labels):
        tip = label + ": " + ", ".join(f"{s.name} {fmt(s.values[i])}" for s in series if i < len(s.values))
        href = hrefs[i] if hrefs and i < len(hrefs) else None
        x = LEFT + step * i
        hit = 'fill="#ffffff" fill-opacity="0"' if standalone else 'class="rz-hitbox"'
        out.append(
            f"<g{_point_attrs(href, tip, standalone)}><title>{_x(tip)}</title>"
            f'<rect {hit} x="{_num(x)}" y="{TOP}" width="{_num(step)}" height="{plot_h}"/></g>'
        )
    out.append("</svg>")
    return "".join(out)


def stacked_bar_chart(
    series: Sequence[Series],
    labels: Sequence[str],
    *,
    title: str,
    desc: str,
    hrefs: Sequence[str | None] | None = None,
    tip_labels: Sequence[str] | None = None,
    fmt: Callable[[float], str] = _num,
    standalone: bool = False,
) -> str:
    """One bar per bucket, stacked by series (sentiment split, share of voice over time); every
    segment has its own tooltip and the bucket's click-through."""
    n = len(labels)
    cid = _chart_id("stack", title, labels, [(s.name, tuple(s.values)) for s in series], standalone)
    out = _open(cid, title, desc, WIDTH, HEIGHT, standalone)
    totals = [sum(s.values[i] for s in series if i < len(s.values)) for i in range(n)]
    top = _nice_max(max(totals, default=0.0))
    step = (WIDTH - LEFT - RIGHT) / max(n, 1)
    plot_h = HEIGHT - TOP - BOTTOM
    out += _axes(top, labels, step, standalone, fmt)
    bar_w = max(1.0, step * 0.8)
    for i, label in enumerate(tip_labels or labels):
        href = hrefs[i] if hrefs and i < len(hrefs) else None
        base = float(TOP + plot_h)
        for s in series:
            v = float(s.values[i]) if i < len(s.values) else 0.0
            if v <= 0:
                continue
            h = plot_h * v / top
            base -= h
            tip = f"{label}: {s.name} {fmt(v)} / {fmt(totals[i])}"
            out.append(
                f"<g{_point_attrs(href, tip, standalone)}><title>{_x(tip)}</title>"
                f"<rect {_paint(s.color, standalone=standalone, kind='bar')} "
                f'x="{_num(LEFT + step * i + (step - bar_w) / 2)}" '
                f'y="{_num(base)}" width="{_num(bar_w)}" height="{_num(h)}"/></g>'
            )
    out.append("</svg>")
    return "".join(out)


def bar_list(
    items: Sequence[tuple[str, float, str | None]],
    *,
    title: str,
    desc: str,
    fmt: Callable[[float], str] = _num,
    color: str = "s0",
    standalone: bool = False,
) -> str:
    """Horizontal bars, one row per ``(label, value, href)``: top lists, languages, sources."""
    row_h = 24
    height = max(row_h, row_h * len(items)) + 8
    cid = _chart_id("bars", title, tuple(items), color, standalone)
    out = _open(cid, title, desc, LIST_WIDTH, height, standalone)
    top = max((v for _l, v, _h in items), default=0.0) or 1.0
    label_w = 200
    bar_space = LIST_WIDTH - label_w - 64
    for i, (label, value, href) in enumerate(items):
        y = 4 + i * row_h
        w = max(1.0, bar_space * value / top) if value > 0 else 0.0
        tip = f"{label}: {fmt(value)}"
        short = label if len(label) <= 28 else label[:27] + "…"
        out.append(
            f"<g{_point_attrs(href, tip, standalone)}><title>{_x(tip)}</title>"
            f'<text {_text_attrs(standalone, "rz-label", "end")} x="{label_w - 8}" y="{y + 16}">{_x(short)}</text>'
            f'<rect {_paint(color, standalone=standalone, kind="bar")} x="{label_w}" y="{y + 4}" '
            f'width="{_num(w)}" height="{row_h - 8}"/>'
            f'<text {_text_attrs(standalone, "rz-value", "start")} x="{_num(label_w + w + 6)}" y="{y + 16}">'
            f"{_x(fmt(value))}</text></g>"
        )
    out.append("</svg>")
    return "".join(out)

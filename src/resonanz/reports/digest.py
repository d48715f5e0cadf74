"""The report as an e-mail: a short HTML digest (plus a plain-text part) with the PDF attached.

Why no chart images in the mail: turning the SVG charts into PNG needs a rasteriser (cairo, a
browser) that an offline install cannot be assumed to have, and most mail programs do not show SVG.
So the digest draws its bars as table cells of a given width — plain HTML with inline styles, which
every mail program renders — and the attached PDF carries the real charts. Every piece of text
from a post, an author or a query is escaped; post snippets are text, never markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from resonanz.reports.content import NotablePost, ReportContent
from resonanz.reports.texts import Texts, labels, period_name, texts

BAR = "#2563eb"
SENTIMENT_COLOURS = {"positive": "#16a34a", "neutral": "#9ca3af", "negative": "#dc2626"}


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    html: str


def _bar_rows(items: list[tuple[str, float, str]], colour: str = BAR) -> str:
    top = max((v for _l, v, _s in items), default=0) or 1
    rows = []
    for label, value, shown in items:
        width = max(1, round(200 * value / top))
        rows.append(
            f'<tr><td style="padding:2px 8px 2px 0;font-size:13px">{escape(label)}</td>'
            f'<td style="padding:2px 0"><table role="presentation" cellpadding="0" cellspacing="0"><tr>'
            f'<td width="{width}" height="10" style="background:{colour};width:{width}px;height:10px;font-size:0">'
            f"&nbsp;</td>"
            f'<td style="padding-left:6px;font-size:12px;color:#374151">{escape(shown)}</td></tr></table></td></tr>'
        )
    return '<table role="presentation" cellpadding="0" cellspacing="0">' + "".join(rows) + "</table>"


def _posts_html(posts: list[NotablePost], t: Texts, lab: dict[str, str], base: str) -> str:
    if not posts:
        return f'<p style="color:#6b7280">{escape(lab["none"])}</p>'
    out = []
    for p in posts:
        who = f"@{p.author or '?'}"
        meta = f"{t.when(p.published_at)} · {p.platform} · {who} · {t.number(p.engagement)} {lab['engagement']}"
        out.append(
            '<div style="margin:0 0 12px 0;padding:8px;border-left:3px solid #e5e7eb">'
            f'<div style="font-size:12px;color:#6b7280">{escape(meta)}</div>'
            f'<div style="font-size:14px">{escape(p.snippet)}</div>'
            f'<a href="{escape(base)}/mentions/{p.id}" style="font-size:12px">{escape(lab["open"])}</a></div>'
        )
    return "".join(out)


def render_digest(
    content: ReportContent, *, public_url: str, language: str | None = None, tz: str | None = None
) -> Digest:
    """Subject, plain text and HTML of the report e-mail, in the report's language and zone, or
    in a recipient's (``language``/``tz``): the gathered numbers are the same for everyone, so a
    digest per recipient language costs only this rendering."""
    c = content
    t = texts(language or c.language, tz or c.tz)
    lab = labels(t)
    base = public_url.rstrip("/")
    window = t.window(c.window)
    subject = f"{period_name(c, t)}: {c.name} ({window})"
    s = c.dashboard.sentiment
    labelled = s.positive + s.neutral + s.negative
    key = [
        (lab["mentions"], t.number(c.total), f"{t.signed_percent(c.change)} {lab['vs_previous']}"),
        (lab["net_sentiment"], t.net(s.net), f"{lab['previous']}: {t.net(c.previous_net)}"),
        (lab["alerts"], "—" if c.alerts is None else t.number(len(c.alerts)), ""),
    ]
    sentiment_rows = [
        (lab[k], float(getattr(s, k)), f"{t.number(getattr(s, k))} ({t.percent(getattr(s, k) / labelled)})")
        for k in ("positive", "neutral", "negative")
        if labelled
    ]
    volume_rows = [(t.bucket(p.start, c.period), float(p.count), t.number(p.count)) for p in c.dashboard.volume.points]
    sov_rows = [(i.name, i.share, t.percent(i.share)) for i in c.share_of_voice.items]
    term_rows = [(i.value, float(i.count), t.number(i.count)) for i in c.dashboard.top_terms.items]

    html_parts = [
        '<!doctype html><html><body style="font-family:Arial,Helvetica,sans-serif;color:#111827;max-width:640px">',
        f'<h1 style="font-size:20px">{escape(period_name(c, t))}: {escape(c.name)}</h1>',
        f'<p style="color:#6b7280">{escape(window)}</p>',
        '<table role="presentation" cellpadding="0" cellspacing="0" width="100%"><tr>',
    ]
    for label, value, note in key:
        html_parts.append(
            '<td style="padding:8px;vertical-align:top">'
            f'<div style="font-size:12px;color:#6b7280">{escape(label)}</div>'
            f'<div style="font-size:24px;font-weight:bold">{escape(value)}</div>'
            f'<div style="font-size:11px;color:#6b7280">{escape(note)}</div></td>'
        )
    html_parts.append("</tr></table>")
    html_parts += [f'<h2 style="font-size:16px">{escape(lab["volume"])}</h2>', _bar_rows(volume_rows)]
    if sentiment_rows:
        html_parts.append(f'<h2 style="font-size:16px">{escape(lab["sentiment"])}</h2>')
        html_parts.append(_bar_rows(sentiment_rows, SENTIMENT_COLOURS["neutral"]))
    if sov_rows:
        html_parts += [f'<h2 style="font-size:16px">{escape(lab["share_of_voice"])}</h2>', _bar_rows(sov_rows)]
    if term_rows:
        html_parts += [f'<h2 style="font-size:16px">{escape(lab["top_terms"])}</h2>', _bar_rows(term_rows)]
    if c.alerts:
        html_parts.append(f'<h2 style="font-size:16px">{escape(lab["alerts"])}</h2><ul>')
        html_parts += [f"<li>{escape(t.when(a.fired_at))} · {escape(t.alert(a.kind, a.title))}</li>" for a in c.alerts]
        html_parts.append("</ul>")
    html_parts += [
        f'<h2 style="font-size:16px">{escape(lab["engaged"])}</h2>',
        _posts_html(c.engaged, t, lab, base),
        f'<h2 style="font-size:16px">{escape(lab["negative_influential"])}</h2>',
        _posts_html(c.negative, t, lab, base),
        f'<p style="color:#6b7280;font-size:12px">{escape(lab["pdf_attached"])}</p>',
        "</body></html>",
    ]

    lines = [subject, ""]
    lines += [f"{label}: {value} {note}".rstrip() for label, value, note in key]
    if sov_rows:
        lines += ["", lab["share_of_voice"] + ":"] + [f"  {n}: {shown}" for n, _v, shown in sov_rows]
    if term_rows:
        lines += ["", lab["top_terms"] + ":"] + [f"  {n}: {shown}" for n, _v, shown in term_rows]
    if c.alerts:
        lines += ["", lab["alerts"] + ":"] + [f"  {t.when(a.fired_at)} · {t.alert(a.kind, a.title)}" for a in c.alerts]
    lines += ["", lab["engaged"] + ":"]
    lines += [f"  - {p.snippet[:120]} ({base}/mentions/{p.id})" for p in c.engaged] or [f"  {lab['none']}"]
    lines += ["", lab["pdf_attached"]]
    return Digest(subject=subject, text="\n".join(lines) + "\n", html="".join(html_parts))

"""The report as a PDF (fpdf2): key numbers, the dashboards' own SVG charts, tops, alerts and
notable posts.

Why fpdf2: pure Python (no browser or system library to install) and it draws SVG, so the charts
are the very SVG the dashboard page shows (:mod:`resonanz.listening.charts`, ``standalone=True``),
not a second rendering that could drift. fpdf2 ignores SVG ``<title>``/``<desc>``, so each chart's
title is written as a heading above it.

Fonts: a Unicode TrueType font (DejaVu Sans or Liberation Sans, or ``RESONANZ_REPORT_FONT``) is
embedded, also under the name ``sans-serif`` that the charts ask for; without one the PDF falls
back to Helvetica and characters outside Latin-1 become ``?`` rather than failing the report.
"""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from resonanz.clock import now
from resonanz.listening import charts
from resonanz.reports.content import NotablePost, ReportContent
from resonanz.reports.texts import Texts, labels, period_name, texts

# fpdf2 logs one warning per SVG element it does not draw (<title>, <desc>) and per missing glyph
logging.getLogger("fpdf.svg").setLevel(logging.ERROR)
logging.getLogger("fpdf.output").setLevel(logging.ERROR)

FONT_ENV = "RESONANZ_REPORT_FONT"
FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
    (
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ),
    ("/Library/Fonts/Arial Unicode.ttf", "/Library/Fonts/Arial Unicode.ttf"),
)
_NOT_LATIN1 = re.compile(r"[^\x00-\xff]")
BLUE = (37, 99, 235)
GREY = (107, 114, 128)


def find_font() -> tuple[Path, Path] | None:
    """A regular and a bold Unicode TTF, or None (then Helvetica)."""
    configured = os.environ.get(FONT_ENV)
    if configured and Path(configured).is_file():
        return Path(configured), Path(configured)
    for regular, bold in FONT_CANDIDATES:
        if Path(regular).is_file():
            return Path(regular), Path(bold) if Path(bold).is_file() else Path(regular)
    return None


class ReportPDF(FPDF):
    def __init__(self, *, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text
        font = find_font()
        self.unicode = font is not None
        if font is not None:
            for family in ("rz", "sans-serif"):
                self.add_font(family, "", str(font[0]))
                self.add_font(family, "B", str(font[1]))
            self.family_name = "rz"
        else:
            self.family_name = "helvetica"
        self.set_auto_page_break(auto=True, margin=16)
        self.set_margins(16, 16, 16)
        self.set_title(footer_text)
        self.set_creator("Resonanz")

    def clean(self, text: str) -> str:
        return text if self.unicode else _NOT_LATIN1.sub("?", text)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family_name, "", 8)
        self.set_text_color(*GREY)
        self.cell(0, 5, self.clean(f"{self.footer_text} · {self.page_no()}"), align="R")

    def heading(self, text: str, size: int = 13) -> None:
        if self.get_y() > self.h - 60:
            self.add_page()
        self.ln(3)
        self.set_font(self.family_name, "B", size)
        self.set_text_color(17, 24, 39)
        self.multi_cell(0, 7, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(self.family_name, "", 10)

    def para(self, text: str, *, size: int = 10, color: tuple[int, int, int] = (31, 41, 55)) -> None:
        self.set_font(self.family_name, "", size)
        self.set_text_color(*color)
        self.multi_cell(0, 5, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def chart(self, svg: str) -> None:
        """Draw an SVG chart across the page width (a new page when it would not fit)."""
        data = (svg if self.unicode else _NOT_LATIN1.sub("?", svg)).encode("utf-8")
        width = self.w - self.l_margin - self.r_margin
        view = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
        height = width * float(view.group(2)) / float(view.group(1)) if view else width / 3
        if self.get_y() + height > self.h - 16:
            self.add_page()
        self.image(io.BytesIO(data), x=self.l_margin, w=width)
        self.ln(2)


def _key_numbers(pdf: ReportPDF, c: ReportContent, t: Texts, lab: dict[str, str]) -> None:
    s = c.dashboard.sentiment
    labelled = s.positive + s.neutral + s.negative
    cells = [
        (lab["mentions"], t.number(c.total), f"{t.signed_percent(c.change)} {lab['vs_previous']}"),
        (lab["net_sentiment"], t.net(s.net), f"{lab['previous']}: {t.net(c.previous_net)}"),
        (
            lab["positive"] + " / " + lab["negative"],
            f"{t.percent(s.positive / labelled if labelled else None)} / "
            f"{t.percent(s.negative / labelled if labelled else None)}",
            f"{lab['neutral']}: {t.number(s.neutral)}",
        ),
        (
            lab["alerts"],
            "—" if c.alerts is None else t.number(len(c.alerts)),
            f"{lab['previous']}: {t.number(c.previous_total)} {lab['mentions']}",
        ),
    ]
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / len(cells)
    y = pdf.get_y()
    for i, (label, value, note) in enumerate(cells):
        x = pdf.l_margin + i * width
        pdf.set_xy(x, y)
        pdf.set_font(pdf.family_name, "", 8)
        pdf.set_text_color(*GREY)
        pdf.cell(width - 2, 5, pdf.clean(label))
        pdf.set_xy(x, y + 5)
        pdf.set_font(pdf.family_name, "B", 16)
        pdf.set_text_color(17, 24, 39)
        pdf.cell(width - 2, 9, pdf.clean(value))
        pdf.set_xy(x, y + 14)
        pdf.set_font(pdf.family_name, "", 7)
        pdf.set_text_color(*GREY)
        pdf.multi_cell(width - 2, 4, pdf.clean(note))
    pdf.set_xy(pdf.l_margin, y + 24)


def volume_svg(c: ReportContent, t: Texts, lab: dict[str, str]) -> str:
    points = c.dashboard.volume.points
    return charts.line_chart(
        [charts.Series(lab["mentions"], [p.count for p in points], "s0")],
        [t.bucket(p.start, c.period) for p in points],
        title=lab["volume"],
        desc=lab["volume_desc"],
        fmt=lambda v: t.number(v),
        standalone=True,
    )


def sentiment_svg(c: ReportContent, t: Texts, lab: dict[str, str]) -> str:
    points = c.dashboard.sentiment.points
    series = [
        charts.Series(lab[key], [getattr(p, key) for p in points], key) for key in ("positive", "neutral", "negative")
    ]
    return charts.stacked_bar_chart(
        series,
        [t.bucket(p.start, c.period) for p in points],
        title=lab["sentiment"],
        desc=lab["sentiment_desc"],
        fmt=lambda v: t.number(v),
        standalone=True,
    )


def _bars(items: Sequence[tuple[str, float]], title: str, t: Texts, *, color: str = "s0", pct: bool = False) -> str:
    return charts.bar_list(
        [(label, value, None) for label, value in items],
        title=title,
        desc=title,
        fmt=(lambda v: t.percent(v)) if pct else (lambda v: t.number(v)),
        color=color,
        standalone=True,
    )


def _posts(pdf: ReportPDF, posts: list[NotablePost], t: Texts, lab: dict[str, str], public_url: str) -> None:
    if not posts:
        pdf.para(lab["none"], color=GREY)
        return
    for post in posts:
        meta = (
            f"{t.when(post.published_at)} · {post.platform} · @{post.author or '?'} "
            f"({t.number(post.followers)} {lab['followers']}) · {t.number(post.engagement)} {lab['engagement']}"
        )
        pdf.para(meta, size=8, color=GREY)
        pdf.para(post.snippet, size=9)
        pdf.set_font(pdf.family_name, "", 8)
        pdf.set_text_color(*BLUE)
        pdf.cell(0, 5, pdf.clean(lab["open"]), link=f"{public_url.rstrip('/')}/mentions/{post.id}")
        if post.url and post.url.startswith(("https://", "http://")):
            pdf.set_x(pdf.l_margin + 40)
            pdf.cell(0, 5, pdf.clean(lab["original"]), link=post.url)
        pdf.ln(7)


def render_pdf(content: ReportContent, *, public_url: str, language: str | None = None) -> bytes:
    """The report as PDF bytes, in the report's language or a recipient's (``language``). The
    zone stays the report's: its period and days are cut in it."""
    c = content
    t = texts(language or c.language, c.tz)
    lab = labels(t)
    title = f"{period_name(c, t)}: {c.name}"
    pdf = ReportPDF(footer_text=f"{c.name} · {t.window(c.window)}")
    pdf.add_page()
    pdf.heading(title, size=18)
    pdf.para(t.window(c.window) + " · " + lab["generated"].format(when=t.when(now())), color=GREY)
    pdf.ln(3)
    _key_numbers(pdf, c, t, lab)

    pdf.heading(lab["volume"])
    pdf.chart(volume_svg(c, t, lab))
    pdf.heading(lab["sentiment"])
    pdf.chart(sentiment_svg(c, t, lab))
    sov = c.share_of_voice
    if sov.items:
        pdf.heading(lab["share_of_voice"])
        pdf.chart(_bars([(i.name, i.share) for i in sov.items], lab["share_of_voice"], t, color="s1", pct=True))
    board = c.dashboard
    for key, top in (("top_terms", board.top_terms), ("top_hashtags", board.top_hashtags)):
        if top.items:
            pdf.heading(lab[key])
            pdf.chart(_bars([(i.value, i.count) for i in top.items], lab[key], t))
    if board.authors_by_reach.items:
        pdf.heading(lab["top_authors"])
        pdf.chart(_bars([(f"@{a.handle}", a.followers) for a in board.authors_by_reach.items], lab["top_authors"], t))
    if board.top_terms.sampled:
        pdf.para(
            lab["sampled"].format(n=t.number(board.top_terms.sample_size), total=t.number(board.top_terms.total)),
            size=8,
            color=GREY,
        )
    pdf.heading(lab["emerging"])
    if board.emerging_terms.items:
        for e in board.emerging_terms.items:
            line = lab["emerging_line"].format(
                term=e.term, current=t.number(e.current), baseline=t.number(e.baseline, decimals=1)
            )
            pdf.para("• " + line, size=9)
    else:
        pdf.para(lab["none"], color=GREY)

    pdf.heading(lab["alerts"])
    if c.alerts is None:
        pdf.para(lab["alerts_absent"], color=GREY)
    elif not c.alerts:
        pdf.para(lab["no_alerts"], color=GREY)
    for a in c.alerts or []:
        pdf.para(f"{t.when(a.fired_at)} · {t.alert(a.kind, a.title)}", size=9)

    pdf.heading(lab["engaged"])
    _posts(pdf, c.engaged, t, lab, public_url)
    pdf.heading(lab["negative_influential"])
    _posts(pdf, c.negative, t, lab, public_url)
    return bytes(pdf.output())

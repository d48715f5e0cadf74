"""The words and number formats a report uses, in the report's language and zone.

One place for both renderings (PDF and e-mail), so they always say the same. Strings are written
as ``_("…")`` calls on a local ``_`` bound to the report's language (not the process's), which the
message extractor still finds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from babel import dates as babel_dates

from resonanz import i18n
from resonanz.listening.alerts.wording import Wording, headline
from resonanz.reports.content import ReportContent
from resonanz.reports.schedule import Period, Window


@dataclass(frozen=True)
class Texts:
    """Labels of one report, translated, plus its formatters."""

    lang: str
    tz: str
    gettext: Callable[[str], str]

    def __call__(self, message: str) -> str:
        return self.gettext(message)

    def number(self, value: float | int | None, decimals: int | None = None) -> str:
        return i18n.format_number(value, self.lang, decimals=decimals)

    def percent(self, value: float | None) -> str:
        return i18n.format_percent(value, self.lang)

    def signed_percent(self, value: float | None) -> str:
        """``+12 %`` / ``−3 %``; a dash when there is nothing to compare with."""
        if value is None:
            return "—"
        sign = "+" if value > 0 else ("−" if value < 0 else "±")
        return sign + i18n.format_percent(abs(value), self.lang)

    def net(self, value: float | None) -> str:
        """Net sentiment -1..1 shown as -100..+100."""
        if value is None:
            return "—"
        n = round(value * 100)
        return ("+" if n > 0 else "") + i18n.format_number(n, self.lang)

    def when(self, value: datetime) -> str:
        return i18n.format_datetime(value, self.lang, self.tz, format="short")

    def day(self, value: datetime) -> str:
        return i18n.format_date(value, self.lang, self.tz, format="medium")

    def alert(self, kind: str, scope: str) -> str:
        """An alert of the period in the report's language: ``Volumenspitze: Nordwelle``. An alert
        stores its scope, not a sentence (see ``listening/alerts/wording.py``)."""
        return headline(kind, scope, Wording(lang=self.lang, tz=self.tz, gettext=self.gettext))

    def window(self, window: Window) -> str:
        """``2.–8. März 2026`` / ``Mar 2 – 8, 2026``; one day is shown as that day."""
        zone = i18n.zone(self.tz)
        start = window.start.astimezone(zone)
        last = (window.end - timedelta(seconds=1)).astimezone(zone)
        if start.date() == last.date():
            return self.day(window.start)
        return str(babel_dates.format_interval(start.date(), last.date(), "yMMMd", locale=self.lang))

    def bucket(self, value: datetime, period: Period) -> str:
        """An x-axis label: the hour for a daily report, the day otherwise."""
        local = value.astimezone(i18n.zone(self.tz))
        if period is Period.daily:
            return babel_dates.format_time(local, "HH:mm", locale=self.lang)
        return babel_dates.format_skeleton("MMMd", local, locale=self.lang)


def texts(lang: str, tz: str) -> Texts:
    return Texts(
        lang=lang if lang in i18n.LOCALES else i18n.DEFAULT_LOCALE, tz=tz, gettext=i18n.translations(lang).ugettext
    )


def period_name(content: ReportContent, _: Callable[[str], str]) -> str:
    return {
        Period.daily: _("Daily report"),
        Period.weekly: _("Weekly report"),
        Period.monthly: _("Monthly report"),
    }[content.period]


def labels(_: Callable[[str], str]) -> dict[str, str]:
    """Headings and labels, by key."""
    return {
        "mentions": _("Mentions"),
        "vs_previous": _("vs. previous period"),
        "previous": _("Previous period"),
        "net_sentiment": _("Net sentiment"),
        "positive": _("Positive"),
        "neutral": _("Neutral"),
        "negative": _("Negative"),
        "unknown": _("Not rated"),
        "alerts": _("Alerts"),
        "volume": _("Volume"),
        "volume_desc": _("Mentions per interval in the period"),
        "sentiment": _("Sentiment"),
        "sentiment_desc": _("Positive, neutral and negative mentions per interval"),
        "share_of_voice": _("Share of voice"),
        "top_terms": _("Top terms"),
        "top_hashtags": _("Top hashtags"),
        "top_authors": _("Top authors by reach"),
        "emerging": _("Emerging terms"),
        "emerging_line": _("{term}: {current} now, {baseline} per period before"),
        "no_alerts": _("No alerts fired in this period."),
        "alerts_absent": _("Alerts are not set up."),
        "engaged": _("Most engaged posts"),
        "negative_influential": _("Negative posts from authors with the largest reach"),
        "none": _("Nothing in this period."),
        "followers": _("followers"),
        "engagement": _("engagement"),
        "open": _("Open in Resonanz"),
        "original": _("Original post"),
        "sampled": _("Top lists counted in the newest {n} of {total} mentions."),
        "generated": _("Generated {when}"),
        "pdf_attached": _("The full report with charts is attached as a PDF."),
        "key_numbers": _("Key numbers"),
    }

"""An alert in words, in one reader's language and time zone.

Why here and not stored: an alert keeps only facts (kind, the watched scope's name, the numbers
against the baseline, driving terms, sample posts — see ``explain.build_explanation``), and every
reader gets them worded at read time in their own language: the page in the viewer's, an e-mail
in its recipient's, a chat message in its channel's. Numbers and dates go through Babel
(``1.234,5`` and ``28.11.2026, 14:00`` in German) in the reader's zone.

Strings are written as ``w._("…")`` calls on a :class:`Wording` bound to one language (not the
process's), which the message extractor still finds; their German lives in ``alerts.po``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from resonanz import i18n
from resonanz.i18n import N_
from resonanz.listening.alerts.models import RuleKind

#: the detectors' names (msgids; the web page and the messages translate them)
KIND_LABELS: dict[str, str] = {
    RuleKind.volume_spike.value: N_("Volume spike"),
    RuleKind.negative_surge.value: N_("Negative-share surge"),
    RuleKind.influencer.value: N_("New influential author"),
    RuleKind.keyword.value: N_("Keyword appears"),
    RuleKind.crisis.value: N_("Crisis score"),
}


@dataclass(frozen=True)
class Wording:
    """Translation and formatting for one reader: ``lang`` (``en``/``de``) and IANA zone ``tz``."""

    lang: str
    tz: str
    gettext: Callable[[str], str]

    def _(self, message: str, **values: Any) -> str:
        """The translated ``message`` with ``%(name)s`` placeholders filled in."""
        text = self.gettext(message)
        return text % values if values else text

    def number(self, value: float | int | None, decimals: int | None = None) -> str:
        return i18n.format_number(value, self.lang, decimals=decimals)

    def percent(self, value: float | None) -> str:
        return i18n.format_percent(value, self.lang)

    def when(self, value: datetime) -> str:
        """Date and time in the reader's zone, with the zone named (a mail has no other context)."""
        return f"{i18n.format_datetime(value, self.lang, self.tz, format='medium')} ({i18n.zone(self.tz).key})"


def wording(lang: str | None, tz: str | None = None) -> Wording:
    """A :class:`Wording` for ``lang`` (an unknown or empty one gets English) in zone ``tz``."""
    chosen = i18n.negotiate(None, lang)
    return Wording(lang=chosen, tz=i18n.zone(tz).key, gettext=i18n.translations(chosen).ugettext)


def kind_title(kind: str, w: Wording) -> str:
    """ "Volume spike" / "Volumenspitze"; an unknown (plugin) kind is shown as it is."""
    label = KIND_LABELS.get(kind)
    return w._(label) if label else kind


def headline(kind: str, scope: str, w: Wording) -> str:
    """What fired, where: ``Volume spike: Nordwelle``."""
    return w._("%(kind)s: %(scope)s", kind=kind_title(kind, w), scope=scope)


def summary(kind: str, exp: Mapping[str, Any], w: Wording) -> str:
    """One sentence with the numbers against the baseline (the same words the alert page uses)."""
    n = exp.get("numbers") or {}
    observed, baseline, threshold = exp.get("observed", 0), exp.get("baseline", 0), exp.get("threshold", 0)
    if kind == RuleKind.volume_spike:
        return w._(
            "%(observed)s mentions in one hour against a usual %(baseline)s for this hour of the week; it fires above "
            "%(threshold)s, about %(k)s times the usual spread.",
            observed=w.number(observed), baseline=w.number(baseline), threshold=w.number(threshold),
            k=w.number(n.get("k")),
        )  # fmt: skip
    if kind == RuleKind.negative_surge:
        return w._(
            "%(share)s of %(volume)s mentions in one hour were negative against a usual %(baseline)s over the past "
            "week.",
            share=w.percent(observed), volume=w.number(n.get("volume")), baseline=w.percent(baseline),
        )  # fmt: skip
    if kind == RuleKind.crisis:
        return w._(
            "Crisis score %(score)s (fires at %(threshold)s): %(factor)s times the usual volume, %(negative)s "
            "negative, reach %(reach)s.",
            score=w.number(observed), threshold=w.number(threshold), factor=w.number(n.get("volume_factor")),
            negative=w.percent(n.get("negative_share")), reach=w.number(n.get("reach")),
        )  # fmt: skip
    if kind == RuleKind.influencer:
        return w._(
            "%(count)s author(s) above the follower threshold wrote about this for the first time: %(authors)s.",
            count=w.number(observed), authors=", ".join(str(a) for a in n.get("authors") or []),
        )  # fmt: skip
    return w._("%(count)s mention(s) matched the watched words.", count=w.number(observed))


def term_line(term: Mapping[str, Any], w: Wording) -> str:
    """One driving word: posts containing it in the alert window vs the week before, and the lift."""
    return w._(
        "%(term)s: %(window)s in the alert window vs %(baseline)s the week before (× %(lift)s)",
        term=term.get("term", "?"), window=w.number(term.get("window")), baseline=w.number(term.get("baseline")),
        lift=w.number(term.get("lift")),
    )  # fmt: skip


def sample_line(sample: Mapping[str, Any], w: Wording) -> str:
    """``@author (1.234 followers): snippet`` — the snippet is still untrusted text; callers escape."""
    followers = w._("%(n)s followers", n=w.number(sample.get("followers") or 0))
    return f"@{sample.get('author') or '?'} ({followers}): {sample.get('snippet', '')}"

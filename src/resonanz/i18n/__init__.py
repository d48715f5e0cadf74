"""German and English for pages, e-mails and CLI messages.

The catalogues are the ``.po`` files under ``locale/`` (the only form kept in git); they are
compiled in memory the first time a process asks for a language and cached for its lifetime, so
there is no build step and no stale ``.mo`` file. ``docs/i18n.md`` says how to add strings.

Which language a person sees: their own setting wins, else the browser's Accept-Language (by
q-value), else English. Dates, times and numbers go through Babel so "1.234,5" and "27.11.2026"
come out right in German; times are stored in UTC and shown in the person's time zone.
"""

from __future__ import annotations

import io
import os
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from resonanz.clock import now

LOCALES: Final = ("en", "de")
DEFAULT_LOCALE: Final = "en"
DOMAIN: Final = "messages"
LOCALE_DIR: Final = Path(__file__).parent / "locale"
UTC: Final = ZoneInfo("UTC")


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a string for extraction without translating it yet (module-level labels)."""
    return message


def read_catalogue(locale: str) -> Catalog:
    """``messages.po`` merged with every area catalogue beside it (``listening.po``, ``cases.po``
    …). Why several files: features are built side by side, and one shared file is where their
    changes collide; a msgid present in two files keeps the first one read (``messages.po`` first,
    then the others by name)."""
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    paths = sorted(folder.glob("*.po"), key=lambda p: (p.name != f"{DOMAIN}.po", p.name))
    merged: Catalog | None = None
    for path in paths:
        with path.open("rb") as fh:
            part = read_po(fh, locale=locale, domain=DOMAIN)
        if merged is None:
            merged = part
            continue
        for message in part:
            if message.id and message.id not in merged:
                merged[message.id] = message
    if merged is None:
        raise FileNotFoundError(f"no catalogue in {folder}")
    return merged


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> Translations:
    """The compiled catalogue for ``locale`` (an unknown locale gets English, i.e. the msgids).

    Fuzzy entries are left out, as gettext would: a guess nobody checked is not shown.
    """
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    catalog = read_catalogue(locale)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def _primary(tag: str) -> str:
    return tag.strip().replace("_", "-").split("-", 1)[0].lower()


def negotiate(accept_language: str | None, user_language: str | None = None) -> str:
    """'de' or 'en': the user's setting, else the best Accept-Language match by q-value, else 'en'.

    A malformed header never fails: unreadable parts are skipped.
    """
    if user_language and _primary(user_language) in LOCALES:
        return _primary(user_language)
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((accept_language or "")[:1000].split(",")):
        fields = part.strip().split(";")
        tag = fields[0].strip()
        if not tag or tag == "*":
            continue
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        lang = _primary(tag)
        if lang not in LOCALES or not 0 < q <= 1:
            continue
        candidate = (q, -position, lang)
        if best is None or candidate > best:
            best = candidate
    return best[2] if best else DEFAULT_LOCALE


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone ``name``; an unknown or empty name falls back to UTC rather than failing a page."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _babel_locale(locale: str) -> Locale:
    return Locale.parse(locale if locale in LOCALES else DEFAULT_LOCALE)


def format_datetime(dt: datetime | None, locale: str, tz: str | None = None, *, format: str = "medium") -> str:
    """``dt`` (aware, UTC as stored; a naive value is taken as UTC) in zone ``tz`` per ``locale``."""
    if dt is None:
        return "—"
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return babel_dates.format_datetime(dt, format=format, tzinfo=zone(tz), locale=_babel_locale(locale))


def format_date(value: date | datetime | None, locale: str, tz: str | None = None, *, format: str = "medium") -> str:
    """A calendar date per ``locale``; a datetime is first moved into ``tz`` (the day is the viewer's)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(zone(tz)).date()
    return babel_dates.format_date(value, format=format, locale=_babel_locale(locale))


def format_number(value: float | int | None, locale: str, *, decimals: int | None = None) -> str:
    """``1234.5`` as ``1,234.5`` (en) or ``1.234,5`` (de)."""
    if value is None:
        return "—"
    if decimals is not None:
        fmt = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
        return babel_numbers.format_decimal(value, format=fmt, locale=_babel_locale(locale))
    return babel_numbers.format_decimal(value, locale=_babel_locale(locale))


def format_percent(value: float | None, locale: str) -> str:
    """A share 0..1 as a whole percentage per locale (``12 %`` in German)."""
    if value is None:
        return "—"
    return babel_numbers.format_percent(value, locale=_babel_locale(locale))


def language_name(code: str | None, locale: str) -> str:
    """``"de"`` as "German" / "Deutsch"; an unknown code is shown as it is."""
    if not code:
        return "—"
    return str(_babel_locale(locale).languages.get(code, code))


def format_relative(dt: datetime | None, locale: str, *, reference: datetime | None = None) -> str:
    """ "3 hours ago" / "vor 3 Stunden"; the reference defaults to :func:`resonanz.clock.now`."""
    if dt is None:
        return "—"
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta: timedelta = dt - (reference or now())
    return babel_dates.format_timedelta(delta, add_direction=True, threshold=1.0, locale=_babel_locale(locale))


# --- the command line -------------------------------------------------------------------------


def cli_locale() -> str:
    """The CLI's language: RESONANZ_LANGUAGE, else the POSIX variables (LC_ALL, LC_MESSAGES, LANG)."""
    explicit = os.environ.get("RESONANZ_LANGUAGE")
    if explicit:
        return negotiate(None, explicit)
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return negotiate(value.split(".", 1)[0], None)
    return DEFAULT_LOCALE


def gettext(message: str) -> str:
    """Translate ``message`` into the CLI's language (read from the environment on every call)."""
    return translations(cli_locale()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(cli_locale()).ungettext(singular, plural, n)


_ = gettext

"""German and English: complete catalogues, language negotiation, locale formats, time zones."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from resonanz import i18n
from resonanz.accounts.permissions import Role
from resonanz.cli.main import app as cli_app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.i18n import negotiate, read_catalogue
from tests.web.web_data import ROOT_PUBLISHED, Seeded

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w*)[^{}]*\}")


@cache
def extracted() -> dict[str, list[str]]:
    """msgid -> where it is used, exactly as `pybabel extract -F babel.cfg .` finds them."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(ROOT, method_map, options_map):
        msgid = message if isinstance(message, str) else message[0]
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def catalogue(locale: str) -> dict[str, object]:
    cat = read_catalogue(locale)
    return {(m.id if isinstance(m.id, str) else m.id[0]): m for m in cat if m.id}


def test_every_string_in_code_and_templates_has_a_german_translation() -> None:
    used = extracted()
    assert len(used) > 100  # the extractor really read the templates and the code
    german = catalogue("de")
    problems = []
    for msgid, where in sorted(used.items()):
        entry = german.get(msgid)
        if entry is None:
            problems.append(f"missing: {msgid!r} ({where[0]})")
            continue
        strings = [entry.string] if isinstance(entry.string, str) else list(entry.string)  # type: ignore[attr-defined]
        if not all(strings):
            problems.append(f"untranslated: {msgid!r} ({where[0]})")
        if entry.fuzzy:  # type: ignore[attr-defined]
            problems.append(f"fuzzy: {msgid!r}")
        for text in strings:
            if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(msgid)):
                problems.append(f"placeholders differ: {msgid!r} -> {text!r}")
    assert not problems, "run the steps in docs/i18n.md:\n" + "\n".join(problems)


def test_the_english_catalogue_lists_the_same_strings() -> None:
    assert set(extracted()) <= set(catalogue("en")), "run `pybabel update` as docs/i18n.md says"


@pytest.mark.parametrize(
    ("header", "user", "expected"),
    [
        (None, None, "en"),
        ("de-DE,de;q=0.9,en;q=0.8", None, "de"),
        ("en-US,en;q=0.9,de;q=0.8", None, "en"),
        ("fr-FR, de;q=0.7, en;q=0.5", None, "de"),
        ("fr-FR, en;q=0.5, de;q=0.7", None, "de"),
        ("de;q=0, en;q=0.1", None, "en"),
        ("*", None, "en"),
        ("de_AT", None, "de"),
        ("de;q=abc, en", None, "en"),
        (";;,,,q=1", None, "en"),
        ("en", "de", "de"),  # the person's setting wins
        ("de", "en", "en"),
        ("de", "fr", "de"),  # an unsupported setting is ignored
        ("x" * 5000, None, "en"),
    ],
)
def test_negotiate(header: str | None, user: str | None, expected: str) -> None:
    assert negotiate(header, user) == expected


def test_dates_and_numbers_per_locale_and_zone() -> None:
    dt = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    assert i18n.format_datetime(dt, "de", "Europe/Berlin", format="short") == "21.11.26, 00:30"
    assert i18n.format_datetime(dt, "en", "America/New_York", format="short") == "11/20/26, 6:30\u202fPM"
    assert i18n.format_datetime(dt, "en", "Not/AZone", format="short") == "11/20/26, 11:30\u202fPM"  # falls back to UTC
    assert i18n.format_date(dt, "de", "Europe/Berlin") == "21.11.2026"
    assert i18n.format_number(1234567.5, "de") == "1.234.567,5"
    assert i18n.format_number(1234567.5, "en") == "1,234,567.5"
    assert i18n.format_percent(0.125, "de") == "12\xa0%"
    later = datetime(2026, 11, 21, 2, 30, tzinfo=UTC)
    assert i18n.format_relative(dt, "de", reference=later) == "vor 3 Stunden"
    assert i18n.format_relative(dt, "en", reference=later) == "3 hours ago"


def test_catalogues_compile_once_per_process() -> None:
    assert i18n.translations("de") is i18n.translations("de")
    assert i18n.translations("de").ugettext("Mentions") == "Erwähnungen"
    assert i18n.translations("xx").ugettext("Mentions") == "Mentions"


def test_accept_language_picks_german_for_a_person_without_a_setting(
    client_as: Callable[..., TestClient], seeded: Seeded
) -> None:
    client = client_as(Role.viewer)
    html = client.get("/mentions", headers={"Accept-Language": "de-DE,de;q=0.9"}).text
    assert '<html lang="de">' in html
    assert ">Erwähnungen</a>" in html and "Zum Inhalt springen" in html
    english = client.get("/mentions", headers={"Accept-Language": "en-GB"})
    assert '<html lang="en">' in english.text and english.headers["content-language"] == "en"


def test_the_persons_setting_wins_over_the_browser(client_as: Callable[..., TestClient], seeded: Seeded) -> None:
    client = client_as(Role.viewer, language="de")
    response = client.get("/", headers={"Accept-Language": "en-US,en"})
    assert '<html lang="de">' in response.text and response.headers["content-language"] == "de"
    assert "Negativer Anteil" in response.text
    assert "Abmelden" in response.text  # the user menu's sign-out


def test_search_error_in_german(client_as: Callable[..., TestClient]) -> None:
    client = client_as(Role.viewer, language="de")
    response = client.get("/mentions", params={"q": 'bahn "x'})
    assert response.status_code == 400
    assert "Die Suche hat einen Fehler an Stelle 6: ein Anführungszeichen ist nicht geschlossen" in response.text


def test_times_are_shown_in_the_persons_time_zone(client_as: Callable[..., TestClient], seeded: Seeded) -> None:
    berlin = client_as(Role.viewer, language="de", time_zone="Europe/Berlin")
    new_york = client_as(Role.viewer, language="en", time_zone="America/New_York")
    url = f"/mentions/{seeded.root_id}"
    assert ROOT_PUBLISHED.hour == 23
    page = berlin.get(url).text
    assert "21. November 2026, 00:30:00 MEZ" in page
    assert re.search(r"MEZ</time> \((vor|in) \d+ \w+\)", page)  # and how long ago, in German
    assert "November 20, 2026, 6:30:00\u202fPM EST" in new_york.get(url).text
    listing = berlin.get("/mentions", params={"author": "anna"}).text
    assert f'datetime="{ROOT_PUBLISHED.isoformat()}"' in listing and "21.11.26, 00:30" in listing


def test_numbers_on_pages_follow_the_locale(client_as: Callable[..., TestClient], seeded: Seeded) -> None:
    html = client_as(Role.viewer, language="de").get(f"/mentions/{seeded.root_id}").text
    assert "1.200" in html  # the author's followers


def test_cli_language_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("RESONANZ_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    assert i18n.cli_locale() == "en"
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    assert i18n.cli_locale() == "de" and i18n.gettext("Mentions") == "Erwähnungen"
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    assert i18n.cli_locale() == "de"  # C means "no preference", so LANG still counts
    monkeypatch.setenv("RESONANZ_LANGUAGE", "en")
    assert i18n.cli_locale() == "en" and i18n.gettext("Mentions") == "Mentions"


def test_language_names_follow_the_locale(client_as: Callable[..., TestClient], seeded: Seeded) -> None:
    german = client_as(Role.viewer, language="de").get("/mentions").text
    assert '<option value="en">Englisch</option>' in german
    english = client_as(Role.viewer, language="en").get(f"/mentions/{seeded.root_id}").text
    assert 'data-analysis="language">German' in english


def test_cli_error_output_follows_resonanz_language(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    base = ["--database-url", settings.database_url or "", "--data-dir", str(settings.data_dir)]
    monkeypatch.setenv("RESONANZ_LANGUAGE", "de")
    result = runner.invoke(cli_app, [*base, "mentions", "show", "424242"], catch_exceptions=False)
    assert result.exit_code == 3 and result.output.startswith("Fehler: ")
    monkeypatch.setenv("RESONANZ_LANGUAGE", "en")
    result = runner.invoke(cli_app, [*base, "mentions", "show", "424242"], catch_exceptions=False)
    assert result.exit_code == 3 and result.output.startswith("error: ")


def test_no_gettext_call_hides_inside_an_f_string() -> None:
    """Babel's extractor does not look inside f-strings, so ``f"{_('x')}"`` would never reach the
    catalogue (and stay English): translate outside the f-string."""
    offenders = []
    for path in sorted((ROOT / "src" / "resonanz").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                for inner in ast.walk(node):
                    if (
                        isinstance(inner, ast.Call)
                        and isinstance(inner.func, ast.Name)
                        and inner.func.id in {"_", "gettext", "ngettext", "N_"}
                        and inner.args
                        and isinstance(inner.args[0], ast.Constant)
                    ):
                        offenders.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert not offenders, offenders

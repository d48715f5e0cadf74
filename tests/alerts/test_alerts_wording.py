"""Alerts worded per reader (issue 5): the facts stored on an alert read in German and English
with Babel's formats, old English titles migrate to their scope, and the report digest lists the
period's alerts in the report's language."""

from __future__ import annotations

import importlib

import pytest

from resonanz.listening.alerts.wording import headline, summary, wording
from resonanz.reports.texts import texts

EXP = {"observed": 1234.5, "baseline": 0.25, "threshold": 7.5, "numbers": {"k": 3, "volume": 4200,
       "volume_factor": 2.5, "negative_share": 0.42, "reach": 1200000, "authors": ["@a", "@b"]}}  # fmt: skip
migration = importlib.import_module("resonanz.db.migrations.versions.0015_alert_titles_as_facts")


@pytest.mark.parametrize(
    ("kind", "lang", "expected"),
    [
        ("volume_spike", "de", "1.234,5 Erwähnungen in einer Stunde gegenüber üblichen 0,25"),
        ("volume_spike", "en", "1,234.5 mentions in one hour against a usual 0.25"),
        ("negative_surge", "en", "123,450% of 4,200 mentions"),
        ("crisis", "de", "Reichweite 1.200.000"),
        ("influencer", "en", "wrote about this for the first time: @a, @b."),
        ("keyword", "de", "1.234,5"),
    ],
)
def test_summary_is_worded_and_formatted_per_language(kind: str, lang: str, expected: str) -> None:
    assert expected in summary(kind, EXP, wording(lang, "Europe/Berlin"))


def test_unknown_language_and_zone_fall_back_and_plugin_kinds_show_as_they_are() -> None:
    w = wording("fr", "Nowhere/Land")
    assert (w.lang, w.tz) == ("en", "UTC")
    assert headline("volume_spike", "Nordwelle", wording("de")) == "Volumenspitze: Nordwelle"
    assert headline("plugin_kind", "X", w) == "plugin_kind: X"


@pytest.mark.parametrize(
    ("title", "scope"),
    [
        ("Volume spike: Nordwelle — 60 mentions in the hour against a usual 2.", "Nordwelle"),
        ("Crisis score: A: B — Crisis score 3 (fires at 2): 5 mentions.", "A: B"),
        ("Nordwelle", None),  # already a scope
        ("Something: else — here", None),  # not one of the old kind titles
    ],
)
def test_old_english_titles_migrate_to_their_scope(title: str, scope: str | None) -> None:
    assert migration.legacy_scope(title) == scope


def test_report_digest_names_alerts_in_the_report_language() -> None:
    assert texts("de", "Europe/Berlin").alert("negative_surge", "Nordwelle").endswith(": Nordwelle")
    assert texts("de", "UTC").alert("volume_spike", "N") == "Volumenspitze: N"
    assert texts("en", "UTC").alert("volume_spike", "N") == "Volume spike: N"

"""The stylesheet's text/background pairs meet WCAG AA (4.5:1 for normal text), computed from the
colours actually declared in resonanz.css, so a palette change that hurts legibility fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from resonanz.web import STATIC_DIR

CSS = (STATIC_DIR / "resonanz.css").read_text(encoding="utf-8")
VARS = dict(re.findall(r"--(c-[\w-]+):\s*(#[0-9a-fA-F]{6})", CSS))

#: (foreground, background) as used together in the stylesheet
PAIRS = [
    ("c-text", "c-bg"),
    ("c-text", "c-surface"),
    ("c-muted", "c-surface"),
    ("c-muted", "c-bg"),
    ("c-link", "c-surface"),
    ("c-link", "c-bg"),
    ("c-link", "c-primary-soft"),
    ("c-primary-text", "c-primary"),
    ("c-danger", "c-danger-soft"),
    ("c-ok", "c-ok-soft"),
    ("c-warn", "c-warn-soft"),
    ("c-text", "c-primary-soft"),
    ("c-danger", "c-surface"),
]


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_formula() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48  # the classic just-failing grey


@pytest.mark.parametrize(("fg", "bg"), PAIRS)
def test_text_pairs_meet_aa(fg: str, bg: str) -> None:
    assert contrast(VARS[fg], VARS[bg]) >= 4.5, f"{fg} on {bg}"


def test_neutral_badge_and_focus_ring() -> None:
    assert contrast("#374151", VARS["c-neutral-soft"]) >= 4.5  # .badge text
    assert contrast(VARS["c-focus"], VARS["c-surface"]) >= 3  # non-text contrast of the focus outline


def test_no_external_resources_in_the_stylesheet() -> None:
    assert "@import" not in CSS and "http" not in CSS and "//" not in re.sub(r"/\*.*?\*/", "", CSS, flags=re.S)
    assert Path(STATIC_DIR / "favicon.svg").is_file()

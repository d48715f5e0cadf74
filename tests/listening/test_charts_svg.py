"""The SVG renderers: well-formed XML, accessible (role, title, desc, a title per point), nothing a
CSP blocks (no style attributes, no script, no event handlers), text escaped, and a standalone
variant that needs no stylesheet."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from resonanz.listening.charts import Series, bar_list, line_chart, stacked_bar_chart

SVG = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script>&'


def _all(standalone: bool) -> list[str]:
    labels = ["Mo", "Di", EVIL]
    return [
        line_chart(
            [Series(EVIL, [1, 5, 2]), Series("b", [0, 2, 7], "s1")],
            labels,
            title=EVIL,
            desc="d",
            hrefs=["/mentions?a=1&b=2", None, '/x"y'],
            standalone=standalone,
        ),
        stacked_bar_chart(
            [Series("pos", [1, 0, 3], "positive"), Series("neg", [2, 2, 0], "negative")],
            labels,
            title="t",
            desc=EVIL,
            hrefs=["/m?x=1", "/m?x=2", "/m?x=3"],
            standalone=standalone,
        ),
        bar_list([(EVIL, 3, "/m?q=%22a%22"), ("b", 0, None)], title="t", desc="d", standalone=standalone),
        line_chart([], [], title="empty", desc="d", standalone=standalone),
        bar_list([], title="empty", desc="d", standalone=standalone),
    ]


@pytest.mark.parametrize("standalone", [False, True])
def test_charts_are_well_formed_accessible_and_csp_safe(standalone: bool) -> None:
    for svg in _all(standalone):
        root = ET.fromstring(svg)
        assert root.tag == SVG + "svg" and root.get("role") == "img"
        title, desc = root.find(SVG + "title"), root.find(SVG + "desc")
        assert title is not None and desc is not None
        assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        for el in root.iter():
            assert "style" not in el.attrib
            assert not any(name.startswith("on") for name in el.attrib)
            assert el.tag != SVG + "script"
        assert "<script>" not in svg
        if standalone:
            assert "class=" not in svg and "data-href" not in svg
        else:
            assert 'fill="#' not in svg.replace('fill="#ffffff" fill-opacity="0"', "")


def test_points_carry_their_numbers_and_click_through() -> None:
    line, stacked, bars, *_ = _all(False)
    root = ET.fromstring(line)
    hits = [g for g in root.iter(SVG + "g") if g.get("class") == "rz-hit"]
    assert len(hits) == 3
    tips = [g.find(SVG + "title").text for g in hits]  # type: ignore[union-attr]
    assert tips[1] == f"Di: {EVIL} 5, b 2"
    assert [g.get("data-href") for g in hits] == ["/mentions?a=1&b=2", None, '/x"y']
    assert all(g.get("tabindex") == "0" and g.get("data-tip") for g in hits)
    segs = [g for g in ET.fromstring(stacked).iter(SVG + "g") if g.get("class") == "rz-hit"]
    # zero segments are not drawn: 4 of the 6 values are positive
    assert [g.get("data-tip") for g in segs] == [
        "Mo: pos 1 / 3",
        "Mo: neg 2 / 3",
        "Di: neg 2 / 2",
        f"{EVIL}: pos 3 / 3",
    ]
    rows = [g for g in ET.fromstring(bars).iter(SVG + "g") if g.get("class") == "rz-hit"]
    assert rows[0].get("data-href") == "/m?q=%22a%22" and rows[1].get("data-href") is None


def test_scale_and_deterministic_ids() -> None:
    a = line_chart([Series("x", [0.5, -0.5])], ["1", "2"], title="t", desc="d", y_min=-1, y_max=1)
    assert a == line_chart([Series("x", [0.5, -0.5])], ["1", "2"], title="t", desc="d", y_min=-1, y_max=1)
    points = re.search(r'points="([^"]+)"', a)
    assert points is not None
    ys = [float(p.split(",")[1]) for p in points.group(1).split()]
    assert ys[0] < ys[1]  # +0.5 is drawn above -0.5
    other = line_chart([Series("x", [1])], ["1"], title="t2", desc="d")
    assert re.search(r'id="([^"]+)-t"', a).group(1) != re.search(r'id="([^"]+)-t"', other).group(1)  # type: ignore[union-attr]

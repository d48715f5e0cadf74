"""Reports in a real browser: on the demo workspace an analyst generates the weekly report of a
week with data and downloads its PDF; the PDF carries the key numbers and the chart labels."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from resonanz.demo.reports import DEMO_REPORT


def test_generate_and_download_the_weekly_pdf(signed_in: Callable[..., Page]) -> None:
    page = signed_in("analyst")
    page.goto("/reports")
    row = page.locator("[data-reports] tr", has_text=DEMO_REPORT)
    expect(row).to_have_count(1)
    row.locator("input[type=date]").fill("2026-10-07")  # the week of the demo's outage
    row.get_by_role("button", name="Generate now").click()
    expect(page).to_have_url(re.compile(r"/reports\?generated=\d+"))
    link = page.locator("[data-generated] a[data-download]")
    expect(link).to_be_visible()
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "Nordwelle-Wochenbericht-2026-10-05.pdf"
    path = download.path()
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "Wochenbericht" in text and "5.–11. Okt. 2026" in text
    numbers = re.search(r"Erwähnungen\n([\d.]+)\n", text)
    assert numbers is not None and int(numbers.group(1).replace(".", "")) > 0
    assert "5. Okt." in text  # the first x-axis label of the volume chart (the dashboards' SVG)
    run_row = page.locator("[data-runs] tr[data-status=generated]").first
    expect(run_row).to_contain_text(DEMO_REPORT)

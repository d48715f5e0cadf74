"""Proof that untrusted post content never runs as script in the browser.

A corpus of XSS payloads (tests/browser/browser_xss_corpus.py) was imported through the real
import path into every field a page shows. Here an admin (who sees the most: the raw payload too)
opens the explorer list and every one of those mentions. Three independent checks:

- a trap installed before any page script: every payload would set ``window.__xss`` (a setter
  records it) or open a dialog (``page.on("dialog")`` records it); neither may happen;
- the DOM holds no live markup from a payload: no inline script, no ``on*`` handler attribute, no
  ``javascript:``/``data:`` URL, no iframe/object/embed/base element — this proves the escaping
  itself, not only the Content-Security-Policy behind it;
- no CSP violation was reported (a violation means markup got through and only the CSP saved us),
  and the CSP header is present and forbids inline script.
"""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Dialog, Page

from tests.browser.conftest import Workspace

TRAP = """
(() => {
  const hits = [];
  Object.defineProperty(window, "__xss", {
    configurable: false,
    get() { return hits.length; },
    set(value) { hits.push(String(value)); },
  });
  window.__xssHits = hits;
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
  });
})();
"""

LIVE_MARKUP = """
() => {
  const bad = [];
  const urlAttrs = ["href", "src", "action", "formaction", "data", "srcdoc", "xlink:href", "poster", "background"];
  for (const el of document.querySelectorAll("*")) {
    const tag = el.tagName.toLowerCase();
    if (["iframe", "object", "embed", "base", "frame", "frameset", "applet"].includes(tag)) bad.push("element " + tag);
    if (tag === "script" && !(el.getAttribute("src") || "").startsWith("/static/")) bad.push("inline script");
    if (tag === "meta" && el.getAttribute("http-equiv")) bad.push("meta http-equiv");
    if (tag === "style" || (tag === "link" && !(el.getAttribute("href") || "").startsWith("/static/"))) {
      bad.push("foreign " + tag);
    }
    for (const attr of el.attributes) {
      if (attr.name.startsWith("on")) bad.push(tag + " " + attr.name);
      if (attr.name === "style") bad.push(tag + " style attribute");
      if (urlAttrs.includes(attr.name) && /^\\s*(javascript|vbscript|data):/i.test(attr.value)) {
        bad.push(tag + " " + attr.name + "=" + attr.value.slice(0, 40));
      }
    }
  }
  return bad;
}
"""


def findings(page: Page) -> dict[str, list[str]]:
    """Everything the three detectors saw on the current page, in one round trip."""
    return page.evaluate(f"() => ({{hits: window.__xssHits, csp: window.__cspViolations, markup: ({LIVE_MARKUP})()}})")


CLEAN: dict[str, list[str]] = {"hits": [], "csp": [], "markup": []}


def open_checked(page: Page, path: str, dialogs: list[str]) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    csp = response.headers.get("content-security-policy", "")
    script_src = next((d for d in csp.split(";") if d.strip().startswith("script-src")), "")
    assert script_src and "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, csp
    page.wait_for_load_state("load")
    # give payloads with autofocus / onfocus / details ontoggle a chance to fire
    page.keyboard.press("Tab")
    page.mouse.move(200, 300)
    page.mouse.move(700, 500)
    assert findings(page) == CLEAN, path
    assert dialogs == [], path


def test_no_payload_runs_in_the_explorer_list_or_on_any_detail_page(
    signed_in: Callable[..., Page], workspace: Workspace
) -> None:
    page = signed_in("admin")
    page.context.add_init_script(TRAP)
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)

    # the list: search for the corpus, all pages of it (100 per page), and a search full of payloads
    open_checked(page, "/mentions?q=XSS&limit=100", dialogs)
    listed = set(page.locator("[data-mention-id]").evaluate_all("rs => rs.map(r => Number(r.dataset.mentionId))"))
    assert set(workspace.xss_mention_ids) <= listed, "every XSS mention must have been on the list"
    open_checked(
        page, "/mentions?q=%3Cscript%3Ewindow.__xss%3D1%3C%2Fscript%3E&author=%22%3E%3Csvg%20onload%3D1%3E", dialogs
    )

    for mention_id in workspace.xss_mention_ids:
        open_checked(page, f"/mentions/{mention_id}", dialogs)
        raw = page.locator("[data-raw]")
        if raw.count():
            raw.locator("summary").click()  # the raw payload is shown to admins: open it too
            assert findings(page) == CLEAN, mention_id

    # the trap itself works: a real script on this origin setting the flag is seen
    page.evaluate("window.__xss = 1")
    assert page.evaluate("window.__xssHits") == ["1"]


def test_the_detectors_catch_a_planted_payload(signed_in: Callable[..., Page]) -> None:
    """The checks above can fail: markup planted into a real page trips all three of them."""
    page = signed_in("admin")
    page.context.add_init_script(TRAP)
    page.goto("/mentions?limit=25")
    page.evaluate(
        """document.querySelector("main").insertAdjacentHTML("beforeend",
        '<img src=x onerror="window.__xss=1"><a href="javascript:window.__xss=2">x</a>')"""
    )
    page.wait_for_function("window.__cspViolations.length > 0")
    found = findings(page)["markup"]
    assert "img onerror" in found and any(f.startswith("a href=javascript:") for f in found)
    page.evaluate("window.__xss = 'planted'")  # what an executed payload does
    assert page.evaluate("window.__xssHits") == ["planted"]

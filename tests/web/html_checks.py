"""What the HTML of a page actually contains, read with the standard library's HTML parser (so a
payload that is escaped text is told apart from one that became a tag or an attribute)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

ALLOWED_SCHEMES = ("http://", "https://", "mailto:", "/", "#", "?")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "srcdoc", "background", "poster"}


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    scripts: list[str | None] = field(default_factory=list)  # src of every <script>


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = Findings()
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script":
            self.found.scripts.append(names.get("src"))
            self._in_script = True
        if tag in {"style", "iframe", "object", "embed", "base", "svg", "math", "img"}:
            self.found.problems.append(f"<{tag}> element")
        if tag == "meta" and "http-equiv" in names:
            self.found.problems.append("<meta http-equiv>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.problems.append(f"event handler {name}= on <{tag}>")
            if name == "style":
                self.found.problems.append(f"style= on <{tag}>")
            if name in URL_ATTRIBUTES and value is not None:
                compact = "".join(value.split()).lower()
                if not compact.startswith(ALLOWED_SCHEMES):
                    self.found.problems.append(f"{name}={value!r} on <{tag}>")

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.problems.append("inline script")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def check(html: str) -> Findings:
    """Everything in ``html`` that could run code or that the CSP would refuse."""
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return checker.found

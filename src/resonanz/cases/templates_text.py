"""Reply templates: ``{variable}`` placeholders filled from a case (pure).

Why not ``str.format``: a template is written by a person in a browser, so ``{0}``,
``{x.__class__}`` or ``{a[b]}`` must never reach Python's formatting machinery. The syntax here is
exactly ``{name}`` with a known ``name``; ``{{`` and ``}}`` write literal braces. Anything else is an
:class:`~resonanz.errors.InputError` naming every unknown variable at once, with the list of the
known ones, so the author can fix the template in one go.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from resonanz.errors import InputError

#: the variables a template may use, with what each one is (shown in the template editor)
VARIABLES: dict[str, str] = {
    "author_name": "the customer's display name (else their handle)",
    "author_handle": "the customer's handle on the platform",
    "case_id": "the case number",
    "agent_name": "the name of the colleague who answers",
    "subject": "the case's subject",
    "platform": "the platform the customer wrote on",
    "brand": "the case's brand",
}

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def variables_in(template: str) -> list[str]:
    """Names used in ``template``, in order of first use (unknown ones included)."""
    seen: list[str] = []
    for m in _TOKEN.finditer(template):
        name = m.group(1)
        if name is not None and name.strip() not in seen:
            seen.append(name.strip())
    return seen


def check_template(template: str) -> None:
    """Raise InputError when ``template`` uses unknown variables or has a lone brace."""
    unknown = [name for name in variables_in(template) if name not in VARIABLES]
    if unknown:
        names = ", ".join("{" + n + "}" for n in unknown)
        known = ", ".join("{" + n + "}" for n in VARIABLES)
        noun = "variable" if len(unknown) == 1 else "variables"
        raise InputError(f"unknown template {noun} {names}; known: {known}", location="body")
    for m in _TOKEN.finditer(template):
        if m.group() in ("{", "}"):
            raise InputError(
                f"lone '{m.group()}' at character {m.start() + 1}: write {{{{ or }}}} for a literal brace",
                location="body",
            )


def render_template(template: str, values: Mapping[str, str | int | None]) -> str:
    """``template`` with every ``{name}`` replaced by ``values[name]`` (missing or None -> "")."""
    check_template(template)

    def replace(m: re.Match[str]) -> str:
        piece = m.group()
        if piece == "{{":
            return "{"
        if piece == "}}":
            return "}"
        value = values.get((m.group(1) or "").strip())
        return "" if value is None else str(value)

    return _TOKEN.sub(replace, template)

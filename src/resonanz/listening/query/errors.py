"""The one error a query's text can raise, with its column and a hint."""

from __future__ import annotations

from resonanz.errors import InputError


class QuerySyntaxError(InputError):
    """A query that cannot be used, and where: ``column`` is 1-based in the query text, so a
    caller can print a caret under it (:meth:`caret`). ``str()`` reads
    "column 14: NEAR/ needs a number (e.g. NEAR/3)"."""

    def __init__(self, message: str, *, column: int, query: str, hint: str | None = None) -> None:
        self.column = column
        self.query = query
        self.hint = hint
        super().__init__(f"{message} ({hint})" if hint else message, location=f"column {column}")

    def caret(self) -> str:
        """The query and a caret under the column, for terminals and error pages."""
        return f"{self.query}\n{' ' * (self.column - 1)}^"

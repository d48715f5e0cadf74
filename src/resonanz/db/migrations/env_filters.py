"""What autogenerate compares (shared by env.py and the schema test)."""

from __future__ import annotations

#: Search-index tables are created by hand per engine (see 0001); autogenerate must not touch them.
SEARCH_TABLES = ("mention_fts", "mention_search")


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "table" and name is not None and name.startswith(SEARCH_TABLES))

"""What autogenerate compares (shared by env.py and the schema test)."""

from __future__ import annotations

#: Search-index tables are created by hand per engine (see 0001); autogenerate must not touch them.
SEARCH_TABLES = ("mention_fts", "mention_search")
#: Expression indexes made by hand per engine (see 0004); autogenerate cannot compare them.
EXPRESSION_INDEXES = ("ix_mention_engagement",)


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    if type_ == "index" and name in EXPRESSION_INDEXES:
        return False
    return not (type_ == "table" and name is not None and name.startswith(SEARCH_TABLES))

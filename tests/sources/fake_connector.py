"""A connector for tests of the pipeline: it 'fetches' whatever the test put in a class-level
queue, so pull, health, quarantine and replay can be tested without any platform."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from pydantic import BaseModel

from resonanz.connectors.base import Connector, PullResult, RawItem
from resonanz.errors import ParseError
from resonanz.hookspecs import hookimpl
from resonanz.mentions.schemas import MentionIn
from resonanz.plugins import get_plugin_manager


class FakeConfig(BaseModel):
    label: str = "fake"


class FakeConnector(Connector):
    kind = "fake"
    title = "Fake (tests)"
    platform = "fake"
    Config = FakeConfig
    script: ClassVar[list[PullResult | Exception]] = []
    strict: ClassVar[bool] = True

    def pull(self, cursor: dict[str, Any]) -> PullResult:
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    @classmethod
    def parse(cls, item: RawItem) -> MentionIn:
        data = json.loads(item.payload)
        if cls.strict and "text" not in data:
            raise ParseError("field 'text' is missing", location=item.location)
        return MentionIn(
            platform="fake",
            external_id=str(data["id"]),
            text=data.get("text", ""),
            published_at=data.get("published_at", "2026-01-01T00:00:00Z"),
            parent_external_id=data.get("parent"),
        )


def raw(i: int, **fields: Any) -> RawItem:
    payload = {"id": i, "text": f"Beitrag Nummer {i} über den Kundenservice", **fields}
    return RawItem(payload=json.dumps(payload).encode(), location=f"item {i}")


class _Plugin:
    @hookimpl
    def register_connectors(self) -> list[type[Connector]]:
        return [FakeConnector]


@contextmanager
def fake_connector_registered() -> Iterator[type[FakeConnector]]:
    pm = get_plugin_manager()
    plugin = _Plugin()
    pm.register(plugin, name="fake-connector")
    FakeConnector.script.clear()
    FakeConnector.strict = True
    try:
        yield FakeConnector
    finally:
        pm.unregister(plugin)

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sources.fake_connector import FakeConnector, fake_connector_registered


@pytest.fixture
def fake() -> Iterator[type[FakeConnector]]:
    with fake_connector_registered() as cls:
        yield cls

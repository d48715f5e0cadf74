"""Every registered connector honours the contract in resonanz.connectors.base and is documented."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from resonanz.connectors.base import Connector
from resonanz.connectors.registry import connector_classes

CONNECTORS = sorted(connector_classes().items())


def test_builtin_connectors_are_registered() -> None:
    assert {"feed", "file", "webhook"} <= {kind for kind, _ in CONNECTORS}


@pytest.mark.parametrize(("kind", "cls"), CONNECTORS, ids=[k for k, _ in CONNECTORS])
def test_contract(kind: str, cls: type[Connector]) -> None:
    assert issubclass(cls, Connector) and not inspect.isabstract(cls)
    assert cls.kind == kind and cls.title and cls.platform
    assert issubclass(cls.Config, BaseModel)
    assert isinstance(inspect.getattr_static(cls, "parse"), classmethod), "parse must be a pure classmethod"
    assert isinstance(inspect.getattr_static(cls, "split"), classmethod)


@pytest.mark.parametrize(("kind", "cls"), CONNECTORS, ids=[k for k, _ in CONNECTORS])
def test_documented(kind: str, cls: type[Connector]) -> None:
    module_file = sys.modules[cls.__module__].__file__
    assert module_file is not None
    description = Path(module_file).with_name("DESCRIPTION.md")
    assert description.exists(), f"{kind}: write {description}"
    text = description.read_text(encoding="utf-8")
    assert len(text) > 400 and text.count("\n## ") >= 2, f"{kind}: DESCRIPTION.md needs real sections"
    for field in cls.Config.model_fields:
        assert field in text, f"{kind}: DESCRIPTION.md does not explain setting {field!r}"

"""Find connector classes by kind through the plugin manager (built-ins register the same way)."""

from __future__ import annotations

from resonanz.connectors.base import Connector
from resonanz.errors import ConfigError
from resonanz.plugins import get_plugin_manager


def connector_classes() -> dict[str, type[Connector]]:
    found: dict[str, type[Connector]] = {}
    for group in get_plugin_manager().hook.register_connectors():
        for cls in group:
            found[cls.kind] = cls
    return found


def connector_class(kind: str) -> type[Connector]:
    classes = connector_classes()
    try:
        return classes[kind]
    except KeyError:
        known = ", ".join(sorted(classes)) or "none"
        raise ConfigError(f"unknown source kind {kind!r} (known: {known})") from None

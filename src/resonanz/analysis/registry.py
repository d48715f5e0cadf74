"""Find stages through the plugin manager and put them in an order that honours ``requires``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from resonanz.analysis.stages.base import Stage
from resonanz.errors import ConfigError
from resonanz.plugins import get_plugin_manager


def stage_classes() -> dict[str, type[Stage]]:
    found: dict[str, type[Stage]] = {}
    for group in get_plugin_manager().hook.register_stages():
        for cls in group:
            found[cls.name] = cls
    return found


def order_stages(classes: Iterable[type[Stage]]) -> list[type[Stage]]:
    """A topological order (ties by name, so it is stable); a missing requirement or a cycle is a
    ConfigError that names the stages involved."""
    by_name = {c.name: c for c in classes}
    for cls in by_name.values():
        missing = [r for r in cls.requires if r not in by_name]
        if missing:
            raise ConfigError(f"stage {cls.name!r} requires {', '.join(missing)}, which is not enabled")
    ordered: list[type[Stage]] = []
    done: set[str] = set()
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = " -> ".join([*visiting[visiting.index(name) :], name])
            raise ConfigError(f"stages require each other in a cycle: {cycle}")
        visiting.append(name)
        for req in sorted(by_name[name].requires):
            visit(req)
        visiting.pop()
        done.add(name)
        ordered.append(by_name[name])

    for name in sorted(by_name):
        visit(name)
    return ordered


def resolve(names: Sequence[str] | None = None) -> list[type[Stage]]:
    """The named stages plus everything they require, ordered; all registered stages by default."""
    available = stage_classes()
    if names is None:
        return order_stages(available.values())
    wanted: dict[str, type[Stage]] = {}
    queue = list(names)
    while queue:
        name = queue.pop()
        if name in wanted:
            continue
        if name not in available:
            known = ", ".join(sorted(available)) or "none"
            raise ConfigError(f"unknown analysis stage {name!r} (known: {known})")
        wanted[name] = available[name]
        queue.extend(available[name].requires)
    return order_stages(wanted.values())

"""The plugin manager: built-in plugins first, then the ``resonanz`` entry-point group."""

from __future__ import annotations

import functools

import pluggy

from resonanz import hookspecs

BUILTIN_PLUGINS = (
    "resonanz.connectors.builtin",
    "resonanz.analysis.builtin",
    "resonanz.listening.rollups_plugin",
    "resonanz.cases.intake_plugin",
    "resonanz.notifications.builtin",
)


@functools.cache
def get_plugin_manager() -> pluggy.PluginManager:
    import importlib

    pm = pluggy.PluginManager("resonanz")
    pm.add_hookspecs(hookspecs)
    for name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    pm.load_setuptools_entrypoints("resonanz")
    return pm

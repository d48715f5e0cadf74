"""The classification tasks a person can train and evaluate (``resonanz models train|evaluate``).

Each task lives in its own module under :mod:`resonanz.analysis.classifiers` and exposes ``TASK``,
an object with this shape; the CLI finds it by name here.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from resonanz.errors import ConfigError

ARTIFACTS = Path(__file__).with_name("artifacts")

TASK_MODULES = {
    "language": "resonanz.analysis.classifiers.language",
    "sentiment": "resonanz.analysis.classifiers.sentiment",
    "intent": "resonanz.analysis.classifiers.intent",
    "offensive": "resonanz.analysis.classifiers.offensive",
}

#: tiers a task may offer; tasks with one model treat every tier the same
TIERS = ("fast", "accurate", "cascade")


class Example(Protocol):
    text: str
    label: str
    lang: str | None


class Task(Protocol):
    name: str
    labels: tuple[str, ...]

    def predict(self, texts: Sequence[str], langs: Sequence[str | None], *, tier: str = "cascade") -> list[str]:
        """One label per text."""

    def train(
        self, data_dir: Path, *, out_dir: Path, feedback: Sequence[tuple[str, str, str | None]]
    ) -> dict[str, Any]:
        """Train from ``data_dir`` (+ people's corrections: text, label, lang), write the artifact to
        ``out_dir``, return the dev-set report (what docs/models.md records)."""


def get_task(name: str) -> Task:
    try:
        module = importlib.import_module(TASK_MODULES[name])
    except KeyError:
        raise ConfigError(f"unknown task {name!r} (known: {', '.join(TASK_MODULES)})") from None
    task: Task = module.TASK
    return task


def available_tasks() -> list[str]:
    found = []
    for name, module in TASK_MODULES.items():
        try:
            importlib.import_module(module)
        except ModuleNotFoundError:
            continue
        found.append(name)
    return found

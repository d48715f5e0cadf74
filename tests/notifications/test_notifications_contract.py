"""Every registered notifier keeps the contract and is documented in docs/alerts.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from resonanz.config import Settings
from resonanz.notifications.base import DeliveryStatus, Notification, build_notifier, notifier_classes

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "alerts.md").read_text(encoding="utf-8")
#: a config each kind accepts, pointing nowhere reachable (port 9, the discard port, closed here)
SAMPLE = {"email": {"to": ["a@example.test"]}, "webhook": {"url": "http://127.0.0.1:9/h", "timeout_s": 1}}


@pytest.mark.parametrize("kind", sorted(notifier_classes()))
def test_notifier_contract(kind: str, tmp_path: Path) -> None:
    cls = notifier_classes()[kind]
    assert cls.kind == kind and cls.title and cls.Config.model_json_schema()["type"] == "object"
    assert f"| `{kind}` |" in DOCS, f"document the {kind!r} channel in docs/alerts.md"
    config = SAMPLE.get(kind, {"url": "http://127.0.0.1:9/h", "timeout_s": 1})
    notifier = build_notifier(kind, config, settings=Settings(data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=9))
    result = notifier.send(Notification(subject="s", text="t"))  # never raises: a refused connection retries
    assert result.status is DeliveryStatus.retry, result

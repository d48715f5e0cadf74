"""Built-in plugin of the notifications feature: the notifier classes shipped with Resonanz,
registered through the same ``register_notifiers`` hook a plugin uses."""

from __future__ import annotations

from resonanz.hookspecs import hookimpl


@hookimpl
def register_notifiers() -> list[type[object]]:
    from resonanz.notifications.chat import MattermostNotifier, SlackNotifier, TeamsNotifier
    from resonanz.notifications.email import EmailNotifier
    from resonanz.notifications.webhook import WebhookNotifier

    return [EmailNotifier, WebhookNotifier, SlackNotifier, MattermostNotifier, TeamsNotifier]

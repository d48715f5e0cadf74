"""Chat incoming webhooks: Slack and Mattermost (``text`` + Block Kit blocks) and Microsoft Teams
(a MessageCard, which Teams' incoming webhooks and Power Automate's "post card" both accept).

The webhook URL itself is the credential on all three platforms, so the channel config may hold
the *name* of a secret (``url_secret``) instead of the URL. Text from posts goes into chat
messages as plain text: Slack's mrkdwn control characters (``&``, ``<``, ``>``) are escaped so a
post cannot forge a link or an @channel ping.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, Field, field_validator, model_validator

from resonanz.config import Settings
from resonanz.i18n import translations
from resonanz.notifications.base import AudienceConfig, DeliveryResult, Notification, failed
from resonanz.notifications.webhook import check_url, post_json
from resonanz.sources.secrets import resolve_secret

#: chat platforms cut long messages; keep well under Slack's 3,000 characters per text block
MAX_TEXT = 2800


def open_label(message: Notification) -> str:
    """The link's label in the message's language."""
    return translations(message.language).ugettext("Open in Resonanz")


def slack_escape(text: str) -> str:
    """Escape the three characters Slack/Mattermost treat as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ChatConfig(AudienceConfig):
    url: str | None = Field(default=None, max_length=2000)
    url_secret: str | None = Field(default=None, max_length=200, description="name of a secret holding the URL")
    timeout_s: float = Field(default=10.0, gt=0, le=120)

    @field_validator("url")
    @classmethod
    def _url_ok(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @model_validator(mode="after")
    def _one_of(self) -> ChatConfig:
        if not self.url and not self.url_secret:
            raise ValueError("give the webhook url or url_secret (the name of a secret holding it)")
        return self


class _ChatNotifier:
    Config: ClassVar[type[BaseModel]] = ChatConfig

    def __init__(self, config: ChatConfig, *, settings: Settings) -> None:
        self.config = config
        self.settings = settings

    def payload(self, message: Notification) -> dict[str, Any]:
        raise NotImplementedError

    def send(self, message: Notification) -> DeliveryResult:
        url = self.config.url
        if self.config.url_secret:
            url = resolve_secret(self.config.url_secret, settings=self.settings)
            if url is None:
                return failed(f"chat webhook secret {self.config.url_secret!r} is not set")
        assert url is not None  # the config validator demands one of them
        return post_json(self.settings, url, self.payload(message), timeout_s=self.config.timeout_s)


class SlackNotifier(_ChatNotifier):
    """Slack incoming webhook: ``text`` (notifications, fallback) and section blocks."""

    kind: ClassVar[str] = "slack"
    title: ClassVar[str] = "Slack incoming webhook"

    def payload(self, message: Notification) -> dict[str, Any]:
        subject = slack_escape(message.subject)
        body = slack_escape(message.text)[:MAX_TEXT]
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": message.subject[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": body}},
        ]
        label = slack_escape(open_label(message))
        if message.link:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"<{message.link}|{label}>"}})
        text = f"*{subject}*\n{body}" + (f"\n<{message.link}|{label}>" if message.link else "")
        return {"text": text[: MAX_TEXT + 400], "blocks": blocks}


class MattermostNotifier(SlackNotifier):
    """Mattermost reads Slack's format (``text``; blocks are ignored, so the text carries it all)."""

    kind: ClassVar[str] = "mattermost"
    title: ClassVar[str] = "Mattermost incoming webhook"

    def payload(self, message: Notification) -> dict[str, Any]:
        doc = super().payload(message)
        return {"text": doc["text"], "username": "Resonanz"}


class TeamsNotifier(_ChatNotifier):
    """Microsoft Teams incoming webhook: an Office 365 connector MessageCard."""

    kind: ClassVar[str] = "teams"
    title: ClassVar[str] = "Microsoft Teams incoming webhook"

    def payload(self, message: Notification) -> dict[str, Any]:
        # Teams renders a subset of Markdown in ``text``; HTML-escape so a post cannot inject tags
        text = message.text[:MAX_TEXT].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        card: dict[str, Any] = {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": message.subject[:150],
            "themeColor": "C0392B",
            "title": message.subject[:300],
            "text": text.replace("\n", "  \n"),
        }
        if message.link:
            card["potentialAction"] = [
                {"@type": "OpenUri", "name": open_label(message), "targets": [{"os": "default", "uri": message.link}]}
            ]
        return card

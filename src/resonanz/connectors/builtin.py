"""Registers the connectors that ship with Resonanz."""

from __future__ import annotations

from resonanz.connectors.base import Connector
from resonanz.hookspecs import hookimpl


@hookimpl
def register_connectors() -> list[type[Connector]]:
    from resonanz.connectors.appstores.apple import AppStoreConnector
    from resonanz.connectors.appstores.googleplay import GooglePlayConnector
    from resonanz.connectors.bluesky.connector import BlueskyConnector
    from resonanz.connectors.email.connector import EmailConnector
    from resonanz.connectors.facebook.connector import FacebookConnector
    from resonanz.connectors.feed.connector import FeedConnector
    from resonanz.connectors.file.connector import FileConnector
    from resonanz.connectors.hackernews.connector import HackerNewsConnector
    from resonanz.connectors.mastodon.connector import MastodonConnector
    from resonanz.connectors.outbound_webhook.connector import OutboundWebhookConnector
    from resonanz.connectors.reddit.connector import RedditConnector
    from resonanz.connectors.twilio.connector import TwilioConnector
    from resonanz.connectors.webhook.connector import WebhookConnector
    from resonanz.connectors.x.connector import XConnector
    from resonanz.connectors.youtube.connector import YouTubeConnector

    return [
        FeedConnector,
        FileConnector,
        WebhookConnector,
        MastodonConnector,
        BlueskyConnector,
        HackerNewsConnector,
        RedditConnector,
        OutboundWebhookConnector,
        EmailConnector,
        TwilioConnector,
        GooglePlayConnector,
        AppStoreConnector,
        YouTubeConnector,
        XConnector,
        FacebookConnector,
    ]

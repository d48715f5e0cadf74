"""The demo's customer-service mailbox: an e-mail source that receives complaints and sends the
replies, so a reply written in the demo's inbox can really go out.

Why a real e-mail source and not a fake publisher: the demo should show the whole way of a reply
(approval, outbox, SMTP, threading headers) with the connector a customer would use. The demo
builds offline, so the source is created *disabled* (nothing pulls it on a schedule) and points at
a mail server on this machine by default: SMTP ``127.0.0.1:1025`` (the port of the usual local mail
catchers, e.g. Mailpit or ``python -m aiosmtpd -n``) and IMAP ``127.0.0.1:1143``. When
``RESONANZ_SMTP_HOST`` / ``RESONANZ_SMTP_PORT`` (the settings outgoing notifications use) are set,
replies go to that server instead; its login comes from ``RESONANZ_SMTP_USER`` and the secret
``RESONANZ_SMTP_PASSWORD``. Pulling the mailbox (``resonanz source pull demo-mail``) needs the IMAP
password in ``RESONANZ_EMAIL_PASSWORD``. Created once; a second load keeps what an operator changed.
"""

from __future__ import annotations

from typing import Any

from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.demo.world import DEMO_PREFIX, OWN
from resonanz.sources.actions import get_or_create_source, validate_config

MAIL_SOURCE = f"{DEMO_PREFIX}mail"
MAIL_ADDRESS = f"kundenservice@{OWN.domain}"
LOCAL_SMTP_PORT = 1025
LOCAL_IMAP_PORT = 1143
_LOCAL = ("localhost", "127.0.0.1", "::1")


def mail_config(settings: Settings) -> dict[str, Any]:
    """The demo mailbox's connector config: the configured SMTP server, else a local mail catcher."""
    host = settings.smtp_host or "127.0.0.1"
    port = settings.smtp_port if settings.smtp_host else LOCAL_SMTP_PORT
    if settings.smtp_ssl:
        security = "ssl"
    elif host in _LOCAL and not (settings.smtp_host and settings.smtp_starttls):
        security = "none"
    else:
        security = "starttls"
    config: dict[str, Any] = {
        "address": MAIL_ADDRESS,
        "display_name": OWN.service,
        "imap_host": "127.0.0.1",
        "imap_port": LOCAL_IMAP_PORT,
        "imap_security": "none",
        "smtp_host": host,
        "smtp_port": port,
        "smtp_security": security,
        "smtp_auth": bool(settings.smtp_user),
        "direct_subject": f"Ihre Nachricht an {OWN.service}",
        "initial_messages": 200,
    }
    if settings.smtp_user:
        config.update(smtp_username=settings.smtp_user, smtp_password_env="RESONANZ_SMTP_PASSWORD")  # noqa: S106 (a variable name)
    return validate_config("email", config)


def load_mail(db: Database) -> int:
    """Create the demo mailbox source when it is missing (disabled); returns its id."""
    with transaction(db.sessions) as session:
        source = get_or_create_source(session, name=MAIL_SOURCE, kind="email", config=mail_config(db.settings))
        return source.id

"""E-mail over SMTP (the standard library's ``smtplib``): multipart text + HTML, attachments,
STARTTLS or TLS from the start, credentials from settings or the secrets store.

:func:`send_email` is the helper other features call (reports, @mentions, CSAT); the
:class:`EmailNotifier` is the channel type alert rules deliver through. Neither raises for a
failed delivery: both return a :class:`~resonanz.notifications.base.DeliveryResult`
(``raise_for_status()`` for those who prefer an exception).

SMTP failures are sorted like HTTP ones: a 4xx reply, a dropped connection or a timeout may pass
(retry); a 5xx reply (unknown recipient, message refused) or failed authentication will not.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid, parseaddr
from typing import ClassVar

from pydantic import BaseModel, Field, field_validator

from resonanz.config import Settings
from resonanz.errors import ConfigError
from resonanz.notifications.base import (
    Attachment,
    AudienceConfig,
    DeliveryResult,
    Notification,
    failed,
    retry,
    sent,
)
from resonanz.sources.secrets import resolve_secret


def check_address(value: str) -> str:
    """A plausible single e-mail address (``name@host``), or ValueError saying what is wrong."""
    _, address = parseaddr(value)
    local, _, host = address.partition("@")
    if not local or "." not in host or any(c.isspace() for c in address) or address != value.strip():
        raise ValueError(f"{value!r} is not an e-mail address")
    return address


def build_message(
    settings: Settings,
    *,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    """The MIME message: text/plain, plus text/html as the alternative, plus attachments."""
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = ", ".join(to)
    # a header may not carry line breaks (header injection from a post's text)
    msg["Subject"] = " ".join(subject.split())[:300]
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=_domain(settings.smtp_from))
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, mime, content in attachments:
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(content, maintype=maintype or "application", subtype=subtype or "octet-stream",
                           filename=filename)  # fmt: skip
    return msg


def _domain(sender: str) -> str:
    address = getaddresses([sender])[0][1]
    return address.partition("@")[2] or "resonanz.local"


def _password(settings: Settings) -> str | None:
    if settings.smtp_password:
        return settings.smtp_password
    if settings.smtp_password_secret:
        value = resolve_secret(settings.smtp_password_secret, settings=settings)
        if value is None:
            raise ConfigError(f"SMTP password secret {settings.smtp_password_secret!r} is not set")
        return value
    return None


def send_email(
    settings: Settings,
    *,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> DeliveryResult:
    """Send one e-mail through the configured SMTP server; returns what came of it."""
    if not settings.smtp_host:
        return failed("e-mail is not configured (set RESONANZ_SMTP_HOST)")
    recipients = [a.strip() for a in to if a.strip()]
    if not recipients:
        return failed("no recipients")
    try:
        recipients = [check_address(a) for a in recipients]
        password = _password(settings)
    except (ValueError, ConfigError) as exc:
        return failed(str(exc))
    msg = build_message(settings, to=recipients, subject=subject, text=text, html=html, attachments=attachments)
    try:
        _deliver(settings, msg, recipients, password)
    except smtplib.SMTPAuthenticationError as exc:
        return failed(f"SMTP authentication failed ({exc.smtp_code})")
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        refused = ", ".join(sorted(exc.recipients))
        if all(400 <= c < 500 for c in codes):
            return retry(f"recipients refused for now ({refused})")
        return failed(f"recipients refused: {refused}")
    except smtplib.SMTPResponseException as exc:
        message = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc)
        detail = f"SMTP {exc.smtp_code}: {message[:200]}"
        return retry(detail) if 400 <= exc.smtp_code < 500 else failed(detail)
    except (smtplib.SMTPException, OSError) as exc:  # disconnects, refused connections, timeouts, TLS
        return retry(f"{type(exc).__name__}: {exc}"[:300])
    return sent(f"accepted by {settings.smtp_host} for {len(recipients)} recipient(s)")


def _deliver(settings: Settings, msg: EmailMessage, recipients: list[str], password: str | None) -> None:
    host, port, timeout = settings.smtp_host or "", settings.smtp_port, settings.smtp_timeout_s
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.smtp_ssl:
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        smtp.ehlo()
        if not settings.smtp_ssl and settings.smtp_starttls and smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        elif not settings.smtp_ssl and settings.smtp_starttls and settings.smtp_user:
            # never send a password in the clear because the server forgot to offer STARTTLS
            raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS; refusing to log in unencrypted")
        if settings.smtp_user:
            smtp.login(settings.smtp_user, password or "")
        smtp.send_message(msg, to_addrs=recipients)


class EmailConfig(AudienceConfig):
    """Extra addresses this channel always mails (on top of a rule's chosen recipients)."""

    to: list[str] = Field(default_factory=list, max_length=100)

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return [check_address(v) for v in value]


class EmailNotifier:
    """Sends a notification as an e-mail to ``message.to`` plus the channel's own addresses."""

    kind: ClassVar[str] = "email"
    title: ClassVar[str] = "E-mail (SMTP)"
    Config: ClassVar[type[BaseModel]] = EmailConfig

    def __init__(self, config: EmailConfig, *, settings: Settings) -> None:
        self.config = config
        self.settings = settings

    def send(self, message: Notification) -> DeliveryResult:
        to = list(dict.fromkeys([*message.to, *self.config.to]))
        return send_email(self.settings, to=to, subject=message.subject, text=message.text, html=message.html,
                          attachments=message.attachments)  # fmt: skip

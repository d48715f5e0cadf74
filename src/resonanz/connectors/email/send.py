"""SMTP sending for the e-mail connector (smtplib), failures sorted for the outbox::

    refused connection, timeout before the message is handed over   -> ConnectorTransientError
    certificate not trusted, STARTTLS missing, AUTH refused (535)    -> ConnectorPermanentError
    sender or recipient refused: 4xx                                 -> ConnectorTransientError
                                 5xx                                 -> ConnectorPermanentError
    DATA answered 4xx / 5xx                                          -> transient / permanent
    connection lost or timed out while the message was on the wire   -> PublishOutcomeUnknownError

Only the last case can have delivered the message; the outbox then asks
:meth:`~resonanz.connectors.email.connector.EmailConnector.find_published`, which looks for the
message's ``Message-ID`` (derived from the outbox key, see :func:`message_id_for`).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from resonanz.connectors.base import PublishOutcomeUnknownError
from resonanz.connectors.email.mailbox import Security
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError


def message_id_for(idempotency_key: str, address: str) -> str:
    """The ``Message-ID`` (without brackets) of the reply with this outbox key: the same on every
    try, so a repeated send can be recognised. Outbox keys are ``[A-Za-z0-9._:-]``; ``:`` is no
    atext in RFC 5322, so it becomes ``=``, which keys never contain (the mapping stays one-to-one)."""
    domain = address.rpartition("@")[2] or "resonanz.invalid"
    return f"resonanz.{idempotency_key.replace(':', '=')}@{domain}"


def _refusal(code: int, what: str, said: bytes | str) -> Exception:
    text = said.decode("utf-8", "replace") if isinstance(said, bytes) else said
    label = f"the SMTP server refused {what}: {code} {text}"
    if 400 <= code < 500:
        return ConnectorTransientError(label + "; will retry")
    return ConnectorPermanentError(label)


def _connect(host: str, port: int, security: Security, timeout: float) -> smtplib.SMTP:
    if security == "ssl":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    client = smtplib.SMTP(host, port, timeout=timeout)
    if security == "starttls":
        client.starttls(context=ssl.create_default_context())
    return client


def send_message(
    message: EmailMessage,
    *,
    recipients: list[str],
    must_accept: str,
    host: str,
    port: int,
    security: Security,
    user: str | None,
    password: str | None,
    timeout: float,
) -> None:
    """Hand ``message`` to the server for ``recipients``; ``must_accept`` (the customer) refused
    while others were accepted is a permanent error too."""
    try:
        client = _connect(host, port, security, timeout)
    except ssl.SSLCertVerificationError as exc:
        raise ConnectorPermanentError(f"the SMTP server {host}:{port} has an untrusted certificate: {exc}") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise ConnectorPermanentError(
            f"the SMTP server {host}:{port} does not offer STARTTLS; set smtp_security"
        ) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise ConnectorTransientError(f"could not reach the SMTP server {host}:{port}: {exc}") from exc
    try:
        if user and password:
            try:
                client.login(user, password)
            except smtplib.SMTPAuthenticationError as exc:
                raise ConnectorPermanentError(
                    f"the SMTP server {host} refused the login of {user!r} ({exc.smtp_code}); check smtp_username "
                    "and the password"
                ) from exc
            except smtplib.SMTPNotSupportedError as exc:
                raise ConnectorPermanentError(f"the SMTP server {host} offers no login (AUTH): {exc}") from exc
        try:
            refused = client.send_message(message, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            code, said = next(iter(exc.recipients.values()))
            raise _refusal(code, "every recipient", said) from exc
        except smtplib.SMTPSenderRefused as exc:
            raise _refusal(exc.smtp_code, f"the sender {exc.sender}", exc.smtp_error) from exc
        except smtplib.SMTPDataError as exc:
            raise _refusal(exc.smtp_code, "the message", exc.smtp_error) from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise PublishOutcomeUnknownError(
                f"the connection to the SMTP server {host} broke while sending ({exc}); the message may or may "
                "not be out"
            ) from exc
        if must_accept in refused:
            code, said = refused[must_accept]
            raise ConnectorPermanentError(
                f"the SMTP server refused the recipient {must_accept}: {code} {said.decode('utf-8', 'replace')}"
            )
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()

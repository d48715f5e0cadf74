"""IMAP access for the e-mail connector (imaplib), with every failure sorted the STYLE.md way.

::

    refused / reset connection, timeout, IMAP4.abort      -> ConnectorTransientError
    certificate not trusted                                -> ConnectorPermanentError
    LOGIN refused (AUTHENTICATIONFAILED ...)               -> ConnectorPermanentError + guidance
    LOGIN answered [UNAVAILABLE] / [INUSE]                 -> ConnectorTransientError
    SELECT refused (no such mailbox)                       -> ConnectorPermanentError
    any other NO/BAD answer                                -> ConnectorPermanentError with the server's words

The mailbox is always opened read-only (``EXAMINE``) and bodies are fetched with ``BODY.PEEK[]``,
so pulling never marks mail as read for the people who also work in that mailbox.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Literal

from resonanz.errors import ConnectorPermanentError, ConnectorTransientError

Security = Literal["ssl", "starttls", "none"]
_META = re.compile(rb"UID (\d+)|RFC822\.SIZE (\d+)|INTERNALDATE \"([^\"]+)\"")
_TRANSIENT_LOGIN = (b"UNAVAILABLE", b"INUSE", b"LIMIT")


@dataclass(frozen=True)
class MessageMeta:
    uid: int
    size: int
    internaldate: str | None


def quote(value: str) -> str:
    """An IMAP quoted string (RFC 3501): backslash and double quote escaped, no line breaks."""
    cleaned = value.replace("\r", " ").replace("\n", " ").replace("\\", "\\\\").replace('"', '\\"')
    return f'"{cleaned}"'


def _words(data: object) -> str:
    if isinstance(data, list):
        return " ".join(_words(d) for d in data)
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return str(data)


class Mailbox:
    """One logged-in IMAP connection; use :func:`open_mailbox`."""

    def __init__(self, conn: imaplib.IMAP4, host: str) -> None:
        self.conn = conn
        self.host = host

    def _ok(self, answer: tuple[str, list[object]], what: str) -> list[object]:
        typ, data = answer
        if typ != "OK":
            raise ConnectorPermanentError(f"the IMAP server {self.host} refused {what}: {typ} {_words(data)}")
        return data

    def examine(self, name: str) -> int:
        """Open ``name`` read-only; its UIDVALIDITY."""
        typ, data = self.conn.select(quote(name), readonly=True)
        if typ != "OK":
            raise ConnectorPermanentError(
                f"the IMAP server {self.host} has no mailbox {name!r} for this account ({_words(data)}); "
                "check the setting mailbox"
            )
        found = self.conn.response("UIDVALIDITY")[1]
        try:
            return int(_words(found[0]).split()[0]) if found and found[0] else 0
        except ValueError:
            return 0

    def search(self, *criteria: str) -> list[int]:
        data = self._ok(self.conn.uid("SEARCH", None, *criteria), "the search")  # type: ignore[arg-type]
        return sorted({int(x) for x in _words(data).split() if x.isdigit()})

    def metas(self, uids: list[int]) -> dict[int, MessageMeta]:
        """UID, size and INTERNALDATE of each message (one FETCH for all)."""
        if not uids:
            return {}
        data = self._ok(
            self.conn.uid("FETCH", ",".join(map(str, uids)), "(UID RFC822.SIZE INTERNALDATE)"), "FETCH of sizes"
        )
        found: dict[int, MessageMeta] = {}
        for line in data:
            text = line[0] if isinstance(line, tuple) else line
            if not isinstance(text, bytes):
                continue
            uid = size = 0
            date: str | None = None
            for m in _META.finditer(text):
                uid = int(m[1]) if m[1] else uid
                size = int(m[2]) if m[2] else size
                date = m[3].decode("ascii", "replace") if m[3] else date
            if uid:
                found[uid] = MessageMeta(uid, size, date)
        return found

    def fetch(self, uid: int, part: str = "BODY.PEEK[]") -> bytes | None:
        """The bytes of one message (or of ``part``); None when it vanished (expunged meanwhile)."""
        data = self._ok(self.conn.uid("FETCH", str(uid), f"({part})"), f"FETCH of message {uid}")
        for entry in data:
            if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], bytes):
                return entry[1]
        return None

    def find_message_id(self, message_id: str) -> int | None:
        """The UID of the message with this ``Message-ID`` in the open mailbox, if any."""
        found = self.search("HEADER", "Message-ID", quote(f"<{message_id}>"))
        return found[-1] if found else None


def _connect(host: str, port: int, security: Security, timeout: float) -> imaplib.IMAP4:
    if security == "ssl":
        return imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context(), timeout=timeout)
    conn = imaplib.IMAP4(host, port, timeout=timeout)
    if security == "starttls":
        conn.starttls(ssl_context=ssl.create_default_context())
    return conn


@contextmanager
def open_mailbox(
    *, host: str, port: int, security: Security, user: str, password: str, timeout: float
) -> Iterator[Mailbox]:
    """A logged-in :class:`Mailbox`; logs out (best effort) on the way out, errors sorted as above."""
    try:
        conn = _connect(host, port, security, timeout)
    except ssl.SSLCertVerificationError as exc:
        raise ConnectorPermanentError(
            f"the IMAP server {host}:{port} has a certificate this machine does not trust: {exc.verify_message}"
        ) from exc
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise ConnectorTransientError(f"could not reach the IMAP server {host}:{port}: {exc}") from exc
    except imaplib.IMAP4.error as exc:
        raise ConnectorPermanentError(f"the IMAP server {host}:{port} refused the connection: {exc}") from exc
    try:
        try:
            conn.login(user, password)
        except imaplib.IMAP4.abort as exc:
            raise ConnectorTransientError(f"the IMAP server {host} dropped the connection at login: {exc}") from exc
        except imaplib.IMAP4.error as exc:
            said = str(exc).encode()
            if any(word in said for word in _TRANSIENT_LOGIN):
                raise ConnectorTransientError(f"the IMAP server {host} cannot log in now: {exc}") from exc
            raise ConnectorPermanentError(
                f"the IMAP server {host} refused the login of {user!r} ({exc}); check the user name and the "
                "password (many providers need an app password when two-factor login is on)"
            ) from exc
        yield Mailbox(conn, host)
    except imaplib.IMAP4.abort as exc:
        raise ConnectorTransientError(f"the IMAP connection to {host} broke: {exc}") from exc
    except (OSError, EOFError) as exc:
        raise ConnectorTransientError(f"the IMAP connection to {host} failed: {type(exc).__name__}: {exc}") from exc
    except imaplib.IMAP4.error as exc:
        raise ConnectorPermanentError(f"the IMAP server {host} answered with an error: {exc}") from exc
    finally:
        with suppress(OSError, imaplib.IMAP4.error, EOFError):
            conn.logout()

"""The e-mail connector: pull one IMAP mailbox, answer over SMTP with correct threading headers.

**Cursor.** IMAP gives every message in a mailbox a UID that only grows, valid as long as the
mailbox's ``UIDVALIDITY`` stays the same. The cursor stores ``(mailbox, uidvalidity, last_uid)``;
a pull asks for ``UID last_uid+1:*`` in ascending order and stores the highest UID it handed
over, so a pull that stops (``max_messages``, a crash, a broken connection) repeats and skips
nothing. When ``UIDVALIDITY`` changes (the mailbox was re-created or restored) the UIDs mean
nothing any more: the pull reads the messages that arrived since the day of the newest one it had
seen (``SEARCH SINCE``), and ingest's Message-ID key turns the ones already stored into
duplicates, not new mentions. The first pull takes the newest ``initial_messages`` only.

**Replies.** :meth:`EmailConnector.publish` looks up the message answered in the mailbox (by its
``Message-ID``) to get its ``Subject``, ``References`` and ``Reply-To``/``From``, and sends a
reply with ``In-Reply-To``, ``References`` (the parent's plus the parent) and ``Subject: Re: ...``,
so every mail client threads it. Its ``Message-ID`` is derived from the outbox key; with
``bcc_self`` a copy goes to the source's own address, so :meth:`find_published` can tell whether a
send that broke off did arrive (``publish_check = LOOKUP``), and the reply joins the thread when
it is pulled back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, formataddr, getaddresses, parsedate_to_datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from resonanz.clock import ensure_utc, now
from resonanz.connectors.base import (
    Connector,
    OutgoingReply,
    PublishCheck,
    PublishResult,
    PullResult,
    RawItem,
    Rejected,
    ReplyKind,
    read_secret,
)
from resonanz.connectors.email.mailbox import Mailbox, Security, open_mailbox
from resonanz.connectors.email.parse import PLATFORM, decode_text_header, message_ids, parse_message
from resonanz.connectors.email.send import message_id_for, send_message
from resonanz.errors import ConnectorPermanentError
from resonanz.mentions.schemas import MentionIn

DEFAULT_PASSWORD_ENV = "RESONANZ_EMAIL_PASSWORD"  # noqa: S105 (a variable name, not a secret)
_ENV = r"^[A-Za-z_][A-Za-z0-9_]*$"
_IMAP_PORTS = {"ssl": 993, "starttls": 143, "none": 143}
_SMTP_PORTS = {"ssl": 465, "starttls": 587, "none": 25}


class EmailConfig(BaseModel):
    """One mailbox: where to read (IMAP), where to send (SMTP), and the password's secret name."""

    model_config = ConfigDict(extra="forbid")

    address: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", description="the mailbox's address; From of replies")
    display_name: str | None = Field(default=None, max_length=100, description="name shown as sender of replies")
    imap_host: str = Field(min_length=1, description="IMAP server host name")
    imap_port: int | None = Field(default=None, ge=1, le=65535, description="default 993 (ssl) or 143")
    imap_security: Security = "ssl"
    username: str | None = Field(default=None, description="IMAP (and SMTP) login; default: address")
    password_env: str = Field(default=DEFAULT_PASSWORD_ENV, pattern=_ENV)
    mailbox: str = Field(default="INBOX", min_length=1, description="the IMAP folder to read")
    sent_mailbox: str | None = Field(default=None, description="a folder also searched by find_published")
    smtp_host: str | None = Field(default=None, description="SMTP server; unset: read only")
    smtp_port: int | None = Field(default=None, ge=1, le=65535, description="default 465 (ssl), 587, 25 (none)")
    smtp_security: Security = "starttls"
    smtp_username: str | None = Field(default=None, description="default: username")
    smtp_password_env: str | None = Field(default=None, pattern=_ENV, description="default: password_env")
    smtp_auth: bool = Field(default=True, description="false for a relay that takes mail without login")
    bcc_self: bool = Field(default=True, description="send a copy of each reply to address")
    direct_subject: str = Field(default="Your message", min_length=1, max_length=200)
    initial_messages: int = Field(default=50, ge=0, le=5000, description="newest messages the first pull takes")
    max_messages: int = Field(default=200, ge=1, le=5000, description="messages per pull")
    max_message_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, description="larger messages: headers only")

    @model_validator(mode="after")
    def _plain_only_locally(self) -> EmailConfig:
        for host, security, name in ((self.imap_host, self.imap_security, "imap"), (self.smtp_host,
                                     self.smtp_security, "smtp")):  # fmt: skip
            if host and security == "none" and host not in ("localhost", "127.0.0.1", "::1"):
                raise ValueError(f"{name}_security=none sends the password in clear; only allowed for localhost")
        return self


class EmailConnector(Connector):
    """One IMAP mailbox in; replies out over SMTP with threading headers."""

    kind: ClassVar[str] = "email"
    title: ClassVar[str] = "E-mail (IMAP in, SMTP out)"
    platform: ClassVar[str] = PLATFORM
    Config: ClassVar[type[BaseModel]] = EmailConfig
    publishes: ClassVar[bool] = True
    reply_kinds: ClassVar[frozenset[ReplyKind]] = frozenset({ReplyKind.REPLY, ReplyKind.DIRECT})
    publish_check: ClassVar[PublishCheck] = PublishCheck.LOOKUP

    @property
    def cfg(self) -> EmailConfig:
        assert isinstance(self.config, EmailConfig)
        return self.config

    def _password(self, env: str) -> str:
        value = read_secret(env, settings=self.settings)
        if value is None:
            raise ConnectorPermanentError(
                f"no mailbox password: set the environment variable {env} (or that key in RESONANZ_SECRETS_FILE)"
            )
        return value

    def _mailbox(self) -> Any:
        cfg = self.cfg
        return open_mailbox(
            host=cfg.imap_host,
            port=cfg.imap_port or _IMAP_PORTS[cfg.imap_security],
            security=cfg.imap_security,
            user=cfg.username or cfg.address,
            password=self._password(cfg.password_env),
            timeout=self.settings.http_timeout_s,
        )

    # -- pull -------------------------------------------------------------------------------

    def pull(self, cursor: dict[str, Any]) -> PullResult:
        cfg = self.cfg
        result = PullResult()
        with self._mailbox() as box:
            validity = box.examine(cfg.mailbox)
            same = cursor.get("mailbox") == cfg.mailbox and cursor.get("uidvalidity") == validity
            last = int(cursor.get("last_uid") or 0) if same else 0
            if same:
                uids = [u for u in box.search("UID", f"{last + 1}:*") if u > last]
            elif cursor.get("last_date"):
                since = parsedate_to_datetime(str(cursor["last_date"])) - timedelta(days=1)
                uids = box.search("SINCE", since.strftime("%d-%b-%Y"))
                result.warnings.append(
                    f"the mailbox {cfg.mailbox!r} changed its UIDVALIDITY (re-created or restored): re-reading the "
                    f"messages since {since:%Y-%m-%d}; the ones already stored count as duplicates"
                )
            else:
                everything = box.search("ALL")
                uids = everything[len(everything) - cfg.initial_messages :] if cfg.initial_messages else []
                skipped = everything[: len(everything) - len(uids)]
                last = skipped[-1] if skipped else 0  # history before the source was added stays unread
            batch = uids[: cfg.max_messages]
            if len(uids) > len(batch):
                result.warnings.append(
                    f"{len(uids) - len(batch)} more message(s) wait; max_messages={cfg.max_messages}, the next pull "
                    "goes on"
                )
            last_date = cursor.get("last_date") if same else None
            metas = box.metas(batch)
            for uid in batch:
                meta = metas.get(uid)
                last_date = self._take(box, result, validity, uid, meta) or last_date
                last = max(last, uid)
        result.cursor = {"mailbox": cfg.mailbox, "uidvalidity": validity, "last_uid": last, "last_date": last_date}
        return result

    def _take(self, box: Mailbox, result: PullResult, validity: int, uid: int, meta: Any) -> str | None:
        """Fetch one message into ``result``; its INTERNALDATE (None when it vanished)."""
        cfg = self.cfg
        internaldate = _imap_date(meta.internaldate) if meta is not None and meta.internaldate else None
        context: dict[str, Any] = {"mailbox": cfg.mailbox, "uidvalidity": validity, "uid": uid}
        if internaldate:
            context["internaldate"] = internaldate
        location = f"{cfg.mailbox} UID {uid}"
        if meta is not None and meta.size > cfg.max_message_bytes:
            header = box.fetch(uid, "BODY.PEEK[HEADER]") or b""
            result.rejected.append(
                Rejected(
                    payload=header,
                    reason=f"the message is {meta.size:,} bytes, over max_message_bytes={cfg.max_message_bytes:,}; "
                    "only its header is kept",
                    location=location,
                    stage="fetch",
                    content_type="message/rfc822",
                    context={**context, "level": "item"},
                )
            )
            return internaldate
        payload = box.fetch(uid)
        if payload is None:
            return None  # expunged between SEARCH and FETCH: nothing to read
        result.items.append(RawItem(payload=payload, location=location, content_type="message/rfc822", context=context))
        return internaldate

    @classmethod
    def parse(cls, item: RawItem) -> MentionIn:
        return parse_message(item)

    # -- publish ----------------------------------------------------------------------------

    def _original(self, message_id: str) -> EmailMessage | None:
        """The message answered, read from the mailbox (or the sent folder), headers only."""
        with self._mailbox() as box:
            for name in [self.cfg.mailbox, *([self.cfg.sent_mailbox] if self.cfg.sent_mailbox else [])]:
                box.examine(name)
                uid = box.find_message_id(message_id)
                if uid is not None:
                    header = box.fetch(uid, "BODY.PEEK[HEADER]") or b""
                    return BytesParser(policy=policy.default).parsebytes(header)
        return None

    def build(self, reply: OutgoingReply, original: EmailMessage | None) -> tuple[EmailMessage, str]:
        """The reply message and its customer address (pure but for the original's headers)."""
        cfg = self.cfg
        msg = EmailMessage()
        to = reply.recipient or ""
        subject = cfg.direct_subject
        if reply.kind == ReplyKind.REPLY and reply.in_reply_to:
            parent = reply.in_reply_to
            references = [*message_ids(str(original.get("References") or "")), parent] if original else [parent]
            if original is not None:
                answer_to = getaddresses([str(original.get("Reply-To") or original.get("From") or "")])
                to = answer_to[0][1] if answer_to and "@" in answer_to[0][1] else to
                old = decode_text_header(original.get("Subject"))
                subject = old if old.lower().startswith(("re:", "aw:")) else f"Re: {old}" if old else "Re:"
            elif not to:
                raise ConnectorPermanentError(
                    f"the message answered ({parent}) is not in the mailbox {cfg.mailbox!r} and the reply names no "
                    "recipient"
                )
            else:
                subject = f"Re: {cfg.direct_subject}"
            msg["In-Reply-To"] = f"<{parent}>"
            msg["References"] = " ".join(f"<{r}>" for r in dict.fromkeys(references[-20:]))
        if not to or "@" not in to:
            raise ConnectorPermanentError(f"no e-mail address to send the reply to (recipient {reply.recipient!r})")
        msg["From"] = formataddr((cfg.display_name or "", cfg.address))
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = format_datetime(now())
        msg["Message-ID"] = f"<{message_id_for(reply.idempotency_key, cfg.address)}>"
        msg.set_content(reply.text)
        return msg, to

    def publish(self, reply: OutgoingReply) -> PublishResult:
        cfg = self.cfg
        if not cfg.smtp_host:
            raise ConnectorPermanentError("this e-mail source has no smtp_host: it can read but not send")
        original = self._original(reply.in_reply_to) if reply.kind == ReplyKind.REPLY and reply.in_reply_to else None
        msg, to = self.build(reply, original)
        user = cfg.smtp_username or cfg.username or cfg.address
        send_message(
            msg,
            recipients=[to, *([cfg.address] if cfg.bcc_self and cfg.address.lower() != to.lower() else [])],
            must_accept=to,
            host=cfg.smtp_host,
            port=cfg.smtp_port or _SMTP_PORTS[cfg.smtp_security],
            security=cfg.smtp_security,
            user=user if cfg.smtp_auth else None,
            password=self._password(cfg.smtp_password_env or cfg.password_env) if cfg.smtp_auth else None,
            timeout=self.settings.http_timeout_s,
        )
        return PublishResult(
            platform=PLATFORM,
            external_id=message_id_for(reply.idempotency_key, cfg.address),
            published_at=now(),
            raw={"to": to, "subject": str(msg["Subject"]), "references": str(msg.get("References") or "")},
        )

    def find_published(self, reply: OutgoingReply) -> PublishResult | None:
        """The reply if its ``Message-ID`` is in the mailbox (the ``bcc_self`` copy) or the sent folder."""
        cfg = self.cfg
        wanted = message_id_for(reply.idempotency_key, cfg.address)
        with self._mailbox() as box:
            for name in [cfg.mailbox, *([cfg.sent_mailbox] if cfg.sent_mailbox else [])]:
                box.examine(name)
                uid = box.find_message_id(wanted)
                if uid is None:
                    continue
                header = BytesParser(policy=policy.default).parsebytes(box.fetch(uid, "BODY.PEEK[HEADER]") or b"")
                try:
                    at = ensure_utc(parsedate_to_datetime(str(header.get("Date"))))
                except (TypeError, ValueError):
                    at = now()
                return PublishResult(platform=PLATFORM, external_id=wanted, published_at=at, raw={"mailbox": name})
        if not cfg.bcc_self and not cfg.sent_mailbox:
            raise ConnectorPermanentError("cannot look for a sent reply: set bcc_self=true or sent_mailbox")
        return None


def _imap_date(value: str) -> str:
    """An IMAP INTERNALDATE (``27-Nov-2026 21:48:34 +0000``) as RFC 5322 date text."""
    try:
        return format_datetime(datetime.strptime(value, "%d-%b-%Y %H:%M:%S %z"))
    except ValueError:
        return value

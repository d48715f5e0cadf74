"""Map one e-mail message (RFC 5322 bytes) to a :class:`MentionIn` (pure; no I/O).

The raw item is the message exactly as the IMAP server returned it (``BODY.PEEK[]``), with a
context naming the mailbox, its UIDVALIDITY, the message's UID and INTERNALDATE. Quirks handled:

* **Ids and threads.** The external id is the ``Message-ID`` without its angle brackets (it is
  global by design). ``In-Reply-To`` names the parent; the first id of ``References`` is the
  thread's root (RFC 5322 3.6.4), else the parent, else the message itself. A message without a
  ``Message-ID`` (some scripts send those) gets a stable id derived from its content, so it is
  stored once however often it is pulled.
* **Encoded headers.** ``Subject`` and display names are RFC 2047 encoded-words in any charset;
  broken encodings and unknown charsets are decoded with replacement characters rather than
  rejected.
* **Bodies.** The first ``text/plain`` part that is not an attachment is the text; without one the
  first ``text/html`` part is stripped to text and kept, sanitised, as the HTML. Parts in
  charsets Python does not know (``x-unknown``, ``unicode-1-1-utf-7`` ...) fall back to UTF-8
  then Latin-1, so no message is lost to its charset.
* **Attachments** are noted in ``media`` (file name, MIME type, size) but never stored.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from resonanz.clock import ensure_utc
from resonanz.connectors.base import RawItem
from resonanz.errors import ParseError
from resonanz.mentions.models import MentionKind
from resonanz.mentions.schemas import AuthorIn, MentionIn
from resonanz.mentions.text import html_to_text, normalize_whitespace, sanitize_html

PLATFORM = "email"
_MSGID = re.compile(r"<([^<>\s]+)>")
#: headers kept in ``raw`` (the full message stays in the raw item, not in the mention)
RAW_HEADERS = ("from", "to", "cc", "reply-to", "subject", "date", "message-id", "in-reply-to", "references")


def message_ids(value: str | None) -> list[str]:
    """The ids in a ``References`` / ``In-Reply-To`` / ``Message-ID`` header, brackets removed.
    A bare id without brackets (seen from old mailers) counts when it is the whole header."""
    if not value:
        return []
    found = _MSGID.findall(value)
    if not found and "@" in value and " " not in value.strip():
        found = [value.strip()]
    return found


def decode_text_header(value: Any) -> str:
    """A header as readable text: RFC 2047 decoded, unknown charsets replaced instead of failing."""
    if value is None:
        return ""
    text = str(value)
    if "=?" in text:
        try:
            text = str(make_header(decode_header(text)))
        except (LookupError, UnicodeDecodeError, ValueError):
            parts = []
            for chunk, charset in decode_header(text):
                if isinstance(chunk, bytes):
                    parts.append(_decode_bytes(chunk, charset))
                else:
                    parts.append(chunk)
            text = "".join(parts)
    return normalize_whitespace(text.replace("\n", " "))


def _decode_bytes(data: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


def _header(msg: Message, name: str) -> str:
    """A header's raw value as sent (encoded-words still encoded): the policy's own decoding
    turns unknown charsets into replacement characters, :func:`decode_text_header` does better."""
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            return _unescape(str(value))
    return ""


def _unescape(value: str) -> str:
    """Raw 8-bit header bytes arrive as surrogate escapes: read them as UTF-8, else Latin-1."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def part_text(part: Message) -> str:
    """The decoded text of a leaf part, whatever charset it claims."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload() or "")
    return _decode_bytes(payload, part.get_content_charset())


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    return disposition == "attachment" or (disposition != "inline" and bool(part.get_filename()))


def bodies(msg: Message) -> tuple[str | None, str | None, list[dict[str, Any]]]:
    """(first text/plain, first text/html, attachments noted) of a message."""
    plain: str | None = None
    html: str | None = None
    attachments: list[dict[str, Any]] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if _is_attachment(part) or not ctype.startswith("text/"):
            payload = part.get_payload(decode=True)
            entry: dict[str, Any] = {"kind": "attachment", "mime": ctype}
            name = part.get_filename()
            if name:
                entry["filename"] = decode_text_header(name)[:300]
            if isinstance(payload, bytes):
                entry["size"] = len(payload)
            attachments.append(entry)
            continue
        if ctype == "text/plain" and plain is None:
            plain = part_text(part)
        elif ctype == "text/html" and html is None:
            html = part_text(part)
    return plain, html, attachments


def author_of(msg: Message) -> AuthorIn | None:
    pairs = getaddresses([_header(msg, "From")])
    if not pairs or "@" not in pairs[0][1]:
        return None
    name, address = pairs[0]
    return AuthorIn(handle=address.strip().lower()[:300], name=decode_text_header(name)[:300] or None)


def published_of(msg: Message, context: dict[str, Any], location: str) -> datetime:
    for value in (_header(msg, "Date"), context.get("internaldate")):
        if not value:
            continue
        try:
            return ensure_utc(parsedate_to_datetime(str(value)))
        except (TypeError, ValueError, IndexError):
            try:
                return ensure_utc(datetime.fromisoformat(str(value)))
            except ValueError:
                continue
    raise ParseError("message has neither a readable Date header nor an INTERNALDATE", location=location)


def own_id(msg: Message, payload: bytes) -> str:
    found = message_ids(_header(msg, "Message-ID"))
    if found:
        return found[0][:500]
    return f"sha256-{hashlib.sha256(payload).hexdigest()[:40]}@resonanz.invalid"


def load(item: RawItem) -> EmailMessage:
    if not item.payload.strip():
        raise ParseError("the message is empty", location=item.location)
    msg = BytesParser(policy=policy.default).parsebytes(item.payload)
    if not any(k for k, _ in msg.raw_items()):
        raise ParseError("no RFC 5322 headers found", location=item.location)
    return msg


def parse_message(item: RawItem) -> MentionIn:
    """See the module docstring; raises ParseError with the reason."""
    msg = load(item)
    key = own_id(msg, item.payload)
    published_at = published_of(msg, item.context, item.location)
    plain, html, attachments = bodies(msg)
    text = normalize_whitespace(plain) if plain is not None else (html_to_text(html) if html else "")
    if not text and not attachments:
        raise ParseError("the message has no text and no attachments", location=item.location)
    parents = message_ids(_header(msg, "In-Reply-To"))
    references = message_ids(_header(msg, "References"))
    parent = parents[0] if parents else (references[-1] if references else None)
    thread = references[0] if references else (parent or key)
    headers = {name: decode_text_header(_header(msg, name)) for name in RAW_HEADERS if _header(msg, name)}
    raw: dict[str, Any] = {"headers": headers}
    for name in ("mailbox", "uid", "uidvalidity"):
        if name in item.context:
            raw[name] = item.context[name]
    language = _header(msg, "Content-Language").split(",")[0].strip()
    return MentionIn(
        platform=PLATFORM,
        external_id=key,
        kind=MentionKind.MESSAGE,
        author=author_of(msg),
        parent_external_id=parent[:500] if parent else None,
        thread_external_id=thread[:500],
        published_at=published_at,
        title=decode_text_header(_header(msg, "Subject")) or None,
        text=text,
        html=sanitize_html(html) if html else None,
        language_hint=language[:20] or None,
        media=attachments,
        raw=raw,
    )

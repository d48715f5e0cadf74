"""Keyed pseudonyms for exports handed to analysts (DESIGN: "pseudonymised exports for analysts").

An author's handle becomes ``p_`` + the first 20 hex digits of HMAC-SHA256(key, platform + handle):
the same person gets the same pseudonym throughout an export (so "how many posts per author" still
works) but nobody without the key can turn it back into a handle, and a plain hash would not do —
handles are few enough to hash them all and look the pseudonym up. With a fixed key (setting
``export_pseudonym_key``) pseudonyms agree across exports; without it every export draws a fresh
random key, so two exports cannot be linked.

``@handles`` and e-mail addresses inside the text are replaced the same way; everything else of the
text stays (the words are what the analysis is about). Names of other people written out in prose
are not found — a pseudonymised export is not an anonymised one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from functools import lru_cache

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: ``@name`` and Mastodon's ``@name@instance.tld``, not the middle of an e-mail address
_HANDLE = re.compile(r"(?<![\w@])@([A-Za-z0-9_][\w.-]*(?:@[\w-]+(?:\.[\w-]+)+)?)")


class Pseudonymiser:
    """Turns handles into stable keyed pseudonyms (see the module docstring)."""

    def __init__(self, key: bytes | str | None = None) -> None:
        if key is None:
            key = secrets.token_bytes(32)
        self._key = key.encode("utf-8") if isinstance(key, str) else key
        if not self._key:
            raise ValueError("the pseudonym key is empty")
        self.author = lru_cache(maxsize=65_536)(self._author)

    def _digest(self, value: str) -> str:
        return hmac.new(self._key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:20]

    def _author(self, platform: str, handle: str) -> str:
        return "p_" + self._digest(f"{platform}\x00{handle.lstrip('@').casefold()}")

    def text(self, text: str, *, platform: str) -> str:
        """``text`` with e-mail addresses and @handles replaced by pseudonyms; a handle gets the
        same pseudonym as that author's ``author_handle`` on ``platform``."""
        if "@" not in text:
            return text
        text = _EMAIL.sub(lambda m: "e_" + self._digest("email\x00" + m.group(0).casefold()), text)
        return _HANDLE.sub(lambda m: "@" + self.author(platform, m.group(1)), text)

"""Real mail servers for the e-mail connector tests: Debian's dovecot (IMAP) started from a throwaway
config in tmp_path on a free port, and aiosmtpd (SMTP) in-process. The SMTP server delivers what
it accepts into the dovecot mailbox over IMAP APPEND, so a reply sent with ``bcc_self`` really
arrives where :meth:`EmailConnector.find_published` looks for it."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "support@radwerk.example", "imap-secret-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dovecot_config(base: Path, home_root: Path, port: int) -> str:
    """A minimal dovecot 2.3 config: plain IMAP on 127.0.0.1:port, one passwd-file user, Maildir."""
    if os.geteuid() == 0:
        # dovecot refuses mail uid 0 and runs its helpers as the dovecot users
        internal, login, mail_user, mail_group, auth = "dovecot", "dovenull", "nobody", "nogroup", "root"
    else:
        me = pwd.getpwuid(os.geteuid()).pw_name
        internal = login = mail_user = auth = me
        mail_group = str(os.getegid())
    return f"""
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {internal if os.geteuid() else "dovecot"}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {base}/passwd
  default_fields = uid={mail_user} gid={mail_group} home={home_root}/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {auth}
}}
service auth-worker {{
  user = {auth}
}}
"""


@dataclass
class Dovecot:
    port: int
    log: Path
    config: Path
    host: str = "127.0.0.1"

    def imap(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(USER, PASSWORD)
        return conn

    def deliver(self, message: bytes, mailbox: str = "INBOX") -> int:
        """Put a message into ``mailbox`` (APPEND); its UID."""
        conn = self.imap()
        try:
            conn.create(mailbox) if mailbox != "INBOX" else None
            typ, data = conn.append(mailbox, None, None, message)
            assert typ == "OK", data
            return int(data[0].split()[2].rstrip(b"]"))
        finally:
            conn.logout()

    def expunge_all(self) -> None:
        conn = self.imap()
        try:
            conn.select("INBOX")
            conn.store("1:*", "+FLAGS", "\\Deleted")
            conn.expunge()
        finally:
            conn.logout()

    def new_uidvalidity(self, value: int) -> None:
        """What a restored or re-created mailbox looks like to a client: the same mails under a new
        UIDVALIDITY (set with doveadm, as an administrator would)."""
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        subprocess.run(
            [doveadm, "-c", str(self.config), "mailbox", "update", "-u", USER, "--uid-validity", str(value), "INBOX"],
            check=True,
            capture_output=True,
        )


def start_dovecot(tmp_path: Path) -> Iterator[Dovecot]:
    if not Path(DOVECOT).exists():
        pytest.skip("Debian's dovecot-imapd is not installed (apt-get install dovecot-imapd); .ci/run installs it")
    base = tmp_path / "dovecot"
    (base / "run").mkdir(parents=True)
    (base / "state").mkdir()
    (base / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n", encoding="utf-8")
    # the mail process runs as an unprivileged user that cannot enter pytest's 0700 tmp_path
    home_root = Path(tempfile.mkdtemp(prefix="resonanz-maildir-"))
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(home_root, nobody.pw_uid, nobody.pw_gid)
    port = free_port()
    config = base / "dovecot.conf"
    config.write_text(dovecot_config(base, home_root, port), encoding="utf-8")
    proc = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    server = Dovecot(port=port, log=base / "dovecot.log", config=config)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server.imap().logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    log = server.log.read_text() if server.log.exists() else ""
                    pytest.fail(f"dovecot did not start: {out}\n{log}")
                time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(home_root, ignore_errors=True)


@dataclass
class Smtp:
    """aiosmtpd in-process; accepted mail is kept and, for the mailbox's own address, delivered."""

    dovecot: Dovecot
    port: int = 0
    received: list[tuple[list[str], Message]] = field(default_factory=list)
    #: answers for the next RCPT / DATA commands, e.g. "550 5.1.1 no such user"
    rcpt_answers: dict[str, str] = field(default_factory=dict)
    data_answer: str | None = None
    drop_after_data: bool = False
    auth_users: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any) -> str:
        if address in self.rcpt_answers:
            return self.rcpt_answers[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_answer:
            return self.data_answer
        content = envelope.original_content or b""
        self.received.append((list(envelope.rcpt_tos), message_from_bytes(content, policy=policy.default)))
        if USER in envelope.rcpt_tos:
            self.dovecot.deliver(content)
        if self.drop_after_data:
            server.transport.close()  # the message is delivered, the client never hears "250"
        return "250 Message accepted"


def start_smtp(dovecot: Dovecot) -> Iterator[Smtp]:
    handler = Smtp(dovecot=dovecot)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port
    try:
        yield handler
    finally:
        controller.stop()

"""Sources, the first stage: a mailbox that purchase orders are mailed to (``kind = "imap"``).

A poll lists the order mails that arrived since the last one (the folder's cursor in the
ledger: UIDVALIDITY and the first UID not yet examined), fetched with ``BODY.PEEK`` so no
mail is marked read; each is one input, a container the run opens (``ingest.readers.mail``).
Once the batch is published, order mails move to ``processed_folder`` (or, read but with
nothing to take, to ``review_folder``), and only then does the cursor move on: a poll killed
in between examines the same mails again, and the ledger, which knows their attachments'
sha256, outputs nothing twice. Mail is never deleted; unrelated mail is never touched.
"""

from __future__ import annotations

import imaplib
import os
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date
from typing import Any

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import IMAPClientError, LoginError

from ingest.config import Settings
from ingest.config import Source as SourceConfig
from ingest.errors import InputError
from ingest.inputs import Fate, Input, Outcome
from ingest.ledger import Ledger
from ingest.mailbox import Mailbox, secret
from ingest.readers.mailheaders import decode_header_text, sender_matches, subject_matches

FETCH_BATCH = 200  # messages per FETCH: one round trip each, bounded memory
HEADERS = b"BODY[HEADER.FIELDS (SUBJECT FROM MESSAGE-ID DATE)]"
# Set on an order mail once it is settled, where the server cannot MOVE (an IMAP4rev1
# server without RFC 6851): the next poll passes over mail with it.
DONE_KEYWORD = b"$ordermill-done"


class ImapSource:
    listing_kinds: tuple[str, ...] = (".eml",)  # (``Source``: a mailbox lists mails)

    def __init__(self, config: SourceConfig, settings: Settings,
                 since: date | None = None) -> None:
        assert config.mailbox is not None  # (kind = "imap": ingest.config)
        self.config = config
        self.name = config.name
        self.mailbox: Mailbox = config.mailbox
        self.since_once = since  # ``poll --since``: older mail too, this once
        self.client: IMAPClient | None = None
        self.uidvalidity = 0
        self.uidnext = 0
        self.examined = 0  # the highest UID looked at in this poll
        self.deferred: int | None = None  # the first order mail left for the next poll
        self.listed: dict[str, tuple[int, str]] = {}  # input name -> (uid, Message-ID)
        self.settled: dict[int, tuple[str, str, str | None]] = {}  # uid -> (where, outcome, why)

    # listing --------------------------------------------------------------------------------
    def list_inputs(self, ledger: Ledger) -> list[Input]:
        """The order mails not examined yet. Raises InputError (``source-unreachable``)
        naming the mailbox and the cause when it cannot be polled; nothing is lost."""
        with self._unreachable("poll"):
            self.client = self._connect()
            selected = self.client.select_folder(self.mailbox.folder)
            self.uidvalidity = int(selected[b"UIDVALIDITY"])
            self.uidnext = int(selected.get(b"UIDNEXT", 0))
            cursor = ledger.mail_cursor(self.mailbox.address, self.mailbox.folder)
            uids = self._new_uids(cursor)
            return self._order_mails(uids)

    def _new_uids(self, cursor: tuple[int, int] | None) -> list[int]:
        """UIDs to examine: after the cursor; on the first poll only mail from the source's
        ``since`` on (else none: a new source takes mail from now on, not years of
        history); all of the folder when its UIDVALIDITY changed (what was output before is
        known to the ledger by its bytes, so nothing comes out twice). ``poll --since``
        adds the mail from that date on, this once."""
        assert self.client is not None
        skip_done: list[Any] = ["UNKEYWORD", DONE_KEYWORD]
        found: set[int] = set()
        if cursor is not None and cursor[0] == self.uidvalidity:
            # (``N:*`` with N past the last UID still matches the last message)
            found = {u for u in self.client.search(["UID", f"{cursor[1]}:*", *skip_done])
                     if u >= cursor[1]}
        elif cursor is not None:  # UIDVALIDITY changed: the mailbox was recreated or moved
            found = set(self.client.search(["NOT", "DELETED", *skip_done]))
        elif self.mailbox.since is not None:
            found = set(self.client.search(["SINCE", self.mailbox.since, *skip_done]))
        if self.since_once is not None:
            found |= set(self.client.search(["SINCE", self.since_once, *skip_done]))
        return sorted(found)

    def _order_mails(self, uids: list[int]) -> list[Input]:
        """The mails among ``uids`` whose subject and sender make them order mails, whole."""
        assert self.client is not None
        wanted: list[tuple[int, str]] = []
        budget = poll_bytes()
        for batch in _batches(uids):
            answers = self.client.fetch(batch, [HEADERS.replace(b"BODY", b"BODY.PEEK"),
                                                b"RFC822.SIZE"])
            for uid, data in sorted(answers.items()):
                if self.deferred is not None:
                    break
                self.examined = max(self.examined, uid)
                head = _headers(data.get(HEADERS, b""))
                if subject_matches(head.get("subject", ""), self.mailbox.subject) and \
                        sender_matches(head.get("from", ""), self.mailbox.senders):
                    budget -= int(data.get(b"RFC822.SIZE", 0))
                    if budget < 0 and wanted:
                        # Memory stays bounded: the mail from here on waits for the next
                        # poll (the cursor stops before it), which comes minutes later.
                        self.deferred = uid
                        break
                    wanted.append((uid, head.get("message-id", "")))
            if self.deferred is not None:
                break
        inputs: list[Input] = []
        ids = dict(wanted)
        for batch in _batches([uid for uid, _ in wanted]):
            for uid, data in sorted(self.client.fetch(batch, ["BODY.PEEK[]"]).items()):
                raw = data.get(b"BODY[]")
                if raw is None:
                    continue  # (expunged meanwhile by another client: nothing to read)
                name = (f"imap://{self.mailbox.address}/{self.mailbox.folder};"
                        f"UIDVALIDITY={self.uidvalidity};UID={uid}")
                self.listed[name] = (uid, ids[uid])
                inputs.append(Input.from_bytes(
                    name, bytes(raw), suffix=".eml", source=self.name,
                    channel=self.config.channel,
                    origin={"kind": "imap", "mailbox": self.mailbox.address,
                            "folder": self.mailbox.folder,
                            "uidvalidity": str(self.uidvalidity), "uid": str(uid),
                            "message_id": ids[uid]},
                    routes=tuple((r.sender, r.channel) for r in self.mailbox.routes),
                    max_attachment_bytes=int(self.mailbox.max_attachment_mb * 1024 * 1024)))
        return inputs

    # settling -------------------------------------------------------------------------------
    def settle(self, outcome: Outcome) -> dict[str, str] | None:
        """Note where the mail goes; the moves are made together in ``finish``."""
        listed = self.listed.get(outcome.input.name)
        if listed is None or outcome.fate in (Fate.RETRY, Fate.WAITING):
            return None  # (a mail left for the next poll, or a part of one)
        uid, _ = listed
        if outcome.fate is Fate.UNREADABLE:
            self.settled[uid] = (self.mailbox.review_folder, "review", outcome.reason)
            why = outcome.reason or "nothing in it could be read"
        else:
            self.settled[uid] = (self.mailbox.processed_folder, outcome.fate.value, None)
            why = "processed"
        target = self.settled[uid][0]
        return {"path": outcome.input.name, "to": f"imap://{self.mailbox.address}/{target}",
                "why": why}

    def finish(self, ledger: Ledger, run_id: int) -> list[dict[str, str]]:
        """Move the settled mails, then the cursor: past every mail examined, except one
        left for the next poll (a passing fault) or one that could not be moved. Returns
        problems to report (a mailbox that dropped while mail was moved)."""
        problems: list[dict[str, str]] = []
        if self.client is None:
            return problems
        moved: set[int] = set()
        try:
            with self._unreachable("move mail in"):
                for folder in sorted({where for where, _, _ in self.settled.values()}):
                    uids = sorted(u for u, s in self.settled.items() if s[0] == folder)
                    self._move(uids, folder)
                    moved.update(uids)
        except InputError as exc:
            problems.append({"path": exc.path, "code": exc.code, "reason": exc.reason
                             + "; the mail stays and the next poll moves it (its lines are "
                             "published: nothing is output twice)"})
        left = [uid for uid, _ in self.listed.values() if uid not in moved]
        if self.deferred is not None:
            left.append(self.deferred)
        next_uid = min(left) if left else max(self.uidnext, self.examined + 1, 1)
        ids = {uid: message_id for uid, message_id in self.listed.values()}
        ledger.set_mail_cursor(
            self.mailbox.address, self.mailbox.folder, self.uidvalidity, next_uid,
            [(uid, ids[uid], outcome, why) for uid, (_, outcome, why) in
             sorted(self.settled.items()) if uid in moved], run_id)
        self.close()
        return problems

    def _move(self, uids: list[int], folder: str) -> None:
        assert self.client is not None
        if not uids:
            return
        if not self.client.folder_exists(folder):
            self.client.create_folder(folder)
        if self.client.has_capability("MOVE"):
            self.client.move(uids, folder)
        else:  # copied there, and the original marked so polls pass over it: never deleted
            self.client.copy(uids, folder)
            self.client.add_flags(uids, [DONE_KEYWORD])

    def close(self) -> None:
        if self.client is not None:
            with suppress(Exception):  # (a dead connection has nothing left to close)
                self.client.logout()
            self.client = None

    # the connection -------------------------------------------------------------------------
    def _connect(self) -> IMAPClient:
        box = self.mailbox
        context = ssl.create_default_context(cafile=str(box.ca_file) if box.ca_file else None)
        timeout = SocketTimeout(connect=box.timeout_seconds, read=box.timeout_seconds)
        client = IMAPClient(box.host, port=box.port, ssl=box.tls == "implicit",
                            ssl_context=context, timeout=timeout)
        try:
            if box.tls == "starttls":
                client.starttls(context)
            token = secret(box, self.name)
            if box.oauth2_token_command:
                client.oauth2_login(box.user, token)
            else:
                client.login(box.user, token)
        except BaseException:
            with suppress(Exception):
                client.shutdown()
            raise
        return client

    @contextmanager
    def _unreachable(self, doing: str) -> Iterator[None]:
        """Whatever fails while talking to the server becomes one line naming the mailbox
        and the cause (``source-unreachable``), never a traceback."""
        try:
            yield
        except InputError:
            self.close()
            raise
        except (OSError, IMAPClientError, imaplib.IMAP4.error, EOFError) as exc:
            self.client = None  # (dead, or in a state no command should follow)
            raise InputError.of(f"source {self.name}", "source-unreachable",
                                reason=f"cannot {doing} mailbox {self.name} "
                                f"({self.mailbox.address}:{self.mailbox.port}): "
                                f"{cause(exc, self.mailbox)}") from None


def poll_bytes() -> int:
    """How many bytes of order mail one poll fetches at most (``ORDERMILL_POLL_MB``, default
    512): the rest waits for the next poll, so a mailbox that filled up over a holiday never
    takes more memory than that at once."""
    return int(float(os.environ.get("ORDERMILL_POLL_MB", "512")) * 1024 * 1024)


def cause(exc: BaseException, box: Mailbox) -> str:
    """What went wrong, in words that point at the fix."""
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, LoginError):
        return f"login refused for {box.user}: {text}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"the server's certificate is not trusted or does not name {box.host} "
                f"({exc.verify_message}); set ca_file for a private CA")
    if isinstance(exc, ssl.SSLError):
        return (f"TLS failed ({exc.reason or text}): is port {box.port} a plain port? "
                "(tls = \"implicit\" wants 993, \"starttls\" 143)")
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running, and the port right?)"
    if isinstance(exc, socket.gaierror):
        return f"host {box.host} not found ({exc.strerror})"
    if isinstance(exc, TimeoutError | socket.timeout):
        return (f"no answer within {box.timeout_seconds:g} s (the server hangs, or it speaks "
                "TLS on a port read as plain: check tls and port)")
    if isinstance(exc, imaplib.IMAP4.abort | EOFError | ConnectionError):
        return f"the server dropped the connection ({text})"
    if "select" in text.lower() or "mailbox doesn't exist" in text.lower() or \
            "nonexistent" in text.lower():
        return f"folder {box.folder!r} does not exist ({text})"
    return text


def _batches(uids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(uids), FETCH_BATCH):
        yield uids[start:start + FETCH_BATCH]


def _headers(raw: bytes) -> dict[str, str]:
    """Subject, From (its address), Message-ID and Date of a header block, decoded."""
    from email.utils import getaddresses

    fields: dict[str, str] = {}
    name = ""
    for line in raw.replace(b"\r\n", b"\n").split(b"\n"):
        if line[:1] in (b" ", b"\t") and name:
            fields[name] += b" ".join([b"", line.strip()]).decode("latin-1")
            continue
        head, colon, value = line.partition(b":")
        if colon:
            name = head.strip().lower().decode("latin-1")
            fields[name] = value.strip().decode("latin-1")
    decoded = {k: decode_header_text(v.encode("latin-1")) for k, v in fields.items()}
    addresses = getaddresses([decoded.get("from", "")])
    decoded["from"] = addresses[0][1].lower() if addresses else ""
    decoded["message-id"] = decoded.get("message-id", "").strip().strip("<>")
    return decoded

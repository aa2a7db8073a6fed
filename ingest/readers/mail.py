"""Reading, the second stage: a mail is a container input, and its attachments and body
tables are the inputs read.

A mail comes from a mailbox (``ingest.sources.imap``), or as a file: ``.eml`` (one message)
or ``.mbox`` (many). Opening it (``ingest.readers.mime``) gives its parts; each part a reader
takes becomes an input named after the mail (``<mail>/<attachment>``), read with the channel
its sender is routed to, or by detection; a body table that no mapping recognises is not an
order (a signature, a quoted price list) and is passed over. PDFs and scans (PNG, JPEG,
TIFF) are parts like workbooks: the scan reader takes them (``ingest.readers.scan``). What
cannot be taken (a damaged attachment, an image of a kind no reader takes, a mail with
nothing to read) is a problem of the mail: it goes to review with the reason, and is never
read as data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.errors import InputError
from ingest.inputs import Input
from ingest.mailbox import DEFAULT_ATTACHMENT_BYTES
from ingest.readers import READERS
from ingest.readers.mime import Mail, MailLimits, parse_mail, sender_matches, split_mbox

# Parts that are documents ordermill has no reader for (images the scan reader does not
# take): the mail goes to review. PDFs, PNGs, JPEGs and TIFFs are in ``READERS``.
DOCUMENT_SUFFIXES = (".pdf", ".jpg", ".png", ".gif", ".tif", ".bmp", ".webp")
PROBLEM_CODES = {"damaged-attachment": "damaged-attachment",
                 "attachment-too-large": "attachment-too-large", "zip-bomb": "zip-bomb",
                 "tnef-unreadable": "tnef-unreadable", "damaged-mail": "damaged-mail"}
CONTEXT_ROW = 1_000_000_000  # form rows from the mail number from here: after any sheet's


@dataclass
class OpenedMail:
    """One message: the inputs to read from it, and what stops it from being taken whole."""

    name: str  # the mail as lineage names it (``<mailbox or file>``, ``#N`` in an mbox)
    mail: Mail
    parts: list[Input] = field(default_factory=list)
    problems: list[InputError] = field(default_factory=list)
    passed_over: list[str] = field(default_factory=list)  # parts that are not orders

    def nothing_to_read(self) -> InputError:
        others = f" (it holds: {', '.join(self.passed_over)})" if self.passed_over else ""
        return InputError.of(self.name, "no-order-data",
                             reason=f"mail {self.described} has no attachment or body table "
                             f"that ordermill reads{others}")

    @property
    def described(self) -> str:
        subject = self.mail.subject[:80] or "(no subject)"
        return f"{subject!r} from {self.mail.sender or '(no sender)'}"


def open_mails(one: Input) -> list[OpenedMail]:
    """The messages of a mail input (one, or an mbox's many), opened. Raises InputError
    when the file cannot be read at all."""
    data = one.read_bytes()
    if not data:
        raise InputError.of(one.name, "empty-file")
    messages = split_mbox(data) if one.suffix == ".mbox" else [data]
    limits = MailLimits(max_attachment_bytes=one.max_attachment_bytes
                        or DEFAULT_ATTACHMENT_BYTES)
    opened = []
    for index, raw in enumerate(messages, start=1):
        name = f"{one.name}#{index}" if one.suffix == ".mbox" else one.name
        opened.append(_opened(one, name, index, parse_mail(raw, limits)))
    return opened


def _opened(one: Input, name: str, index: int, mail: Mail) -> OpenedMail:
    opened = OpenedMail(name, mail)
    channel = _routed(mail.sender, one.routes) or one.channel
    context = mail_context(mail)
    taken: set[str] = set()
    for problem in mail.problems:
        opened.problems.append(InputError.of(
            f"{name}/{problem.name}" if problem.name else name,
            PROBLEM_CODES.get(problem.code, "damaged-attachment"), reason=problem.reason))
    for part in mail.parts:
        if part.kind == "inline":
            continue  # (a logo in an HTML mail: not an order document)
        label = _unique(part.name, taken)
        if part.suffix in READERS:
            origin = {**one.origin, "mail": name, "message_id": mail.message_id,
                      "part": part.where, "attachment": part.name, "listed": one.name}
            if one.suffix == ".mbox":
                origin["message"] = str(index)
            opened.parts.append(Input.from_bytes(
                f"{name}/{label}", part.data, suffix=part.suffix, origin=origin,
                source=one.source, channel=channel, context=context,
                optional=part.kind == "body-table"))
        elif part.suffix in DOCUMENT_SUFFIXES:
            opened.problems.append(InputError.of(
                f"{name}/{label}", "no-reader",
                reason=f"attachment {part.name!r} is a {part.suffix[1:].upper()} image: "
                "ordermill reads scans as PDF, PNG, JPEG or TIFF, not this kind; the mail "
                "goes to review"))
        else:
            opened.passed_over.append(f"{part.name} ({part.declared_type or part.suffix})")
    return opened


def mail_context(mail: Mail) -> tuple[tuple[str, ...], ...]:
    """The mail as rows a mapping's form labels read (``ingest.mapping.form``): its
    subject, sender, sent date and Message-ID labelled, then each line of its body."""
    rows: list[tuple[str, ...]] = [("Subject:", mail.subject), ("From:", mail.sender),
                                   ("Sent:", mail.sent_at), ("Message-ID:", mail.message_id)]
    rows += [(line.strip(),) for line in mail.body_text.splitlines() if line.strip()]
    return tuple(rows)


def context_rows(one: Input) -> list[tuple[int, list[str]]]:
    """An input's mail context as numbered rows, placed after any of its sheet's own."""
    return [(CONTEXT_ROW + i, list(cells)) for i, cells in enumerate(one.context)]


def _routed(sender: str, routes: tuple[tuple[str, str], ...]) -> str | None:
    for pattern, channel in routes:
        if sender_matches(sender, [pattern]):
            return channel
    return None


def _unique(name: str, taken: set[str]) -> str:
    """The part's name, made unique within its mail (two attachments called PO.xlsx)."""
    label, counter = name, 2
    while label in taken:
        stem, dot, suffix = name.rpartition(".")
        label = f"{stem} ({counter}).{suffix}" if dot else f"{name} ({counter})"
        counter += 1
    taken.add(label)
    return label

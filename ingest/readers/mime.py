"""Reading, the second stage: a mail taken apart into the documents it carries.

A mail is a container: its attachments (also those of forwarded mails, zip members and the
files in an Outlook ``winmail.dat``) and the tables written in its body each become a
``Part``, later an ``Input`` of its own; what cannot be read becomes a ``Problem`` naming the
attachment, never an exception. Parsing is Python's ``email`` package with the ``compat32``
policy (8x faster than ``policy.default`` on mails with an attachment) and our own decoding
of what real mail gets wrong: GB2312 labels on GBK text, raw 8-bit GB18030 headers, encoded
words cut inside a character, RFC 2231 names in any charset, base64 that is broken or cut,
declared types that lie (the kind comes from the bytes: ``sniff``).
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesParser

from ingest.readers import zipped
from ingest.readers.bodytables import body_tables, html_text
from ingest.readers.mailheaders import (
    address_of,
    decode_bytes,
    decode_header_text,
    file_name,
    header_value,
    iso_date,
    message_id_of,
    param_value,
    raw_bytes,
    sender_matches,
    split_mbox,
    split_params,
    subject_matches,
)
from ingest.readers.zipped import sniff

__all__ = ["Mail", "MailLimits", "Part", "Problem", "decode_header_text", "parse_mail",
           "sender_matches", "sniff", "split_mbox", "subject_matches"]


@dataclass(frozen=True)
class Part:
    """A document the mail carries: an attachment, a file inside one, or a body table."""

    name: str  # decoded file name, or made up ("body-table-1.csv"); "a.zip/b.xlsx" inside
    data: bytes
    suffix: str  # the kind by the bytes (``sniff``)
    declared_type: str  # the Content-Type as declared, lower case
    kind: str  # "attachment" | "body-table" | "inline" (an image the HTML shows: a logo)
    where: str  # MIME part path ("2", "2.1", "2/1.2" inside a forward, "3/b.xlsx"), "body"


@dataclass(frozen=True)
class Problem:
    """An attachment (or the mail) that is not read, with a catalogued code and a reason."""

    where: str
    name: str
    code: str  # damaged-attachment, attachment-too-large, zip-bomb, tnef-unreadable,
    #            damaged-mail
    reason: str


@dataclass(frozen=True)
class Mail:
    message_id: str  # without <>; "" when missing
    subject: str
    sender: str  # the From address, lower case
    sender_name: str
    sent_at: str  # ISO 8601 with its offset, "" when missing or unreadable
    body_text: str  # the body's text (forwarded mails' bodies follow, a blank line apart)
    parts: tuple[Part, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class MailLimits:
    max_attachment_bytes: int = 50 * 1024 * 1024
    max_zip_members: int = 100
    max_zip_total_bytes: int = 200 * 1024 * 1024
    max_zip_ratio: int = 100


MAX_FORWARD_DEPTH = 10
_PARSER = BytesParser(policy=policy.compat32)
B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
IGNORED_TYPES = frozenset((
    "text/calendar", "text/vcard", "text/x-vcard", "text/directory", "application/ics",
    "application/pgp-signature", "application/pkcs7-signature",
    "application/x-pkcs7-signature", "application/pgp-keys", "message/delivery-status",
    "message/disposition-notification", "text/rfc822-headers"))
STRUCTURE_DEFECTS = {
    "NoBoundaryInMultipartDefect": "it says it has parts but names no boundary between them",
    "StartBoundaryNotFoundDefect": "the boundary between its parts never occurs",
    "CloseBoundaryNotFoundDefect": "it ends before its last part's closing boundary: it "
                                   "was cut off",
    "MultipartInvariantViolationDefect": "its parts are not laid out as MIME says"}


# ---- the mail ---------------------------------------------------------------------------

def parse_mail(data: bytes, limits: MailLimits = MailLimits()) -> Mail:
    """The mail's headers, body text, documents and problems. Never raises for what is in
    the bytes: a damaged mail or attachment is a Problem."""
    walk = _Walk(limits)
    too_deep = ("the mail is damaged: its parts are nested too deep to follow; it is not "
                "read")
    try:
        message = _PARSER.parsebytes(data)
    except RecursionError:
        message = _PARSER.parsebytes(data, headersonly=True)
        walk.problem("", "", "damaged-mail", too_deep)
        return _mail(message, "", [], walk.problems)
    if not data.strip() or not message.keys():
        walk.problem("", "", "damaged-mail", "the mail has no header fields: it is not an "
                     "e-mail message (MIME)" if data.strip() else "the mail is empty")
        return Mail("", "", "", "", "", "", (), tuple(walk.problems))
    try:
        body = walk.message(message, "", 0)
        return _mail(message, body.full_text(), walk.parts(), walk.problems)
    except RecursionError:
        walk.problem("", "", "damaged-mail", too_deep)
        return _mail(message, "", [], walk.problems)


def _mail(message: Message, body_text: str, parts: list[Part], problems: list[Problem]
          ) -> Mail:
    sender, sender_name = address_of(header_value(message, "from") or "")
    return Mail(message_id=message_id_of(header_value(message, "message-id") or ""),
                subject=decode_header_text(header_value(message, "subject") or ""),
                sender=sender, sender_name=sender_name,
                sent_at=iso_date(header_value(message, "date") or ""), body_text=body_text,
                parts=tuple(parts), problems=tuple(problems))


@dataclass
class _Body:
    """One message's body, gathered while its parts are walked."""

    where: str  # "body", or "2/body" for a forwarded mail in part 2
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    forwarded: list[_Body] = field(default_factory=list)

    def sources(self) -> tuple[str, str]:
        return "\n".join(self.plain), "\n".join(self.html)

    def text(self) -> str:
        plain, html = self.sources()
        return plain.strip("\n") if plain.strip() else html_text(html) if html else ""

    def full_text(self) -> str:
        texts = [self.text(), *(inner.full_text() for inner in self.forwarded)]
        return "\n\n".join(text for text in texts if text.strip())


class _Walk:
    """The parts of a mail in mail order, depth first; each message's body takes the place
    of its first text part, and becomes its tables when the walk is done."""

    def __init__(self, limits: MailLimits) -> None:
        self.limits = limits
        self.items: list[Part | _Body] = []
        self.problems: list[Problem] = []

    def problem(self, where: str, name: str, code: str, reason: str) -> None:
        self.problems.append(Problem(where, name, code, reason))

    def parts(self) -> list[Part]:
        out: list[Part] = []
        for item in self.items:
            if isinstance(item, Part):
                out.append(item)
                continue
            plain, html = item.sources()
            declared = "text/html" if html else "text/plain"
            for _, table in body_tables(html or None, plain or None):
                name = f"body-table-{sum(p.kind == 'body-table' for p in out) + 1}.csv"
                out.append(Part(name, table, ".csv", declared, "body-table", item.where))
        return out

    def message(self, message: Message, prefix: str, depth: int) -> _Body:
        body = _Body(f"{prefix}/body" if prefix else "body")
        self.entity(message, "", prefix, body, related=False, cut=False, depth=depth)
        return body

    def entity(self, entity: Message, path: str, prefix: str, body: _Body, *,
               related: bool, cut: bool, depth: int) -> None:
        where = f"{prefix}/{path or '1'}" if prefix else path or "1"
        if entity.get_content_maintype() == "multipart":
            for defect in entity.defects:
                explained = STRUCTURE_DEFECTS.get(type(defect).__name__)
                if explained:
                    place = f"part {where} of the mail" if path or prefix else "the mail"
                    self.problem(where if path or prefix else "", "", "damaged-mail",
                                 f"{place} is damaged: {explained} "
                                 f"({type(defect).__name__})")
            children = entity.get_payload()
            if not isinstance(children, list):
                return
            closed = not any(type(d).__name__ == "CloseBoundaryNotFoundDefect"
                             for d in entity.defects)
            for number, child in enumerate(children, 1):
                self.entity(child, f"{path}.{number}" if path else str(number), prefix, body,
                            related=entity.get_content_subtype() == "related",
                            cut=cut or (not closed and number == len(children)), depth=depth)
        elif entity.get_content_type() == "message/rfc822" and entity.is_multipart():
            inner = entity.get_payload(0)
            if isinstance(inner, Message):
                self.forward(_encoded_forward(entity, inner), where, body, depth)
        else:
            self.leaf(entity, where, body, related=related, cut=cut, depth=depth)

    def forward(self, inner: Message, where: str, body: _Body, depth: int) -> None:
        if depth >= MAX_FORWARD_DEPTH:
            self.problem(where, "", "damaged-mail", f"part {where} of the mail holds mails "
                         f"forwarded more than {MAX_FORWARD_DEPTH} deep: those are not read")
            return
        body.forwarded.append(self.message(inner, where, depth + 1))

    def leaf(self, entity: Message, where: str, body: _Body, *, related: bool, cut: bool,
             depth: int) -> None:
        content_type = entity.get_content_type()
        declared, type_params = split_params(header_value(entity, "content-type") or "")
        disposition, disposition_params = split_params(
            header_value(entity, "content-disposition") or "")
        name = file_name(param_value(disposition_params, "filename")
                          or param_value(type_params, "name"))
        if content_type in IGNORED_TYPES:
            return
        if content_type in ("text/plain", "text/html") and not name \
                and disposition != "attachment":
            self.body_text(entity, where, content_type, param_value(type_params, "charset"), body)
            return
        # An image the HTML body shows (a logo, a signature): not an order document, and a
        # broken one is no problem of the mail's.
        inline = content_type.startswith("image/") and (
            related or (not name and disposition != "attachment"))
        label = f"attachment {name!r} (part {where})" if name else f"the attachment in " \
                                                                   f"part {where}"
        data = self.decoded(entity, label, where, name, quiet=inline)
        if data is None:
            return
        if cut:
            if not inline:
                self.problem(where, name, "damaged-attachment",
                             f"{label}: the mail ends inside it (its closing boundary is "
                             "missing), so it was cut off; it is not read as data")
            return
        if name.lower().endswith(".eml") and not inline:
            self.forward(_PARSER.parsebytes(data), where, body, depth)
            return
        if declared == "application/ms-tnef" or name.lower() == "winmail.dat" \
                or zipped.is_tnef(data):
            self.tnef(data, name, declared, where, label)
            return
        self.document(name, data, declared, where, label, "inline" if inline else "attachment")

    def document(self, name: str, data: bytes, declared: str, where: str, label: str,
                 kind: str) -> None:
        """An attachment's bytes: a Part, or the files inside it (zip, TNEF)."""
        suffix = sniff(data, name)
        if suffix in (*zipped.WORKBOOKS, ".zip", ".docx") and not zipped.zip_is_whole(data):
            self.problem(where, name, "damaged-attachment", f"{label}: it is a zip archive "
                         "whose end is missing (cut off); it is not read as data")
            return
        if suffix == ".zip":
            self.unzip(data, name or f"attachment-{where}.zip", declared, where, label)
            return
        shown = name or f"attachment-{where.replace('/', '-')}{suffix}"
        self.items.append(Part(shown, data, suffix, declared, kind, where))

    def decoded(self, entity: Message, label: str, where: str, name: str, *, quiet: bool
                ) -> bytes | None:
        """The attachment's bytes after its transfer encoding; None (and a problem, unless
        ``quiet``) when they are damaged or too large."""
        def refuse(code: str, reason: str) -> None:
            if not quiet:
                self.problem(where, name, code, f"{label}: {reason}")

        limit = self.limits.max_attachment_bytes
        encoding = _transfer_encoding(entity)
        payload = entity.get_payload()
        encoded = raw_bytes(payload) if isinstance(payload, str) else b""
        if encoding == "base64":
            # The size is known before anything is decoded: 3 bytes per 4 characters.
            size = (len(encoded) - encoded.count(b"\n") - encoded.count(b"\r")) * 3 // 4
            if size > limit:
                refuse("attachment-too-large", f"it is about {size:,} bytes, over the limit "
                       f"of {limit:,} bytes; it is not read")
                return None
            data, defect = _base64(encoded)
        elif encoding == "quoted-printable":
            data, defect = binascii.a2b_qp(encoded), ""
        elif encoding in ("x-uuencode", "uuencode", "x-uue", "uue"):
            decoded = entity.get_payload(decode=True)
            data, defect = (decoded if isinstance(decoded, bytes) else b""), ""
        else:  # 7bit, 8bit, binary, and what mailers make up ("8bits"): the bytes as sent
            data, defect = encoded, ""
        defects = [defect] if defect else [type(d).__name__ for d in entity.defects]
        if defects:
            refuse("damaged-attachment", f"its {encoding or 'content'} is broken "
                   f"({', '.join(defects)}); it is not read as data")
            return None
        if len(data) > limit:
            refuse("attachment-too-large", f"it is {len(data):,} bytes, over the limit of "
                   f"{limit:,} bytes; it is not read")
            return None
        return data

    def body_text(self, entity: Message, where: str, content_type: str, charset: str | None,
                  body: _Body) -> None:
        payload = entity.get_payload()
        size = len(payload) if isinstance(payload, str) else 0
        if size > self.limits.max_attachment_bytes:  # (its tables would take minutes)
            self.problem(where, "", "attachment-too-large", f"the mail's text (part {where}) "
                         f"is {size:,} bytes, over the limit of "
                         f"{self.limits.max_attachment_bytes:,} bytes; it is not read")
            return
        decoded = entity.get_payload(decode=True)
        raw = decoded if isinstance(decoded, bytes) else b""
        text = decode_bytes(raw, charset).replace("\r\n", "\n").replace("\r", "\n")
        if not body.plain and not body.html:
            self.items.append(body)  # (its tables come where its text is)
        (body.plain if content_type == "text/plain" else body.html).append(text)

    def unzip(self, data: bytes, name: str, declared: str, where: str, label: str) -> None:
        limits = zipped.ZipLimits(self.limits.max_zip_members, self.limits.max_zip_total_bytes,
                                  self.limits.max_zip_ratio, self.limits.max_attachment_bytes)
        found, refused = zipped.unzip(data, limits)
        for refusal in refused:
            if refusal.path:
                self.problem(f"{where}/{refusal.path}", f"{name}/{refusal.path}",
                             refusal.code, f"{label}: its file {refusal.path!r}: "
                             f"{refusal.detail}; it is not read")
            else:
                self.problem(where, name, refusal.code, f"{label}: {refusal.detail}; "
                             "it is not unpacked")
        for member in found:
            self.items.append(Part(f"{name}/{member.path}", member.data, member.suffix,
                                   declared, "attachment", f"{where}/{member.path}"))

    def tnef(self, data: bytes, name: str, declared: str, where: str, label: str) -> None:
        """Outlook's winmail.dat: the files in it, by their own names."""
        try:
            files = zipped.untnef(data)
        except ValueError as exc:
            self.problem(where, name, "tnef-unreadable", f"{label}: this Outlook winmail.dat "
                         f"(TNEF) cannot be read ({exc}); the files in it are not read")
            return
        for number, (inner_name, blob) in enumerate(files, 1):
            shown = file_name(inner_name) or f"winmail-{number}"
            inner_where = f"{where}/{shown}"
            if len(blob) > self.limits.max_attachment_bytes:
                self.problem(inner_where, shown, "attachment-too-large",
                             f"attachment {shown!r} (in winmail.dat, part {where}): it is "
                             f"{len(blob):,} bytes, over the limit of "
                             f"{self.limits.max_attachment_bytes:,} bytes; it is not read")
                continue
            inner_label = f"attachment {shown!r} (in winmail.dat, part {where})"
            self.document(shown, blob, declared, inner_where, inner_label, "attachment")


def _transfer_encoding(entity: Message) -> str:
    return (header_value(entity, "content-transfer-encoding") or "").split(";")[0].strip().lower()


def _encoded_forward(entity: Message, inner: Message) -> Message:
    """A forwarded mail sent in base64 or quoted-printable (MIME forbids it, some mailers do
    it): the parser took the encoded text for a mail without headers; it is decoded and
    parsed again."""
    encoding = _transfer_encoding(entity)
    text = inner.get_payload()
    if encoding not in ("base64", "quoted-printable") or inner.keys() or \
            not isinstance(text, str):
        return inner
    raw = raw_bytes(text)
    return _PARSER.parsebytes(_base64(raw)[0] if encoding == "base64" else
                              binascii.a2b_qp(raw))


def _base64(encoded: bytes) -> tuple[bytes, str]:
    """Strictly decoded base64, or b"" and the defect (named as the email package does):
    the package returns a body with a length error undecoded and drops the last character
    of one with bad padding."""
    body = b"".join(encoded.split())
    if body.translate(None, B64_ALPHABET):
        return b"", "InvalidBase64CharacterDefect"
    core = body.rstrip(b"=")
    if b"=" in core or len(body) - len(core) > 2:
        return b"", "InvalidBase64PaddingDefect"
    if len(core) % 4 == 1:
        return b"", "InvalidBase64LengthDefect"
    if len(body) % 4:
        return b"", "InvalidBase64PaddingDefect"
    try:
        return binascii.a2b_base64(body, strict_mode=True), ""
    except binascii.Error:
        return b"", "InvalidBase64PaddingDefect"

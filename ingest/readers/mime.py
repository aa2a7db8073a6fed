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
import codecs
import fnmatch
import re
import unicodedata
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_tz

from ingest.readers import zipped
from ingest.readers.bodytables import body_tables, html_text
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
ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
FOLDING = re.compile(r"[ \t]*(?:\r\n|\r|\n)[ \t]*")
CONTROLS = re.compile(r"[\x00-\x1f\x7f]")  # (a decoded word may hold any byte: no NULs out)
# Labels that are in practice GB18030, a superset of all of them: a GBK character in a
# subject labelled GB2312 is common and must not come out garbled.
GB_LABELS = frozenset(("gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936", "ms936", "gb18030",
                       "euc-cn", "x-euc-cn", "csgb2312", "x-gb2312", "chinese", "windows-936"))
FALLBACKS = ("utf-8", "gb18030")
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


# ---- headers ----------------------------------------------------------------------------

def _codec(label: str | None) -> str | None:
    """The Python codec of a charset label, None when unknown (then the fallbacks decide)."""
    if not label:
        return None
    label = label.strip().strip('"').lower().split("*", 1)[0]  # (RFC 2231: charset*lang)
    if label in GB_LABELS or label.startswith("gb2312"):
        return "gb18030"
    try:
        name = codecs.lookup(label.removesuffix("-i")).name
        b"0".decode(name)  # (raises LookupError for codecs of no text: "hex", "rot13")
    except UnicodeDecodeError:
        pass  # (a text encoding that one byte is not enough for: UTF-16)
    except (LookupError, UnicodeError, ValueError):
        return None  # (no text encoding, or "undefined")
    return name


def decode_bytes(raw: bytes, label: str | None = None) -> str:
    """Text from bytes in a declared charset; when they are not that (or none is declared):
    UTF-8, then GB18030, then the declared charset with replacements, else Latin-1."""
    codec = _codec(label)
    if raw.isascii() and codec in (None, "ascii", "utf-8", "gb18030", "latin-1", "iso8859-1",
                                   "cp1252", "big5", "cp949", "euc_kr", "shift_jis"):
        return raw.decode("ascii")  # (the common case, and the fastest)
    for encoding in ((codec,) if codec else ()) + FALLBACKS:
        try:
            return raw.decode(encoding)
        except (UnicodeError, ValueError):  # (odd codecs raise more than UnicodeDecodeError)
            pass
    try:
        return raw.decode(codec, errors="replace") if codec else raw.decode("latin-1")
    except (UnicodeError, ValueError):
        return raw.decode("latin-1")


def _raw(value: str | bytes) -> bytes:
    """A header value's bytes: the parser keeps 8-bit bytes as lone surrogates."""
    if isinstance(value, bytes):
        return value
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # (a surrogate no parser made: a caller's odd string)
        return value.encode("utf-8", "replace")


def decode_header_text(raw: str | bytes) -> str:
    """A header's text: RFC 2047 encoded words in any charset (GB labels as GB18030; adjacent
    words of one charset joined as bytes first, since mailers cut them inside a character),
    raw 8-bit text as UTF-8, GB18030 or Latin-1, folding collapsed to one space, stripped.
    A malformed encoded word stays as it is written; nothing here raises."""
    text = FOLDING.sub(" ", decode_bytes(_raw(raw)))
    out: list[str] = []
    run_charset: str | None = None
    run = bytearray()
    end = 0
    for word in ENCODED_WORD.finditer(text):
        payload = _word_bytes(word.group(2), word.group(3))
        if payload is None:
            continue  # (malformed: it stays in the text between the words around it)
        between = text[end:word.start()]
        charset = word.group(1).lower().split("*", 1)[0]
        # Whitespace between two encoded words is not text (RFC 2047, 6.2).
        joined = run_charset is not None and (not between or between.isspace())
        if run_charset is not None and (not joined or charset != run_charset):
            out.append(decode_bytes(bytes(run), run_charset))
            run.clear()
        if not joined:
            out.append(between)
        run_charset = charset
        run += payload
        end = word.end()
    if run_charset is not None:
        out.append(decode_bytes(bytes(run), run_charset))
    out.append(text[end:])
    return CONTROLS.sub(_no_control, "".join(out)).strip()


def _no_control(match: re.Match[str]) -> str:
    return " " if match.group(0) in "\t\r\n" else ""


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    if encoding in "bB":
        body = "".join(payload.split()).rstrip("=")
        if not re.fullmatch(r"[A-Za-z0-9+/]*", body) or len(body) % 4 == 1:
            return None
        return binascii.a2b_base64(body + "=" * (-len(body) % 4))
    try:
        return binascii.a2b_qp(payload.encode("utf-8", "surrogateescape"), header=True)
    except (binascii.Error, ValueError):
        return None


def _header(entity: Message, name: str) -> str | None:
    """A header's value as it came (8-bit bytes as surrogates), None when absent."""
    for key, value in entity.raw_items():
        if key.lower() == name:
            return str(value)
    return None


PARAM = re.compile(r'\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*(?:"|$)|[^;]*)', re.S)


def _params(value: str) -> tuple[str, list[tuple[str, str]]]:
    """A structured header's main value (lower case) and its parameters, unquoted."""
    value = re.sub(r"\r?\n(?=[ \t])", "", value)
    main, _, rest = value.partition(";")
    params = []
    for match in PARAM.finditer(rest):
        raw = match.group(2).strip()
        if raw.startswith('"'):
            raw = re.sub(r'\\(["\\])', r"\1", raw[1:].removesuffix('"'))
        params.append((match.group(1).lower(), raw))
    return main.strip().lower(), params


def _param(params: list[tuple[str, str]], wanted: str) -> str | None:
    """A parameter's decoded value: RFC 2231 (continuations, charsets) over the plain
    form, which may hold RFC 2047 words or raw 8-bit text."""
    plain: str | None = None
    pieces: dict[int, tuple[str, bool]] = {}
    for name, value in params:
        if name == wanted:
            plain = value if plain is None else plain
        elif name.startswith(wanted + "*"):
            index = name[len(wanted) + 1:]
            encoded = index.endswith("*") or index == ""
            index = index.rstrip("*") or "0"
            if index.isdigit():
                pieces.setdefault(int(index), (value, encoded))
    if pieces:
        charset: str | None = None
        joined = bytearray()
        for number, (value, encoded) in sorted(pieces.items()):
            if encoded and number == min(pieces) and value.count("'") >= 2:
                charset, _language, value = value.split("'", 2)
            joined += (urllib.parse.unquote_to_bytes(_raw(value)) if encoded else _raw(value))
        return decode_bytes(bytes(joined), charset)
    return None if plain is None else decode_header_text(plain)


def _file_name(raw: str | None) -> str:
    """The last component of a name that came with a path (C:\\fakepath\\po.xlsx)."""
    if not raw:
        return ""
    name = re.split(r"[\\/]", raw)[-1]
    name = re.sub(r"^[A-Za-z]:", "", name)
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return "" if name in (".", "..") else name


def _address(raw: str) -> tuple[str, str]:
    """(address lower case, display name) of the first mailbox in a From header."""
    text = FOLDING.sub(" ", decode_bytes(_raw(raw)))
    try:
        name, address = getaddresses([text])[0]
    except (IndexError, ValueError):
        name, address = "", ""
    if "@" not in address:
        found = re.search(r"[^\s<>\"',;:()]+@[^\s<>\"',;:()]+", text)
        address = found.group(0) if found else ""
        name = name or text.split("<", 1)[0].strip().strip('"')
    return address.strip().lower(), decode_header_text(name).strip('"').strip()


def _iso_date(raw: str) -> str:
    text = FOLDING.sub(" ", decode_bytes(_raw(raw))).strip()
    try:
        parsed = parsedate_tz(text)
        if parsed is None:
            moment = datetime.fromisoformat(text)
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)
                    ).isoformat()
        offset = timezone(timedelta(seconds=parsed[9] or 0))
        return datetime(*parsed[:6], tzinfo=offset).isoformat()
    except (ValueError, OverflowError, IndexError, TypeError):
        return ""


def _message_id(raw: str) -> str:
    text = FOLDING.sub(" ", decode_bytes(_raw(raw))).strip()
    found = re.search(r"<([^<>]*)>", text)
    return (found.group(1) if found else text).strip()


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
    sender, sender_name = _address(_header(message, "from") or "")
    return Mail(message_id=_message_id(_header(message, "message-id") or ""),
                subject=decode_header_text(_header(message, "subject") or ""),
                sender=sender, sender_name=sender_name,
                sent_at=_iso_date(_header(message, "date") or ""), body_text=body_text,
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
        declared, type_params = _params(_header(entity, "content-type") or "")
        disposition, disposition_params = _params(_header(entity, "content-disposition") or "")
        name = _file_name(_param(disposition_params, "filename")
                          or _param(type_params, "name"))
        if content_type in IGNORED_TYPES:
            return
        if content_type in ("text/plain", "text/html") and not name \
                and disposition != "attachment":
            self.body_text(entity, where, content_type, _param(type_params, "charset"), body)
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
        encoded = _raw(payload) if isinstance(payload, str) else b""
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
            shown = _file_name(inner_name) or f"winmail-{number}"
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
    return (_header(entity, "content-transfer-encoding") or "").split(";")[0].strip().lower()


def _encoded_forward(entity: Message, inner: Message) -> Message:
    """A forwarded mail sent in base64 or quoted-printable (MIME forbids it, some mailers do
    it): the parser took the encoded text for a mail without headers; it is decoded and
    parsed again."""
    encoding = _transfer_encoding(entity)
    text = inner.get_payload()
    if encoding not in ("base64", "quoted-printable") or inner.keys() or \
            not isinstance(text, str):
        return inner
    raw = _raw(text)
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


# ---- mbox files and filters -------------------------------------------------------------

FROM_LINE = re.compile(rb"^From [^\r\n]*", re.M)
ENVELOPE = re.compile(rb"^From \S+\s+.*\d{1,2}:\d\d.*\d{4}")
HEADER_LINE = re.compile(rb"[!-9;-~]+:")
QUOTED_FROM = re.compile(rb"^>(>*From )", re.M)


def split_mbox(data: bytes) -> list[bytes]:
    """The messages of an mbox file, each as its raw bytes: split at "From " lines that
    open a message (two of: the envelope's shape with a time and a year, a blank line or
    the file's start before it, a header line after it), so a body line that begins with
    "From " unquoted stays in its message; ">From " lines (mboxrd) lose one ">"."""
    starts: list[tuple[int, int]] = []  # (start of the From line, start of the message)
    for line in FROM_LINE.finditer(data):
        at, end = line.start(), line.end()
        before = data[max(0, at - 4):at]
        blank_before = at == 0 or before.endswith((b"\n\n", b"\n\r\n"))
        after = data[end:end + 2]
        body_start = end + (2 if after == b"\r\n" else 1 if after[:1] == b"\n" else 0)
        header_after = bool(HEADER_LINE.match(data, body_start))
        if blank_before + bool(ENVELOPE.match(line.group(0))) + header_after >= 2:
            starts.append((at, body_start))
    if not starts:
        return [data] if data.strip() else []
    messages = []
    for (_, begin), (next_at, _) in zip(starts, [*starts[1:], (len(data), 0)], strict=True):
        chunk = data[begin:next_at]
        if next_at < len(data):  # (the blank line that parts it from the next message)
            chunk = chunk[:-2] if chunk.endswith(b"\r\n\r\n") else \
                chunk[:-1] if chunk.endswith(b"\n\n") else chunk
        messages.append(QUOTED_FROM.sub(rb"\1", chunk))
    return messages


def sender_matches(sender: str, patterns: Sequence[str]) -> bool:
    """Whether the address matches one of the patterns (fnmatch, any case): "*@acme.example",
    "buyer@huaxin.example"; "@acme.example" is the whole domain. No patterns: any sender."""
    if not patterns:
        return True
    address = sender.strip().casefold()
    return any(fnmatch.fnmatchcase(address, ("*" + p if p.startswith("@") else p).casefold())
               for p in (p.strip() for p in patterns) if p)


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def subject_matches(subject: str, words: Sequence[str]) -> bool:
    """Whether the subject holds one of the words, in any case and width (full-width ＰＯ＃
    is PO#). No words: any subject."""
    if not words:
        return True
    folded = _folded(subject)
    return any(_folded(word) in folded for word in words if word)

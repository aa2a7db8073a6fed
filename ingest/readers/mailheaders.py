"""Reading, the second stage: a mail's headers as text, and which mails are order mails.

What real mail gets wrong and Python's email package leaves wrong: GB2312 labels on GBK
text (decoded as GB18030), raw 8-bit headers in UTF-8 or GB18030, RFC 2047 words cut inside
a character (joined as bytes first), RFC 2231 file names in any charset, folded and odd
dates; and the filters a mailbox source applies (subject words, sender patterns) and the
splitting of an mbox file into its messages. Nothing here raises on what is in the bytes.
"""

from __future__ import annotations

import binascii
import codecs
import fnmatch
import re
import unicodedata
import urllib.parse
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from email.message import Message
from email.utils import getaddresses, parsedate_tz

ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
FOLDING = re.compile(r"[ \t]*(?:\r\n|\r|\n)[ \t]*")
CONTROLS = re.compile(r"[\x00-\x1f\x7f]")  # (a decoded word may hold any byte: no NULs out)
# Labels that are in practice GB18030, a superset of all of them: a GBK character in a
# subject labelled GB2312 is common and must not come out garbled.
GB_LABELS = frozenset(("gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936", "ms936", "gb18030",
                       "euc-cn", "x-euc-cn", "csgb2312", "x-gb2312", "chinese", "windows-936"))
FALLBACKS = ("utf-8", "gb18030")


# ---- headers ----------------------------------------------------------------------------

# Codecs Python has that are not charsets of mail: ``unicode_escape`` would read backslash
# escapes in an attacker's bytes, ``idna``/``punycode`` are for host names.
PYTHON_ONLY_CODECS = frozenset(("unicode-escape", "raw-unicode-escape", "unicode_escape",
                                "raw_unicode_escape", "idna", "punycode", "palmos",
                                "mbcs", "oem"))


def codec_of(label: str | None) -> str | None:
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
    if name in PYTHON_ONLY_CODECS:
        return None  # (Python's own codecs no mailer writes: they would interpret the text)
    return name


def decode_bytes(raw: bytes, label: str | None = None) -> str:
    """Text from bytes in a declared charset; when they are not that (or none is declared):
    UTF-8, then GB18030, then the declared charset with replacements, else Latin-1."""
    codec = codec_of(label)
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


def raw_bytes(value: str | bytes) -> bytes:
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
    text = FOLDING.sub(" ", decode_bytes(raw_bytes(raw)))
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


def header_value(entity: Message, name: str) -> str | None:
    """A header's value as it came (8-bit bytes as surrogates), None when absent."""
    for key, value in entity.raw_items():
        if key.lower() == name:
            return str(value)
    return None


PARAM = re.compile(r'\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*(?:"|$)|[^;]*)', re.S)


def split_params(value: str) -> tuple[str, list[tuple[str, str]]]:
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


def param_value(params: list[tuple[str, str]], wanted: str) -> str | None:
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
            joined += (urllib.parse.unquote_to_bytes(raw_bytes(value)) if encoded
                       else raw_bytes(value))
        return decode_bytes(bytes(joined), charset)
    return None if plain is None else decode_header_text(plain)


def file_name(raw: str | None) -> str:
    """The last component of a name that came with a path (C:\\fakepath\\po.xlsx)."""
    if not raw:
        return ""
    name = re.split(r"[\\/]", raw)[-1]
    name = re.sub(r"^[A-Za-z]:", "", name)
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return "" if name in (".", "..") else name


def address_of(raw: str) -> tuple[str, str]:
    """(address lower case, display name) of the first mailbox in a From header."""
    text = FOLDING.sub(" ", decode_bytes(raw_bytes(raw)))
    try:
        name, address = getaddresses([text])[0]
    except (IndexError, ValueError):
        name, address = "", ""
    if "@" not in address:
        found = re.search(r"[^\s<>\"',;:()]+@[^\s<>\"',;:()]+", text)
        address = found.group(0) if found else ""
        name = name or text.split("<", 1)[0].strip().strip('"')
    return address.strip().lower(), decode_header_text(name).strip('"').strip()


def iso_date(raw: str) -> str:
    text = FOLDING.sub(" ", decode_bytes(raw_bytes(raw))).strip()
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


def message_id_of(raw: str) -> str:
    text = FOLDING.sub(" ", decode_bytes(raw_bytes(raw))).strip()
    found = re.search(r"<([^<>]*)>", text)
    return (found.group(1) if found else text).strip()


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

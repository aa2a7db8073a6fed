"""Reading, the second stage: what an attachment's bytes are, and the files packed inside it.

A mail says what its attachments are (a Content-Type, a file name), and often wrongly: an
xlsx sent as ``application/octet-stream``, a JPEG named ``.gif``, a tab-separated export
named ``.xls``. ``sniff`` decides the kind from the bytes, the name only breaking ties
between text kinds. Two containers hold further files: a zip archive (limits on members,
size and ratio, checked from the central directory before anything is inflated, and again
while reading) and Outlook's ``winmail.dat`` (TNEF), read with ``tnefparse``.
"""

from __future__ import annotations

import io
import logging
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath

import tnefparse

from ingest.readers import cfb
from ingest.readers.encoding import detect_encoding, looks_binary

WORKBOOKS = (".xlsx", ".xlsm", ".xlsb", ".ods")
IMAGES = (".jpg", ".png", ".gif", ".tif", ".bmp", ".webp")
# What a zip member may become: the kinds some reader (or the scans' OCR) reads.
MEMBER_KINDS = frozenset((*WORKBOOKS, ".xls", ".csv", ".tsv", ".pdf", *IMAGES))
TEXT_PROBE = 64 * 1024
# Bytes that text never holds (NUL, most C0 controls, DEL): above 1 % of the head, it is binary.
CONTROL = bytes([*range(0, 9), *range(14, 26), *range(28, 32), 127])
NOT_CONTROL = bytes(b for b in range(256) if b not in CONTROL)
# A member smaller than this unpacked is not held to the ratio: a small CSV of repeated
# values packs 300x and harms nobody.
RATIO_GRACE = 1 << 20
JUNK_NAMES = frozenset((".ds_store", "thumbs.db", "desktop.ini"))
TNEF_MAGIC = b"\x78\x9f\x3e\x22"
UNICODE_PATH_EXTRA = 0x7075  # Info-ZIP's UTF-8 name, written by WinRAR and 7-Zip

# tnefparse logs a warning per bad checksum; those become a problem of ours instead.
logging.getLogger("tnefparse").setLevel(logging.ERROR)


def sniff(data: bytes, name: str = "") -> str:
    """The document kind by its bytes, as a lower-case suffix with its dot (see Part.suffix)."""
    named = PurePosixPath(name.replace("\\", "/")).suffix.lower() if name else ""
    head = data[:16]
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(data, named)
    if head.startswith(cfb.MAGIC):
        return _cfb_kind(data, named)
    if data.find(b"%PDF-", 0, 1024) >= 0:  # (junk may come before the header)
        return ".pdf"
    image = _image_kind(head)
    if image:
        return image
    if head.startswith(TNEF_MAGIC):
        return ".tnef"
    text = _text_head(data)
    if text is None:
        return named
    return _text_kind(text, named)


def _zip_kind(data: bytes, named: str) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = {name.lower() for name in archive.namelist()}
            if "xl/workbook.bin" in names:
                return ".xlsb"
            if "xl/workbook.xml" in names:
                types = _small_member(archive, "[Content_Types].xml")
                macro = b"macroEnabled" in types or "xl/vbaproject.bin" in names
                return ".xlsm" if macro else ".xlsx"
            if "mimetype" in names:
                kind = _small_member(archive, "mimetype")
                if kind.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
                    return ".ods"
            if "word/document.xml" in names:
                return ".docx"
            return ".zip"
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        # A cut or damaged archive: its name is the best guess, so that the workbook
        # reader (not a zip expander) says what is wrong with it.
        return named if named in (*WORKBOOKS, ".zip", ".docx") else ".zip"


def _small_member(archive: zipfile.ZipFile, name: str) -> bytes:
    """A small member's first 64 KB, b"" when unreadable (only ever used as a hint)."""
    try:
        with archive.open(name) as member:
            return member.read(64 * 1024)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error,
            NotImplementedError, RuntimeError):
        return b""


def _cfb_kind(data: bytes, named: str) -> str:
    kind = cfb.kind(data)
    # An encrypted xlsx is a compound file too: the xlsx reader says `encrypted-workbook`.
    # (The byte search is for a directory too damaged to follow.)
    if kind == "encrypted" or (kind == "other"
                               and "EncryptedPackage".encode("utf-16-le") in data):
        return ".xlsx"
    if kind == "xls" or not named or named in (".xls", ".xlsx", ".xlsm", ".xlsb"):
        return ".xls"
    return named  # another compound file: a Word .doc, an Outlook .msg


def _image_kind(head: bytes) -> str:
    if head.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return ".gif"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return ".tif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return ".webp"
    if head.startswith(b"BM") and head[6:10] == b"\x00\x00\x00\x00":  # (reserved, zero)
        return ".bmp"
    return ""


def _text_head(data: bytes) -> str | None:
    """The start of the bytes as text, or None when they are not text."""
    head = data[:TEXT_PROBE]
    encoding = detect_encoding(head)
    if not encoding.startswith(("utf-16", "utf-32")):
        controls = len(head.translate(None, NOT_CONTROL))  # (only the controls are left)
        if looks_binary(head) or controls > len(head) // 100:
            return None
    return head.decode(encoding, errors="replace").lstrip("\ufeff")


def _text_kind(text: str, named: str) -> str:
    if named in (".csv", ".tsv"):
        return named
    lines = [line for line in text.splitlines()[:3] if line.strip()]
    first = lines[0] if lines else ""
    if "\t" in first:
        return ".tsv"
    opening = text[:2048].lstrip().lower()
    if opening.startswith(("<!doctype html", "<html")) or "<table" in opening:
        return ".html"  # (an "xls" that is a saved web page: not a text table)
    if len(lines) >= 2 and any(0 < first.count(d) == lines[1].count(d) for d in ",;"):
        return ".csv"
    return ".txt"


def is_tnef(data: bytes) -> bool:
    return data.startswith(TNEF_MAGIC)


def zip_is_whole(data: bytes) -> bool:
    """Whether a zip's end-of-central-directory record is there (a cut zip has none)."""
    return data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557)) >= 0


@dataclass(frozen=True)
class Unpacked:
    """A file found inside a container: its path there, its bytes and their kind."""

    path: str
    data: bytes
    suffix: str


@dataclass(frozen=True)
class Refused:
    """A container, or one file in it, that is not read: the code and the reason's detail."""

    path: str  # "" for the whole container
    code: str
    detail: str


@dataclass(frozen=True)
class ZipLimits:
    members: int
    total_bytes: int
    ratio: int
    member_bytes: int


def unzip(data: bytes, limits: ZipLimits) -> tuple[list[Unpacked], list[Refused]]:
    """The members of a zip that some reader reads, and what was refused. Limits are checked
    from the central directory first (a bomb is refused whole, nothing inflated), then
    while reading: a member cannot inflate past its declared size (zipfile stops there and
    the CRC check fails), and the running total is counted."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        return [], [Refused("", "damaged-attachment", f"it is not a readable zip ({exc})")]
    with archive:
        members = [info for info in archive.infolist() if not _junk(info)]
        whole = _over_limits(members, len(data), limits)
        if whole:
            return [], [Refused("", "zip-bomb", whole)]
        found: list[Unpacked] = []
        refused: list[Refused] = []
        total = 0
        for info in members:
            path = member_path(info)
            if info.flag_bits & 0x1:
                refused.append(Refused(path, "damaged-attachment",
                                       "it is encrypted (password-protected)"))
                continue
            if info.file_size > limits.member_bytes:
                refused.append(Refused(path, "attachment-too-large",
                                       f"it unpacks to {info.file_size:,} bytes; the limit "
                                       f"is {limits.member_bytes:,}"))
                continue
            try:
                with archive.open(info) as member:
                    blob = member.read(info.file_size + 1)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error,
                    NotImplementedError, RuntimeError) as exc:
                refused.append(Refused(path, "damaged-attachment",
                                       f"it cannot be unpacked ({exc})"))
                continue
            total += len(blob)
            if total > limits.total_bytes:
                return [], [Refused("", "zip-bomb", f"it unpacks to more than "
                                    f"{limits.total_bytes:,} bytes")]
            kind = sniff(blob, path)
            if kind == ".zip":
                refused.append(Refused(path, "zip-bomb", "it is a zip inside the zip: archives "
                                       "are opened one level deep"))
            elif kind in MEMBER_KINDS:
                found.append(Unpacked(path, blob, kind))
        return found, refused


def _junk(info: zipfile.ZipInfo) -> bool:
    """Folders, and what macOS and Windows leave in archives (resource forks, thumbnails)."""
    name = info.filename.replace("\\", "/")
    base = name.rsplit("/", 1)[-1]
    return (info.is_dir() or name.endswith("/") or name.startswith("__MACOSX/")
            or base.startswith("._") or base.lower() in JUNK_NAMES)


def _over_limits(members: list[zipfile.ZipInfo], packed: int, limits: ZipLimits) -> str:
    """Why the archive is refused whole, from its directory alone ("" when it is not)."""
    if len(members) > limits.members:
        return f"it holds {len(members):,} files; the limit is {limits.members:,}"
    declared = sum(info.file_size for info in members)
    if declared > limits.total_bytes:
        return f"it unpacks to {declared:,} bytes; the limit is {limits.total_bytes:,}"
    if declared > RATIO_GRACE and declared > limits.ratio * max(packed, 1):
        return (f"it unpacks to {declared:,} bytes from {packed:,}, more than "
                f"{limits.ratio}x; the limit is {limits.ratio}x")
    for info in members:
        if (info.file_size > RATIO_GRACE
                and info.file_size > limits.ratio * max(info.compress_size, 1)):
            return (f"{member_path(info)!r} unpacks to {info.file_size:,} bytes from "
                    f"{info.compress_size:,}, more than {limits.ratio}x")
    return ""


def member_path(info: zipfile.ZipInfo) -> str:
    """A member's path as its maker meant it, without '..' or a leading '/'. Names flagged
    UTF-8 are as zipfile decoded them; others came in the maker's code page, which zipfile
    reads as cp437: the bytes are taken back and tried as UTF-8 (tools that forget the
    flag), then GB18030 (Chinese Windows), and only then left as cp437."""
    name = info.filename
    if not info.flag_bits & 0x800:
        name = _unicode_path(info.extra) or _code_page_name(name)
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return "/".join(parts) or "unnamed"


def _code_page_name(name: str) -> str:
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return name
    if raw.isascii():
        return name
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        chinese = raw.decode("gb18030")
    except UnicodeDecodeError:
        return name
    # cp437's accented letters (0x80-0xA8) also pair up into GB18030 characters, but rare
    # ones: a real Chinese name is (almost) all characters of the common GB2312 set.
    wide = [ch for ch in chinese if not ch.isascii()]
    common = sum(1 for ch in wide if _in_gb2312(ch))
    return chinese if common >= 0.8 * len(wide) else name


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _unicode_path(extra: bytes) -> str:
    """The UTF-8 name of Info-ZIP's Unicode Path extra field, "" when there is none."""
    at = 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4:at + 4 + size]
        if kind == UNICODE_PATH_EXTRA and len(body) > 5 and body[0] == 1:
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                return ""
        at += 4 + size
    return ""


def untnef(data: bytes) -> list[tuple[str, bytes]]:
    """The attachments packed in a TNEF blob (``winmail.dat``): (file name, bytes). Raises
    ValueError, naming what is wrong, when it cannot be read."""
    try:
        tnef = tnefparse.TNEF(data, do_checksum=True)
    except Exception as exc:  # (a damaged blob fails anywhere in the library's parsing)
        raise ValueError(f"{type(exc).__name__}: {exc}") from None
    bad = [obj for obj in tnef.objects if not obj.good_checksum]
    if bad:
        raise ValueError(f"{len(bad)} of its records fail their checksum")
    titles, datas = _raw_attachments(tnef)
    files: list[tuple[str, bytes]] = []
    for index, attachment in enumerate(tnef.attachments):
        name = _tnef_name(attachment, titles.get(index, b""), tnef.codepage)
        blob = datas.get(index)
        files.append((name or f"winmail-{index + 1}", bytes(blob if blob is not None
                                                            else attachment.data or b"")))
    return files


def _raw_attachments(tnef: tnefparse.TNEF) -> tuple[dict[int, bytes], dict[int, bytes]]:
    """Each attachment's title and data records as they are: tnefparse strips trailing NUL
    bytes from data it takes from MAPI properties, which would cut a zip's last bytes."""
    titles: dict[int, bytes] = {}
    datas: dict[int, bytes] = {}
    index = -1
    for obj in tnef.objects:
        if obj.name == tnefparse.TNEF.ATTATTACHRENDDATA:
            index += 1  # (each attachment opens with its rendering record)
        elif obj.level == tnefparse.TNEF.LVL_ATTACHMENT and index >= 0:
            if obj.name == tnefparse.TNEF.ATTATTACHTITLE and isinstance(obj.data, bytes):
                titles[index] = obj.data
            elif obj.name == tnefparse.TNEF.ATTATTACHDATA and isinstance(obj.data, bytes):
                datas[index] = obj.data
    return titles, datas


def _tnef_name(attachment: object, title: bytes, codepage: str | None) -> str:
    long_name = ""
    try:
        found = attachment.long_filename()  # type: ignore[attr-defined]
        long_name = found if isinstance(found, str) else ""
    except (UnicodeDecodeError, AttributeError, ValueError):
        pass  # (its short title was not UTF-8: decoded below)
    if long_name.strip("\x00 "):
        return long_name.strip("\x00 ")
    title = title.rstrip(b"\x00")
    for encoding in (codepage or "cp1252", "utf-8", "gb18030", "latin-1"):
        try:
            return title.decode(encoding).strip()
        except (UnicodeDecodeError, LookupError):
            pass
    return ""

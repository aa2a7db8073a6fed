"""Decide how a text export is encoded, and decode it.

Chinese platforms export GB18030 (often labelled GBK or GB2312; GBK itself cannot hold
``¥``), Excel writes UTF-8 with a BOM or UTF-16 ("Unicode text"), everything else is UTF-8.
"""

from __future__ import annotations

import codecs

from ingest.errors import InputError

BINARY_PROBE = 8192
# Labels that are in practice GB18030 (a superset of both): decoding with the narrower codec
# fails on characters real exports contain.
GB_FAMILY = {"gbk", "gb2312", "gb18030", "cp936"}


def detect_encoding(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    probe = data[:BINARY_PROBE]
    if probe and probe.count(0) > len(probe) // 4:
        # UTF-16 without a BOM: every other byte of ASCII text is zero.
        odd_zeros = probe[1::2].count(0)
        return "utf-16-le" if odd_zeros > probe[0::2].count(0) else "utf-16-be"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


BINARY_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF", b"\x89PNG", b"\xff\xd8\xff",
                b"\x1f\x8b")


def looks_binary(probe: bytes) -> bool:
    """A zip (xlsx), OLE (xls), PDF, image or gzip, or text thick with NUL bytes. A stray NUL
    in a text export is not enough: that row is rejected, the rest is read."""
    return probe.startswith(BINARY_MAGIC) or probe.count(0) > max(2, len(probe) // 100)


def decode(data: bytes, encoding: str, path: str) -> tuple[str, str]:
    """The text and the encoding used; ``encoding`` may be 'auto'."""
    chosen = detect_encoding(data) if encoding == "auto" else encoding
    if chosen in GB_FAMILY:
        chosen = "gb18030"
    if "utf-16" not in chosen and looks_binary(data[:BINARY_PROBE]):
        raise InputError(path, "this is a binary file, not a CSV/TSV text export (it holds NUL "
                         "bytes near the start); if it is a spreadsheet, give it its real "
                         "extension such as .xlsx", code="binary-file")
    try:
        text = data.decode(chosen)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        hint = ("set [reader] encoding in the mapping" if encoding == "auto"
                else f"the mapping says encoding = {encoding!r}; check it")
        raise InputError(path, f"cannot be decoded as {chosen} (line {line}, byte "
                         f"{exc.start}): {hint}", code="undecodable") from None
    return text.lstrip("\ufeff"), chosen

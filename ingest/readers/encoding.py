"""Reading, the second stage: how a text export is encoded, and UTF-8 bytes for the parser.

Chinese platforms export GB18030 (often labelled GBK or GB2312; GBK itself cannot hold
``¥``), Excel writes UTF-8 with a BOM or UTF-16 ("Unicode text"), everything else is UTF-8.
UTF-8 input goes to the parser as it is (no decode/encode round trip); its validity is
checked by the parser itself. Other encodings are transcoded to UTF-8 bytes, GB18030 by
``gb18030`` (natively, where the machine can).
"""

from __future__ import annotations

import codecs

from ingest.errors import InputError
from ingest.readers import gb18030
from ingest.readers.transcode import PythonCodec, Transcoder

# The encodings a mapping or ``--encoding`` may name ("auto": detected per file).
ENCODINGS = ("auto", "utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "utf-16", "utf-16-le",
             "utf-16-be", "utf-32", "big5", "shift_jis", "latin-1", "cp1252")
BINARY_PROBE = 8192
HEAD_BYTES = 1 << 20  # encoding and header are decided from the first MiB
# Labels that are in practice GB18030 (a superset of both): decoding with the narrower codec
# fails on characters real exports contain.
GB_FAMILY = {"gbk", "gb2312", "gb18030", "cp936"}
BINARY_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF", b"\x89PNG", b"\xff\xd8\xff",
                b"\x1f\x8b")


def looks_binary(probe: bytes) -> bool:
    """A zip (xlsx), OLE (xls), PDF, image or gzip, or text thick with NUL bytes. A stray NUL
    in a text export is not enough: that row is rejected, the rest is read."""
    return probe.startswith(BINARY_MAGIC) or probe.count(0) > max(2, len(probe) // 100)


def detect_encoding(data: bytes) -> str:
    """From the start of the file: BOMs, UTF-16 without BOM, then UTF-8 or GB18030."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    # (before UTF-16: the UTF-32 LE mark begins with the UTF-16 LE one)
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    probe = data[:BINARY_PROBE]
    if probe and not probe.startswith(BINARY_MAGIC) and probe.count(0) > len(probe) // 4:
        # UTF-16 without a BOM: every other byte of ASCII text is zero.
        odd_zeros = probe[1::2].count(0)
        return "utf-16-le" if odd_zeros > probe[0::2].count(0) else "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data[:HEAD_BYTES], final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def choose_encoding(data: bytes, encoding: str, path: str) -> str:
    chosen = detect_encoding(data) if encoding == "auto" else encoding
    chosen = "gb18030" if chosen in GB_FAMILY else chosen
    if not chosen.startswith(("utf-16", "utf-32")) and looks_binary(data[:BINARY_PROBE]):
        raise InputError(path, "this is a binary file, not a CSV/TSV text export; if it is a "
                         "spreadsheet, give it its real extension such as .xlsx",
                         code="binary-file")
    return chosen


def to_utf8(data: bytes, encoding: str, path: str) -> tuple[bytes, str]:
    """The file as UTF-8 bytes without a BOM, and the encoding it was read as."""
    chosen = choose_encoding(data, encoding, path)
    if chosen in ("utf-8", "utf-8-sig"):
        return data.removeprefix(codecs.BOM_UTF8), chosen
    text = _transcoded(data, chosen, encoding, path, final=True)
    bom = len(codecs.BOM_UTF8) if text.startswith(codecs.BOM_UTF8) else 0
    return bytes(memoryview(text)[bom:]), chosen  # (one copy)


def decode_head(data: bytes, encoding: str, path: str) -> tuple[str, str]:
    """The first MiB as text (a character cut at the end is dropped), for peeking."""
    chosen = choose_encoding(data, encoding, path)
    text = _transcoded(data[:HEAD_BYTES], chosen, encoding, path,
                       final=len(data) <= HEAD_BYTES)
    return text.decode("utf-8").lstrip("\ufeff"), chosen


def utf8_transcoder(encoding: str) -> Transcoder:
    """Turns text in ``encoding`` into UTF-8, piece by piece."""
    return gb18030.transcoder() if encoding == "gb18030" else PythonCodec(encoding)


def _transcoded(data: bytes, chosen: str, asked: str, path: str, final: bool
                ) -> bytes | bytearray:
    try:
        return utf8_transcoder(chosen).feed(data, final)
    except UnicodeDecodeError as exc:
        raise undecodable(path, data, exc.start, chosen, asked) from None


def undecodable(path: str, data: bytes, offset: int, chosen: str, asked: str) -> InputError:
    line = data[:offset].count(b"\n") + 1
    hint = ("pass --encoding (e.g. --encoding gb18030) or set [reader] encoding in the "
            "mapping" if asked == "auto" else f"it was read as encoding {asked!r}; check "
            "--encoding or the mapping's [reader] encoding")
    return InputError(path, f"cannot be decoded as {chosen} (line {line}, byte {offset}): "
                      f"{hint}", code="undecodable")

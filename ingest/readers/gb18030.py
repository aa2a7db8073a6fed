"""Reading, the second stage: GB18030 to UTF-8, with the C library's iconv where there is one.

Why not only Python's codec: it takes about three times as long as glibc's iconv on a big
export, and it holds the GIL while it works, so decoding the next piece of a file cannot run
beside the work on the piece before. iconv is called through ctypes, which releases the GIL.

Which characters: for 25 two-byte codes Python's codec gives private-use code points that no
font shows, where glibc's iconv gives the real characters (A6D9 is U+FE10, a vertical comma;
FE59 is U+9FB4; A8BC is U+1E3F, and the four-byte code 8135F437 is the private-use U+E7C7).
We give glibc's characters whichever decoder runs: the Python fallback translates its output.
The four-byte codes an older encoder (Python's among them) writes for U+9FB4-U+9FBB and
U+FE10-U+FE19 are refused by glibc; they are decoded here as Python decodes them, to those
same characters.

A decoder is chosen once per process: iconv if it opens and decodes every code above as we
do, else Python's codec.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import re
from functools import cache

from ingest.readers.transcode import PythonCodec, Transcoder

# The codes where Python's codec and this module differ, with what this module gives.
CANONICAL: dict[bytes, str] = {bytes.fromhex(code): chr(point) for code, point in [
    ("a6d9", 0xFE10), ("a6da", 0xFE12), ("a6db", 0xFE11), ("a6dc", 0xFE13),
    ("a6dd", 0xFE14), ("a6de", 0xFE15), ("a6df", 0xFE16), ("a6ec", 0xFE17),
    ("a6ed", 0xFE18), ("a6f3", 0xFE19), ("a8bc", 0x1E3F), ("fe51", 0x20087),
    ("fe52", 0x20089), ("fe53", 0x200CC), ("fe59", 0x9FB4), ("fe61", 0x9FB5),
    ("fe66", 0x9FB6), ("fe67", 0x9FB7), ("fe6c", 0x215D7), ("fe6d", 0x9FB8),
    ("fe76", 0x2298F), ("fe7e", 0x9FB9), ("fe90", 0x9FBA), ("fe91", 0x241FE),
    ("fea0", 0x9FBB), ("8135f437", 0xE7C7)]}
# Four-byte codes glibc refuses, decoded as Python's codec decodes them.
OLD_FOUR_BYTE: dict[bytes, bytes] = {
    bytes.fromhex(code): bytes.fromhex(code).decode("gb18030").encode("utf-8") for code in [
        "82359037", "82359038", "82359039", "82359130", "82359131", "82359132",
        "82359133", "82359134", "84318236", "84318237", "84318238", "84318239",
        "84318330", "84318331", "84318332", "84318333", "84318334", "84318335"]}
# What Python's codec gives for each code in CANONICAL, translated to what we give.
PYTHON_TO_CANONICAL = {code.decode("gb18030"): text for code, text in CANONICAL.items()}
_PYTHON_ONLY = re.compile("|".join(map(re.escape, PYTHON_TO_CANONICAL)))
# What every decoder must give: the codes that differ and a few ordinary ones.
_SELF_CHECK = b"\n".join([*CANONICAL, *OLD_FOUR_BYTE, "价格¥€ abc".encode("gb18030")])


def transcoder() -> Transcoder:
    """A new GB18030-to-UTF-8 transcoder: iconv's, or Python's where iconv will not do."""
    return _Iconv() if _iconv_works() else PythonGb18030()


class PythonGb18030(PythonCodec):
    """Python's codec, its output translated to the characters iconv gives."""

    def __init__(self) -> None:
        super().__init__("gb18030")

    def text(self, decoded: str) -> str:
        return _PYTHON_ONLY.sub(lambda m: PYTHON_TO_CANONICAL[m.group()], decoded)


class _Iconv:
    def __init__(self) -> None:
        library = _libc()
        if library is None:
            raise OSError("no C library")
        self._iconv = library.iconv
        self._handle = library.iconv_open(b"UTF-8", b"GB18030")
        if self._handle in (None, -1, ctypes.c_void_p(-1).value):
            raise OSError("iconv cannot convert GB18030")
        self._close = library.iconv_close
        self._waiting = b""

    def __del__(self) -> None:
        if getattr(self, "_close", None) is not None:
            self._close(self._handle)

    def feed(self, data: bytes, final: bool = False) -> bytes | bytearray:
        data = self._waiting + data if self._waiting else data
        self._waiting = b""
        # A marketplace export grows by about a sixth (ASCII stays one byte); text that is
        # mostly Chinese grows by up to a half, and ``out`` grows to hold it. (Room for the
        # most every time would be memory touched for nothing: a bytearray is zero-filled.)
        out = bytearray(len(data) * 5 // 4 + 4096)
        done = written = 0
        while done < len(data):
            done, written, failure = self._convert(data, done, out, written)
            old = OLD_FOUR_BYTE.get(data[done:done + 4]) if failure == errno.EILSEQ else None
            if failure == errno.E2BIG:
                out.extend(bytes(2 * (len(data) - done) + 4096))
            elif old is not None:
                out[written:written + len(old)] = old
                done, written = done + 4, written + len(old)
            elif failure == errno.EINVAL and not final:  # a code cut at the end: it waits
                self._waiting = data[done:]
                break
            elif failure:
                reason = "incomplete multibyte sequence" if failure == errno.EINVAL else \
                    "illegal multibyte sequence"
                raise UnicodeDecodeError("gb18030", data, done, done + 1, reason)
        del out[written:]
        return out  # (not copied into bytes)

    def _convert(self, data: bytes, done: int, out: bytearray, written: int) -> tuple[
            int, int, int]:
        """One iconv call from ``data[done:]`` into ``out[written:]``: how far each got,
        and the errno it stopped with (0: all of ``data`` converted)."""
        source = ctypes.c_char_p(data)  # points into ``data``: no copy
        source_at = ctypes.c_void_p((ctypes.cast(source, ctypes.c_void_p).value or 0) + done)
        source_left = ctypes.c_size_t(len(data) - done)
        target = (ctypes.c_char * (len(out) - written)).from_buffer(out, written)
        target_at = ctypes.c_void_p(ctypes.addressof(target))
        target_left = ctypes.c_size_t(len(out) - written)
        result = self._iconv(self._handle, ctypes.byref(source_at), ctypes.byref(source_left),
                             ctypes.byref(target_at), ctypes.byref(target_left))
        failure = ctypes.get_errno() if result == -1 else 0
        del target  # lets ``out`` grow again
        return len(data) - source_left.value, len(out) - target_left.value, failure


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:  # (Windows: no C library by that name)
        return None
    try:
        library = ctypes.CDLL(name, use_errno=True)
        library.iconv_open.restype = ctypes.c_void_p
        library.iconv_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        library.iconv.restype = ctypes.c_ssize_t
        library.iconv.argtypes = [ctypes.c_void_p] + [ctypes.c_void_p] * 4
        library.iconv_close.argtypes = [ctypes.c_void_p]
    except (OSError, AttributeError):  # no C library, or one without iconv
        return None
    return library


@cache
def _iconv_works() -> bool:
    """Whether this machine's iconv decodes GB18030 exactly as we promise."""
    try:
        given = _Iconv().feed(_SELF_CHECK, final=True)
    except (OSError, UnicodeDecodeError):
        return False
    return given == PythonGb18030().feed(_SELF_CHECK, final=True)

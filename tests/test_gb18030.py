"""GB18030: iconv and Python's codec give the same characters, whole or cut anywhere, and
the same errors; the file reads the same whole and in pieces."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.inputs import Input
from ingest.mapping.model import ReaderOptions
from ingest.readers import gb18030, open_document
from ingest.readers.csv import CsvReader
from ingest.readers.gb18030 import (
    CANONICAL,
    OLD_FOUR_BYTE,
    PythonGb18030,
    transcoder,
)
from ingest.readers.transcode import Transcoder

DECODERS: list[Callable[[], Transcoder]] = [transcoder, PythonGb18030]
ORDINARY = [c.encode("gb18030") for c in '价格¥€ḿ︐ ,"\nabc']
CODES = [*CANONICAL, *OLD_FOUR_BYTE, *ORDINARY]


def decoded(decoder: Transcoder, pieces: list[bytes]) -> bytes | tuple[str, int]:
    """The pieces fed in turn, as UTF-8; or where the decoder stopped, in the whole."""
    out = b""
    try:
        for piece in pieces[:-1]:
            out += decoder.feed(piece)
        return out + decoder.feed(pieces[-1], final=True)
    except UnicodeDecodeError as exc:
        return "error", exc.start


def test_this_machine_decodes_with_iconv() -> None:
    # The fast path is the one the benchmarks measure; glibc's iconv must pass the check.
    if not sys.platform.startswith("linux"):
        pytest.skip("glibc's iconv is what is checked")
    assert not isinstance(transcoder(), PythonGb18030)


@pytest.mark.parametrize("make", DECODERS, ids=["chosen", "python"])
def test_real_characters_instead_of_private_use(make: Callable[[], Transcoder]) -> None:
    assert make().feed(bytes.fromhex("a6d9"), final=True) == "\ufe10".encode()  # ︐
    assert make().feed(bytes.fromhex("fe59"), final=True) == "\u9fb4".encode()
    assert make().feed(bytes.fromhex("a8bc"), final=True) == "ḿ".encode()
    for code, text in CANONICAL.items():
        assert make().feed(code, final=True) == text.encode()
    # The four-byte codes older encoders write for the same characters still decode.
    assert make().feed(bytes.fromhex("84318236"), final=True) == "\ufe10".encode()
    for code, utf8 in OLD_FOUR_BYTE.items():
        assert make().feed(code, final=True) == utf8


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.one_of(st.sampled_from(CODES), st.binary(max_size=2)), max_size=12),
       cuts=st.lists(st.integers(0, 48), max_size=3))
def test_iconv_and_python_agree_on_any_bytes_cut_anywhere(parts: list[bytes],
                                                          cuts: list[int]) -> None:
    data = b"".join(parts)
    bounds = [0, *sorted(min(c, len(data)) for c in cuts), len(data)]
    pieces = [data[a:b] for a, b in itertools.pairwise(bounds)]
    whole = decoded(PythonGb18030(), [data])
    assert decoded(transcoder(), [data]) == whole
    if isinstance(whole, bytes):  # (a cut moves where an error is counted from)
        assert decoded(transcoder(), pieces) == whole
        assert decoded(PythonGb18030(), pieces) == whole


def test_a_file_reads_the_same_whole_and_in_pieces(tmp_path: Path) -> None:
    rows = [f"A{i:04d},{code.hex()},".encode() + code + b"\r\n"
            for i, code in enumerate(CODES * 20) if code not in (b",", b'"', b"\n")]
    path = tmp_path / "orders.csv"
    path.write_bytes("订单号,编码,商品\r\n".encode("gb18030") + b"".join(rows))
    options = ReaderOptions(encoding="gb18030")
    with open_document(Input.from_path(path)) as document:
        whole = document.read(options, 1).frame
    with CsvReader().open(Input.from_path(path)) as document:
        pieces = list(document.read_chunks(options, 1, chunk_bytes=256))
    assert len(pieces) > 5
    assert whole.height == len(rows)
    assert [f for p in pieces for f in p.frame["商品"]] == whole["商品"].to_list()
    for code, text in zip(whole["编码"], whole["商品"], strict=True):
        code_bytes = bytes.fromhex(code)
        # Elsewhere (the old four-byte codes too) Python's codec is the reference.
        assert text == CANONICAL.get(code_bytes, code_bytes.decode("gb18030"))


def test_without_iconv_python_decodes_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    # No C library by that name (Windows), or an iconv that maps a code otherwise than we
    # promise (here: A6D9 to the private-use U+E78D, as Python's codec does): Python's
    # codec, translated, reads the file instead, and gives the same text.
    data = b"".join(CODES)
    expected = decoded(PythonGb18030(), [data])
    native_feed = gb18030._Iconv.feed

    def other_mapping(self: object, data: bytes, final: bool = False) -> bytes:
        return bytes(native_feed(self, data, final)).replace(  # type: ignore[arg-type]
            "\ufe10".encode(), "\ue78d".encode())

    for broken in ({"_libc": lambda: None}, {"feed": other_mapping}):
        gb18030._iconv_works.cache_clear()
        with monkeypatch.context() as patch:
            for name, value in broken.items():
                patch.setattr(gb18030 if name == "_libc" else gb18030._Iconv, name, value)
            chosen = transcoder()
            assert isinstance(chosen, PythonGb18030)
            assert decoded(chosen, [data]) == expected
    gb18030._iconv_works.cache_clear()

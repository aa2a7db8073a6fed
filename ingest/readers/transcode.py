"""Reading, the second stage: text in another encoding as UTF-8 bytes, a piece at a time:
the contract, and Python's codecs keeping it (``gb18030`` keeps it natively)."""

from __future__ import annotations

import codecs
from typing import Protocol


class Transcoder(Protocol):
    def feed(self, data: bytes, final: bool = False) -> bytes | bytearray:
        """``data`` (following what was fed before) as UTF-8. A character cut at the end
        waits for the next call; with ``final`` it is an error. Raises UnicodeDecodeError,
        its ``start`` counted in ``data`` plus any bytes that waited from before."""


class PythonCodec:
    """A Python codec as a ``Transcoder``."""

    def __init__(self, encoding: str) -> None:
        self._decoder = codecs.getincrementaldecoder(encoding)()

    def feed(self, data: bytes, final: bool = False) -> bytes | bytearray:
        return self.text(self._decoder.decode(data, final)).encode("utf-8")

    def text(self, decoded: str) -> str:
        """What the codec decoded, as this transcoder gives it (here: as it is)."""
        return decoded

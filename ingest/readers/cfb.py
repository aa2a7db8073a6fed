"""Reading, the second stage: what an OLE2 compound file (CFB) is, from its stream names.

Two very different workbooks are CFB files: a legacy ``.xls`` (a ``Workbook`` or ``Book``
stream) and a password-protected xlsx (Office encrypts the whole package into an
``EncryptedPackage`` stream, described by ``EncryptionInfo``). Only the directory is read,
following the sector chains with a bound, so a damaged file cannot loop or balloon.
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
END_OF_CHAIN = 0xFFFFFFFE
MAX_SECTOR = 0xFFFFFFFA
HEADER_DIFAT = 109
ENTRY_SIZE = 128


def is_cfb(data: bytes) -> bool:
    return data[:8] == MAGIC


def stream_names(data: bytes) -> list[str]:
    """Names of the directory entries (storages and streams); [] when the bytes are not a
    readable compound file."""
    try:
        return _names(io.BytesIO(data), len(data))
    except (OSError, struct.error, ValueError):
        return []


def kind(data: bytes) -> str:
    """``encrypted`` (a password-protected Office file), ``xls`` (a BIFF workbook) or
    ``other`` (another compound file, or a damaged one)."""
    names = set(stream_names(data))
    if {"EncryptionInfo", "EncryptedPackage"} <= names:
        return "encrypted"
    if names & {"Workbook", "Book"}:
        return "xls"
    return "other"


def _names(handle: BinaryIO, size: int) -> list[str]:
    header = handle.read(512)
    if len(header) < 512 or header[:8] != MAGIC:
        return []
    sector_size = 1 << struct.unpack_from("<H", header, 30)[0]
    if sector_size not in (512, 4096):
        return []
    sectors = max(0, (size - sector_size) // sector_size)
    first_directory = struct.unpack_from("<I", header, 48)[0]
    fat_count = struct.unpack_from("<I", header, 44)[0]
    difat = list(struct.unpack_from(f"<{HEADER_DIFAT}I", header, 76))
    next_difat, difat_count = struct.unpack_from("<II", header, 68)
    per_sector = sector_size // 4
    for _ in range(min(difat_count, sectors)):  # more FAT sectors than the header holds
        if next_difat > MAX_SECTOR or next_difat >= sectors:
            break
        block = _sector(handle, next_difat, sector_size)
        entries = struct.unpack(f"<{per_sector}I", block)
        difat.extend(entries[:-1])
        next_difat = entries[-1]
    fat: list[int] = []
    for sector in difat[:min(fat_count, sectors)]:
        if sector > MAX_SECTOR or sector >= sectors:
            break
        fat.extend(struct.unpack(f"<{per_sector}I", _sector(handle, sector, sector_size)))
    names = []
    sector, seen = first_directory, 0
    while sector <= MAX_SECTOR and sector < sectors and seen <= sectors:
        block = _sector(handle, sector, sector_size)
        for offset in range(0, sector_size, ENTRY_SIZE):
            length = struct.unpack_from("<H", block, offset + 64)[0]
            if 2 <= length <= 64 and block[offset + 66] in (1, 2, 5):
                names.append(block[offset:offset + length - 2].decode("utf-16-le", "replace"))
        sector = fat[sector] if sector < len(fat) else END_OF_CHAIN
        seen += 1
    return names


def _sector(handle: BinaryIO, index: int, sector_size: int) -> bytes:
    handle.seek((index + 1) * sector_size)
    block = handle.read(sector_size)
    if len(block) < sector_size:
        raise ValueError("sector beyond the end of the file")
    return block

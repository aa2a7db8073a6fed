"""Reading, the second stage: what calamine does not tell about an xlsx sheet, from its XML.

calamine (fastexcel) gives cell values only: not the merged ranges (a merged value sits in
the top-left cell alone) and not whether an empty cell is a formula that was never computed
(openpyxl and xlsxwriter save formulas without their value; Excel and LibreOffice save the
value beside the formula). Both are found here by scanning the decompressed XML as bytes, a
chunk at a time: ``bytes.find`` runs at memory speed, so a 200,000-row sheet costs a fraction
of calamine's own read and memory stays at one chunk whatever the sheet's size.
"""

from __future__ import annotations

import io
import itertools
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, cast
from xml.etree import ElementTree

CHUNK = 1 << 22
CARRY = 4 * CHUNK  # the most of a row held back for the next chunk
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
CELL_TYPE = re.compile(rb'\bt="(\w+)"')
VALUE = re.compile(rb"<(?:\w+:)?v\s*/>|<(?:\w+:)?v>([^<]*)<")
MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?"')


# A cell reference with a column of two letters or more (past Z), and what follows it in its
# tag: a self-closing tag (``.../>``) is a styled cell without a value, which calamine skips.
WIDE_REF = re.compile(rb'r="([A-Z]{2,})(\d+)"([^>]{0,200})')
SHEET_DATA, SHEET_DATA_END = b"sheetData", b"</"


@dataclass(frozen=True)
class Extent:
    """Where a sheet's valued cells lie, as calamine sizes its grid from them: rows from the
    first valued cell's row to the last one's (it takes them in file order), columns up to
    the farthest valued cell (counted from column A: an upper bound)."""

    first_row: int = 0  # 0: no valued cell
    last_row: int = 0
    last_col: int = 0  # 0-based
    far_cell: str = ""  # the reference of the farthest column's cell, for the reason

    @property
    def cells(self) -> int:
        if not self.first_row:
            return 0
        return (abs(self.last_row - self.first_row) + 1) * (self.last_col + 1)


@dataclass(frozen=True)
class Merge:
    """A merged range: 1-based rows, 0-based columns, inclusive."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int


@dataclass
class SheetScan:
    merges: list[Merge] = field(default_factory=list)
    formula_gaps: list[tuple[int, int]] = field(default_factory=list)  # (row, 0-based col)


def column_index(letters: str) -> int:
    """``A`` -> 0, ``Z`` -> 25, ``AA`` -> 26, ``XFD`` -> 16383."""
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def column_letters(index: int) -> str:
    """``0`` -> ``A``, ``26`` -> ``AA``: the inverse of ``column_index``."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def sheet_member(archive: zipfile.ZipFile, sheet: str | int) -> str | None:
    """The zip member of a sheet, by name or 0-based position, from the workbook's own
    index (xl/workbook.xml and its relationships)."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    sheets = workbook.findall("m:sheets/m:sheet", NS)
    chosen = next((s for s in sheets if s.get("name") == sheet), None) if isinstance(
        sheet, str) else (sheets[sheet] if 0 <= sheet < len(sheets) else None)
    if chosen is None:
        return None
    rel_id = chosen.get(f"{{{NS['r']}}}id")
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for rel in rels:
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


def first_text_cell(archive: zipfile.ZipFile, member: str) -> tuple[int, int] | None:
    """(row, 0-based column) of the first cell holding a value; streamed, stopping there.
    calamine's grid starts at the leftmost column holding a value: comparing this cell's
    column with its position in calamine's grid gives that offset."""
    # Fed a few KiB at a time (iterparse reads 16 KiB, a small PO's whole sheet, and
    # parses all of it: half the parser process's time on such a workbook).
    parser: ElementTree.XMLPullParser[ElementTree.Element] = ElementTree.XMLPullParser(
        events=("end",))
    with archive.open(member) as handle:
        while chunk := handle.read(FIRST_CELL_BYTES):
            parser.feed(chunk)
            for event in parser.read_events():
                element = cast(ElementTree.Element, event[-1])  # ("end": (event, element))
                if element.tag.endswith("}c") and any(
                        child.tag.endswith(("}v", "}is")) and (
                            child.text or "".join(child.itertext())).strip()
                        for child in element):
                    match = REF.search(f'r="{element.get("r", "")}"'.encode())
                    return (int(match.group(2)), column_index(match.group(1).decode())) \
                        if match else None
                if element.tag.endswith("}row"):
                    element.clear()
    return None


FIRST_CELL_BYTES = 2048


def extent(archive: zipfile.ZipFile, member: str) -> Extent:
    """The extent of the sheet's valued cells, streamed, before calamine is asked for the
    sheet. A valued cell is a non-self-closing ``<c>``; only its first and last ones (found
    with ``rfind`` per chunk) and the cells past column Z (rare: one regex that rarely
    matches) are looked at, so this costs about the decompression and one byte scan."""
    chunks = _chunks(archive, member)
    head = next(chunks, b"")
    prefix = _prefix(head)
    cell_open, cell_close = b"<" + prefix + b"c", b"</" + prefix + b"c>"
    data_end = b"</" + prefix + SHEET_DATA
    first_row = last_row = last_col = 0
    far = ""
    carry = b""  # the end of the chunk before: a tag cut at the boundary is seen whole
    start = head.find(b"<" + prefix + SHEET_DATA)
    for chunk in itertools.chain((head[max(start, 0):],), chunks):
        # (the chunk itself is searched in place, not copied: it is 4 MiB; the seam apart)
        end = chunk.find(data_end)
        if end >= 0:
            chunk = chunk[:end]
        for part in (carry + chunk[:256], chunk):
            for letters, digits, rest in WIDE_REF.findall(part):
                if rest.rstrip().endswith(b"/") and len(rest) < 200:
                    continue  # a styled empty cell: calamine leaves it out of the grid
                column = column_index(letters.decode())
                if column > last_col:
                    last_col, far = column, f"{letters.decode()}{int(digits)}"
        carry_before, carry = carry, chunk[-256:]
        if (closed := chunk.rfind(cell_close)) >= 0:
            opened = chunk.rfind(cell_open, 0, closed)
            # (a cell whose tag starts in the chunk before: looked for across the seam)
            row = _cell_row(chunk, opened) if opened >= 0 else _cell_row(
                seam := carry_before + chunk[:closed], seam.rfind(cell_open))
            if row:
                last_row = row
                if not first_row:
                    first_row = _cell_row(chunk, chunk.rfind(
                        cell_open, 0, chunk.find(cell_close))) or row
        if end >= 0:
            break
    if first_row and not last_col:
        last_col = 25  # no cell past Z
    return Extent(first_row, last_row, last_col, far)


def _cell_row(buffer: bytes, start: int) -> int:
    """The row of the cell tag starting at ``start`` (0 when it has no reference)."""
    if start < 0:
        return 0
    found = REF.search(buffer, start, buffer.find(b">", start) + 1 or len(buffer))
    return int(found.group(2)) if found else 0


def scan_sheet(archive: zipfile.ZipFile, member: str) -> SheetScan:
    """Merged ranges and formula cells without a cached value, in one streamed pass."""
    result = SheetScan()
    chunks = _chunks(archive, member)
    head = next(chunks, b"")
    prefix = _prefix(head)
    formula = b"<" + prefix + b"f"
    cell_open, cell_close = b"<" + prefix + b"c ", b"</" + prefix + b"c>"
    row_open = b"<" + prefix + b"row"
    carry = head
    while True:
        data = next(chunks, b"")
        buffer = carry + data if data else carry
        # Process whole rows only: everything before the last row start is complete. What
        # goes on for more than CARRY bytes without a row start (a hostile run of spaces)
        # is cut, keeping its last KiB (a tag cut at the chunk's end): what waits for the
        # next chunk stays bounded, and so does the time (a carry grown by copying would
        # make the scan quadratic).
        cut = buffer.rfind(row_open) if data else len(buffer)
        if cut <= 0 and len(buffer) > CARRY:
            cut = max(buffer.rfind(b">") + 1, len(buffer) - 1024)
        if cut <= 0:
            carry = buffer
            if not data:
                break
            continue
        part, carry = buffer[:cut], buffer[cut:]
        _formula_gaps(part, formula, cell_open, cell_close, result.formula_gaps)
        if b"mergeCell" in part:
            result.merges.extend(_merges(part))
        if not data:
            break
    return result


def _chunks(archive: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    """The member's bytes, decompressed a chunk at a time. Deflated members are inflated
    with zlib directly: zipfile's reader also checks the CRC, which costs as much again
    and proves nothing calamine's own read of the same member does not."""
    info = archive.getinfo(member)
    source = _raw_handle(archive)
    if info.compress_type != zipfile.ZIP_DEFLATED or source is None:
        with archive.open(member) as handle:
            while data := handle.read(CHUNK):
                yield data
        return
    with source as handle:
        handle.seek(info.header_offset)
        local = handle.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"{member}: bad local header")
        name_length, extra_length = struct.unpack("<HH", local[26:30])
        handle.seek(info.header_offset + 30 + name_length + extra_length)
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        left = info.compress_size
        while left > 0:
            raw = handle.read(min(CHUNK // 4, left))
            if not raw:
                raise EOFError(f"{member} is cut short")
            left -= len(raw)
            data = inflater.decompress(raw, CHUNK)
            while data:
                yield data
                data = inflater.decompress(inflater.unconsumed_tail, CHUNK) \
                    if inflater.unconsumed_tail else b""
        if tail := inflater.flush():
            yield tail


def _raw_handle(archive: zipfile.ZipFile) -> BinaryIO | None:
    """A handle of its own on the archive's bytes (a file, or bytes in memory), to read a
    member's compressed bytes from; None when there is none to be had."""
    if archive.filename is not None:
        return open(archive.filename, "rb")
    if isinstance(archive.fp, io.BytesIO):
        return io.BytesIO(archive.fp.getvalue())  # (bytes given to BytesIO are not copied)
    return None


def _prefix(head: bytes) -> bytes:
    """The namespace prefix of the sheet's elements (``x:`` in files some .NET libraries
    write), so the byte search looks for the right tag names."""
    match = re.search(rb"<(\w+:)?worksheet\b", head)
    return match.group(1) or b"" if match else b""


def _formula_gaps(part: bytes, formula: bytes, cell_open: bytes, cell_close: bytes,
                  gaps: list[tuple[int, int]]) -> None:
    position = part.find(formula)
    while position != -1:
        following = part[position + len(formula):position + len(formula) + 1]
        end = part.find(cell_close, position)
        if following not in (b">", b" ", b"/") or end == -1:
            position = part.find(formula, position + 1)
            continue
        start = part.rfind(cell_open, 0, position)
        cell = part[start:end]
        if start != -1 and not _has_value(cell):
            ref = REF.search(cell)
            if ref is not None:
                gaps.append((int(ref.group(2)), column_index(ref.group(1).decode())))
        position = part.find(formula, end)


def _has_value(cell: bytes) -> bool:
    """A formula cell carries a value when it has a non-empty ``<v>``, or an empty one in a
    string-typed cell (a formula whose result is the empty string)."""
    found = VALUE.search(cell)
    if found is None:
        return False
    if found.group(1) is None or found.group(1) == b"":  # <v/> or <v></v>
        typed = CELL_TYPE.search(cell[:cell.find(b">")])
        return typed is not None and typed.group(1) in (b"str", b"s", b"inlineStr")
    return True


def _merges(part: bytes) -> list[Merge]:
    merges = []
    for match in MERGE.finditer(part):
        first_col, first_row, last_col, last_row = match.groups()
        merges.append(Merge(int(first_row), column_index(first_col.decode()),
                            int(last_row or first_row),
                            column_index((last_col or first_col).decode())))
    return merges

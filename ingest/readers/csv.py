"""Reading, the second stage: CSV and TSV exports, any encoding, junk rows above the table.

The delimiter is sniffed, the encoding detected (``encoding``).

Rows are parsed by polars, over the whole file or (``read_chunks``, for big files) over
record-aligned pieces of it, so that memory does not grow with the file. A second, cheap
pass over physical lines (also polars) tells where each record starts and how many fields it
really has, because the CSV parser pads short rows and cannot tell a missing field from an
empty one.

A file polars cannot parse because of a quote inside an unquoted field (``27" screen``),
which Excel reads as a plain character, is read again leniently by Python's csv module: a
slow path taken only for such damaged files, and said so in the manifest.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace

import polars as pl

from ingest.columns import READER_CODE, READER_DETAIL, ROW
from ingest.errors import InputError
from ingest.inputs import HashingReader, Input, digest_of
from ingest.readers import limits
from ingest.readers.base import (
    CHUNK_BYTES,
    PEEK_ROWS,
    SMALL_TABLE_ROWS,
    NotChunkable,
    Opened,
    Peek,
    RawTable,
    split_table,
    unique_header,
)
from ingest.readers.encoding import (
    HEAD_BYTES,
    choose_encoding,
    decode_head,
    to_utf8,
    undecodable,
    utf8_transcoder,
)
from ingest.readers.layout import context_rows, table_end
from ingest.readers.options import ReaderOptions

DELIMITERS = (",", "\t", ";", "|")
QUOTE = '"'
QUOTED = re.compile(r'"[^"]*"')
LINE_SEPARATORS = (b"\x1f", b"\x1e", b"\x1d", b"\x1c", b"\x01")
STRUCTURAL = ("too-many-fields", "too-few-fields")
ANY_TEXT = re.compile(rb"[^\r\n]")


class CsvReader:
    name = "csv"
    suffixes: tuple[str, ...] = (".csv", ".tsv", ".txt")

    def open(self, source: Input) -> CsvDocument:
        return CsvDocument(source)


class CsvDocument(Opened):
    """A text export. A file is read in place, as it is on disk, by every call (it holds no
    handle open between them); bytes in memory are read where they are."""

    def __init__(self, source: Input) -> None:
        super().__init__(source)
        # Peeks by what changes them (detection tries each mapping's options; most share),
        # and by what they come to: an automatic delimiter is the one it finds.
        self._peeks: dict[tuple[str, str], Peek] = {}
        self._found: dict[tuple[str, str], Peek] = {}
        self._head: bytes | None = None  # the first bytes, read once for every peek
        self._texts: dict[str, tuple[str, str]] = {}  # the head decoded, by encoding asked
        self._whole: bytes | None = None  # a file no longer than a peek's head: read once

    def peek(self, options: ReaderOptions) -> Peek:
        key = (options.encoding, options.delimiter)
        if key not in self._peeks:
            if self._head is None:
                # One byte past the head: decode_head then knows the file goes on, and a
                # character cut at the head's end is left out rather than called
                # undecodable.
                self._head = _read(self.input, HEAD_BYTES + 1)
                if len(self._head) <= HEAD_BYTES:
                    self._whole = self._head  # (the read parses these bytes: what is hashed)
            if options.encoding not in self._texts:  # (mappings differ in delimiter more)
                self._texts[options.encoding] = decode_head(self._head, options.encoding,
                                                            self.input.name)
            text, encoding = self._texts[options.encoding]
            delimiter = _delimiter(text, options, self.input)
            found = (encoding, delimiter)
            if found not in self._found:
                rows = [row for row, _ in _head_records(text, delimiter)]
                _check_width(self.input.name, rows)
                self._found[found] = Peek(rows=rows, encoding=encoding, delimiter=delimiter)
            self._peeks[key] = self._found[found]
        return self._peeks[key]

    def sheets(self) -> list[str]:
        return []

    def read(self, options: ReaderOptions, header_row: int) -> RawTable:
        source = self.input
        as_read = self._whole if self._whole is not None else _read(source)
        self.digest = digest_of(as_read)  # what is parsed is what is hashed
        data, encoding = to_utf8(as_read, options.encoding, source.name)
        del as_read
        _LineLengths(source.name).feed(data)  # before the parser copies a giant line
        if _mac_line_ends(data):
            data = data.replace(b"\r", b"\n")
        data_head = data[:HEAD_BYTES]
        delimiter, header, start = _header(data_head, options, source, header_row)
        body = data[start:]
        del data  # the body is a copy: one file's worth of memory less at the peak
        try:
            frame, parser = _parse_fast(body, header, delimiter), "fast"
        except _NeedsLenient:
            frame, parser = _parse_lenient(body, header, delimiter), "lenient"
        except pl.exceptions.ComputeError as exc:
            if "utf-8" in str(exc):
                if options.encoding == "auto" and encoding == "utf-8":
                    # The first MiB looked like UTF-8 but the rest is not: a GB18030 export.
                    return self.read(replace(options, encoding="gb18030"), header_row)
                data = _read(source)  # rare: the file again, to say where the bad byte is
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError as bad:
                    raise undecodable(source.name, data, bad.start, "utf-8", options.encoding
                                      ) from None
            raise InputError(source.name, f"is not valid CSV: {str(exc).splitlines()[0]}",
                             code="malformed-csv") from None
        raw = _table(source, frame, header, header_row, options, encoding, delimiter)
        raw.layout["above_header"] = header_row - 1
        if options.form:  # (the form's rows above the table, for the mapping's labels)
            above = _head_records(data_head.decode("utf-8", errors="ignore"), delimiter,
                                  limit=header_row - 1)
            raw.rows_outside[:0] = [(number, cells) for number, (row, _) in
                                    enumerate(above, start=1)
                                    if any(cells := [cell.strip() for cell in row])]
        if parser != "fast":
            raw.notes.append("quotes inside unquoted fields: read leniently, as Excel does")
        return raw

    def read_chunks(self, options: ReaderOptions, header_row: int,
                    chunk_bytes: int = CHUNK_BYTES) -> Iterator[RawTable]:
        """The table as ``read`` gives it, in pieces of about ``chunk_bytes`` (the first:
        what follows the header in the first block) that end at a record's end: the file
        is read and decoded piece by piece. Row numbers, codes and layout counts are the
        whole file's (``above_header`` comes with the first piece).
        Raises ``NotChunkable`` (possibly after some pieces) where ``read`` must be used."""
        if options.form:
            raise NotChunkable  # (a form's table ends where its totals start: read whole)
        source = self.input
        try:
            handle = HashingReader(source.open())  # what is parsed is what is hashed
        except OSError as exc:
            raise InputError.of(source.name, "cannot-open", reason=str(exc.strerror)) from None
        with handle:
            first = handle.read(HEAD_BYTES)
            encoding = choose_encoding(first, options.encoding, source.name)
            stream = _LineLengths(source.name).bounded(
                _utf8_blocks(first, handle, encoding, chunk_bytes))
            head = bytes(next(stream, b""))  # the header is decided from the first MiB
            if _mac_line_ends(head):
                raise NotChunkable
            delimiter, header, start = _header(head[:HEAD_BYTES], options, source, header_row)
            rows_before, layout_above = 0, {"above_header": header_row - 1}
            # The first MiB, read to decide the header, is the first piece (or pieces): the
            # work on the file starts while the next is read.
            body = head[start:]
            blocks = itertools.chain(
                (body[i:i + chunk_bytes] for i in range(0, len(body), chunk_bytes)), stream)
            for piece, last in _record_pieces(blocks):
                try:
                    frame = _parse_fast(piece, header, delimiter, last)
                except (_NeedsLenient, pl.exceptions.ComputeError):
                    raise NotChunkable from None
                del piece  # parsed: not held while the table waits to be worked on
                frame = frame.with_columns(pl.col(ROW) + rows_before)
                rows_before += frame.height
                table = _table(source, frame, header, header_row, options, encoding, delimiter)
                table.read_to = handle.tell()  # (the next piece may be read already)
                table.layout.update(layout_above)
                layout_above = {}
                yield table
            self.digest = handle.digest()  # (the blocks were read to the file's end)


class _NeedsLenient(Exception):
    """The fast parser cannot read this file faithfully."""


def _read(source: Input, limit: int = -1) -> bytes:
    """The input's bytes (the first ``limit`` of them): a file read in place, bytes in
    memory as they are (a slice only when a limit asks for one)."""
    if source.data is not None:
        data = source.data if limit < 0 else source.data[:limit]
    else:
        try:
            with source.open() as handle:
                data = handle.read(limit)
        except OSError as exc:
            raise InputError.of(source.name, "cannot-open", reason=str(exc.strerror)) from None
    if not data or data.isspace():  # isspace stops at the first other byte: no copy
        raise InputError(source.name, "the file is empty", code="empty-file")
    return data


def _check_width(name: str, rows: list[list[str]]) -> None:
    """Rows of the head (the header among them) wider than the limit are refused before a
    schema of that width is built: a 2 MB header of a million names took 5.6 GB."""
    widest = max(map(len, rows), default=0)
    limits.COLUMNS.check(name, widest, "in the first rows of the file; a header this wide "
                         "is not an order export")


class _LineLengths:
    """Refuses a line longer than the limit (``ORDERMILL_MAX_LINE_MB``), from the UTF-8 bytes
    as they are read and before they are parsed: a 2 GB cell took 4.5 GB to parse. Looks
    at each MiB of text with ``find``/``rfind`` for its first and last line end only (a
    line inside one MiB is shorter than any limit), so it costs nothing next to the read."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.limit = limits.LINE_MIB.value() * limits.MiB
        self.run = 0  # bytes since the last line end

    def feed(self, data: bytes | bytearray) -> None:
        if self.run + len(data) <= self.limit:  # no line can be too long yet
            last = max(data.rfind(b"\n"), data.rfind(b"\r"))
            self.run = self.run + len(data) if last < 0 else len(data) - 1 - last
            return
        for start in range(0, len(data), limits.MiB):
            end = min(start + limits.MiB, len(data))
            first = min((at for at in (data.find(b"\n", start, end),
                                       data.find(b"\r", start, end)) if at >= 0), default=-1)
            if first < 0:
                self.run += end - start
            else:
                self._check(self.run + first - start)
                self.run = end - 1 - max(data.rfind(b"\n", start, end),
                                         data.rfind(b"\r", start, end))
            self._check(self.run)

    def bounded(self, blocks: Iterable[bytes | bytearray]) -> Iterator[bytes | bytearray]:
        for block in blocks:
            self.feed(block)
            yield block

    def _check(self, length: int) -> None:
        if length > self.limit:
            limits.LINE_MIB.check(self.name, limits.mib(length),
                                  "at least: reading stopped there; a single line or cell "
                                  "of that size is not an order line")


def _mac_line_ends(data: bytes | bytearray) -> bool:
    """Whether records end with a bare CR (classic Mac, and Mac Excel's "CSV (Macintosh)",
    which puts LF inside quoted cells): the first line of the file ends with a CR not
    followed by an LF. Those CRs become LFs; an LF inside a quoted cell stays in the cell.
    (Deciding on "no LF anywhere" lost every record of a file with a line break in a cell.)"""
    first_cr = data.find(b"\r")
    if first_cr < 0:
        return False
    first_lf = data.find(b"\n", 0, first_cr + 2)
    return first_lf < 0 or first_lf > first_cr + 1


def _delimiter(text: str, options: ReaderOptions, source: Input) -> str:
    """The mapping's delimiter, or the candidate that splits the first lines most often,
    not counting what is inside quotes."""
    if options.delimiter != "auto":
        return options.delimiter
    lines = [QUOTED.sub("", line) for line in text[:65536].splitlines()[:PEEK_ROWS]]
    best = max(DELIMITERS, key=lambda d: max((line.count(d) for line in lines), default=0))
    if all(line.count(best) == 0 for line in lines):
        return "\t" if source.suffix == ".tsv" else ","
    return best


def _head_records(text: str, delimiter: str, limit: int = PEEK_ROWS) -> list[
        tuple[list[str], int]]:
    """The first ``limit`` records with the character offset just past each (the csv module
    on a bounded head: only the header search and the rows above it go through Python)."""
    consumed = 0

    def tracked() -> object:
        nonlocal consumed
        for line in text.splitlines(keepends=True):
            consumed += len(line)
            yield line

    out: list[tuple[list[str], int]] = []
    reader = csv.reader(tracked(), delimiter=delimiter)  # type: ignore[arg-type]
    try:
        for row in reader:
            out.append((row, consumed))
            if len(out) >= limit:
                break
    except csv.Error:
        pass  # an unterminated quote in the head: the rows before it are still usable
    return out


def _header(head: bytes, options: ReaderOptions, source: Input, header_row: int) -> tuple[
        str, list[str], int]:
    """From the first MiB of the UTF-8 text: the delimiter, the header, and the byte offset
    where the body begins."""
    text = head.decode("utf-8", errors="ignore")
    delimiter = _delimiter(text, options, source)
    records = _head_records(text, delimiter, limit=header_row)
    if len(records) < header_row:
        raise InputError(source.name, f"has no row {header_row} to use as the header")
    _check_width(source.name, [records[header_row - 1][0]])
    header = unique_header(records[header_row - 1][0])
    return delimiter, header, len(text[: records[header_row - 1][1]].encode("utf-8"))


def _table(source: Input, frame: pl.DataFrame, header: list[str], header_row: int,
           options: ReaderOptions, encoding: str, delimiter: str) -> RawTable:
    """Parsed records as the table under the header: spreadsheet row numbers, blank and
    footer rows left out and counted."""
    frame = frame.clone()  # (numbered in place, not by a query: cheaper for small files)
    frame.replace_column(frame.get_column_index(ROW), frame[ROW] + (header_row + 1))
    if not options.form:
        table, layout = split_table(frame, header, options.footer)
        table = table[[c for c in table.columns if not c.startswith("__extra")]]
        return RawTable(source.name, header, header_row, table, encoding, delimiter, layout)
    # A form's table (``ReaderOptions.form``) ends as a workbook's does; the rows below it
    # are kept, as cells, for the mapping's labels.
    end, at_footer = table_end(frame, header, options.footer)
    outside = context_rows(frame[header], end, frame.height, header_row + 1)
    table, layout = split_table(frame.head(end), header, None)
    table = table[[c for c in table.columns if not c.startswith("__extra")]]
    layout["footer"] = int(at_footer)
    layout["below_table"] = frame.height - end - int(at_footer)
    return RawTable(source.name, header, header_row, table, encoding, delimiter, layout,
                    rows_outside=outside)


def _utf8_blocks(first: bytes, handle: HashingReader, encoding: str,
                 block_bytes: int) -> Iterator[bytes | bytearray]:
    """The file from its start as UTF-8 blocks (no BOM), decoded as it is read."""
    # (iter and map, not a loop variable: nothing here holds on to a block, raw or decoded,
    # while the piece made of it is worked on)
    blocks = iter(functools.partial(handle.read, block_bytes), b"")
    if encoding in ("utf-8", "utf-8-sig"):
        yield first.removeprefix(b"\xef\xbb\xbf")
        yield from blocks
        return
    transcoder = utf8_transcoder(encoding)
    try:
        yield transcoder.feed(first).removeprefix(codecs.BOM_UTF8)
        yield from map(transcoder.feed, blocks)
        yield transcoder.feed(b"", final=True)
    except UnicodeDecodeError:
        raise NotChunkable from None  # ``read`` says where the bad byte is


def _record_pieces(blocks: Iterable[bytes | bytearray]) -> Iterator[tuple[bytes, bool]]:
    """The text of the blocks, starting at a record's start, in pieces that end where a
    record ends (one per block that holds a record end), and whether each is the last (what
    is left at the end). A piece is what the block before left over, mostly part of one
    record, plus this block up to its last record end: each byte is copied once (a new page
    of memory costs more than it seems on these VMs)."""
    rest = b""  # the start of a record that goes on into the next block
    for block in blocks:
        end = _last_record_end(block, rest.count(b'"') & 1)
        if not end:
            rest = b"".join([rest, block])  # no record ends in this block: read on
            continue
        piece = [b"".join([rest, memoryview(block)[:end]])]
        rest = bytes(memoryview(block)[end:])
        del block  # not held while the piece is worked on (nor is the piece, after)
        yield piece.pop(), False
    yield rest, True


def _last_record_end(data: bytes | bytearray, odd: int) -> int:
    """The offset just past the last line end in ``data`` that is not inside a quoted
    value (0 when there is none). A record starts before ``data`` (``odd``: its quotes
    before ``data`` are odd), so a line end ends a record exactly when the quotes before it
    are even."""
    position, parity = len(data), (odd + data.count(b'"')) & 1
    while (line_end := data.rfind(b"\n", 0, position)) >= 0:
        parity ^= data.count(b'"', line_end, position) & 1  # now: the quotes before it
        if not parity:
            return line_end + 1
        position = line_end
    return 0


def _schema(header: list[str]) -> dict[str, pl.DataType]:
    schema: dict[str, pl.DataType] = {name: pl.String() for name in header}
    schema["__extra"] = pl.String()
    return schema


def _parse_fast(body: bytes, header: list[str], delimiter: str,
                last: bool = True) -> pl.DataFrame:
    """``last``: the body ends the file (a piece of a file that is not last ends at a
    record's end)."""
    if len(body) <= SMALL_BODY and (small := _parse_small(body, header, delimiter)) is not None:
        return small
    return _parse_polars(body, header, delimiter, last)


def _parse_polars(body: bytes, header: list[str], delimiter: str,
                  last: bool = True) -> pl.DataFrame:
    """``_parse_fast`` by polars' CSV parser, and a count of each record's fields."""
    delims, open_start = _record_structure(body, delimiter)
    truncated = None
    if last and open_start is not None:
        # The file ends inside a quoted field: a cut last row, or a stray quote inside an
        # unquoted field that never closes (then read leniently, as Excel does).
        truncated = body[open_start:]
        if _has_stray_quote(truncated.split(b"\n", 1)[0], delimiter.encode()):
            raise _NeedsLenient
        body = body[:open_start]
        delims = delims.slice(0, len(delims) - 1)
    if ANY_TEXT.search(body):  # (not ``body.strip()``: that copies the whole body)
        try:
            frame = pl.read_csv(
                body, has_header=False, schema=_schema(header), separator=delimiter,
                quote_char=QUOTE, infer_schema=False, missing_columns="insert",
                truncate_ragged_lines=True, empty_string_is_null=False, raise_if_empty=False,
                # A first record wider than the schema (a header with fewer names than its
                # rows) is cut like any other long record, not a SchemaError: the fields
                # are counted apart (``_record_structure``) and the row marked too-many-fields.
                extra_columns="ignore",
            )
        except pl.exceptions.ComputeError as exc:
            if "escaped" in str(exc) or "quote" in str(exc):
                raise _NeedsLenient from None
            raise
    else:
        frame = pl.DataFrame(schema=_schema(header))
    if frame.height != len(delims):
        raise _NeedsLenient
    # A record's fields: its delimiter characters, less those inside quoted values, plus one.
    if frame.height <= SMALL_TABLE_ROWS:  # (Python: planning the query costs more)
        inside_values = pl.Series([sum(v.count(delimiter) for v in row if v) for row in zip(
            *(frame[c].to_list() for c in frame.columns), strict=True)], dtype=pl.UInt32)
    else:
        inside_values = frame.select(pl.sum_horizontal(
            [pl.col(c).str.count_matches(delimiter, literal=True).fill_null(0)
             for c in frame.columns])).to_series()
    fields = delims - inside_values + 1
    frame = _mark_structure(frame, header, fields, b"\x00" in body)
    if truncated is not None:
        tail = pl.DataFrame({header[0]: [truncated.decode("utf-8", "replace").rstrip("\r\n")]})
        frame = pl.concat([frame, tail.with_columns(
            pl.lit(frame.height, pl.Int64).alias(ROW),
            pl.lit("truncated-row").alias(READER_CODE),
            pl.lit(None, pl.String).alias(READER_DETAIL),
        )], how="diagonal")
    return frame


def _parse_small(body: bytes, header: list[str], delimiter: str) -> pl.DataFrame | None:
    """A short, plain body (a purchase order's few lines) parsed by Python's csv module: the
    frame ``_parse_fast`` gives, at a sixth of the cost (a polars parse wakes its thread
    pool, 0.7-1.2 ms for 20 rows on this machine). None where the two could differ, and the
    polars parse decides: a NUL, a carriage return not ending a line, quotes left open, a
    record Python's parser calls malformed, a value holding a quote or a line end (escaped
    quotes, multi-line values, a stray quote polars refuses), undecodable UTF-8, no text.
    Polars' reading is what is copied: a missing field is an empty string, an empty line a
    record of empty strings, fields past the header's cut to one (``__extra``)."""
    if (b"\x00" in body or body.count(b"\r") != body.count(b"\r\n")
            or body.count(b'"') % 2 or not ANY_TEXT.search(body)):
        return None
    try:
        rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline=""),
                               delimiter=delimiter, strict=True))
    except (UnicodeDecodeError, csv.Error):
        return None
    if any('"' in value or "\n" in value or "\r" in value for row in rows for value in row):
        return None
    width = len(header)
    names = [*header, "__extra"]
    columns: list[list[str]] = [[] for _ in names]
    for row in rows:
        cells = [*row[:width + 1], *([""] * (width + 1 - len(row)))]
        for column, value in zip(columns, cells, strict=True):
            column.append(value)
    frame = pl.DataFrame(dict(zip(names, columns, strict=True)), schema=_schema(header))
    fields = pl.Series([max(len(row), 1) for row in rows], dtype=pl.UInt32)
    return _mark_structure(frame, header, fields, has_nul=False)


def _has_stray_quote(line: bytes, delimiter: bytes) -> bool:
    """Whether the quote left open at the end of this line stands inside a field (an inch
    mark, ``27" screen``) rather than opening a quoted field at a field start."""
    if line.count(b'"') % 2 == 0:
        return False
    last = line.rstrip(b"\r").rfind(b'"')
    return last > 0 and line[last - 1 : last] != delimiter


def _mark_structure(frame: pl.DataFrame, header: list[str], fields: pl.Series,
                    has_nul: bool) -> pl.DataFrame:
    if frame.height <= SMALL_TABLE_ROWS:
        return _small_marks(frame, header, fields, has_nul)
    width = len(header)
    # One empty field past the header's last is a trailing delimiter, not a shifted row:
    # Tmall's 宝贝报表 ends every data row with a comma.
    trailing = (fields == width + 1) & (pl.col("__extra").fill_null("") == "")
    code = (pl.when((fields > width) & ~trailing).then(pl.lit("too-many-fields"))
            .when(fields < width).then(pl.lit("too-few-fields")))
    if has_nul:  # rare: only then pay for a scan of every cell
        code = code.when(pl.any_horizontal(
            [pl.col(h).str.contains("\x00", literal=True) for h in header]
        )).then(pl.lit("nul-byte"))
    detail = pl.format("{} fields, the header has {}", fields, pl.lit(width))
    return frame.with_row_index(ROW).with_columns(
        pl.col(ROW).cast(pl.Int64),
        code.alias(READER_CODE),
        pl.when(code.is_in(STRUCTURAL)).then(detail).alias(READER_DETAIL),
    )


def _small_marks(frame: pl.DataFrame, header: list[str], fields: pl.Series,
                 has_nul: bool) -> pl.DataFrame:
    """``_mark_structure`` by Python over a small table's rows (the same rules)."""
    width = len(header)
    nul = [any("\x00" in v for v in row if v) for row in zip(
        *(frame[h].to_list() for h in header), strict=True)] if has_nul else [False] * len(
        fields)
    codes: list[str | None] = []
    details: list[str | None] = []
    for count, spill, has in zip(fields.to_list(), frame["__extra"].to_list(), nul, strict=True):
        trailing = count == width + 1 and not spill
        code = ("too-many-fields" if count > width and not trailing else
                "too-few-fields" if count < width else "nul-byte" if has else None)
        codes.append(code)
        details.append(f"{count} fields, the header has {width}" if code in STRUCTURAL
                       else None)
    marked = frame.with_row_index(ROW)
    marked.replace_column(0, pl.Series(ROW, range(frame.height), dtype=pl.Int64))
    return marked.hstack([pl.Series(READER_CODE, codes, dtype=pl.String),
                          pl.Series(READER_DETAIL, details, dtype=pl.String)])


SMALL_BODY = 1 << 16  # text this short has its record structure told by Python


def _record_structure(body: bytes, delimiter: str) -> tuple[pl.Series, int | None]:
    """How many delimiter characters each CSV record holds (as separators or inside quoted
    values), and, when the body ends inside quotes, the byte offset where its last record
    starts. Found over physical lines by quote parity: no regex, so a few cheap passes."""
    if len(body) <= SMALL_BODY:
        return _small_record_structure(body, delimiter)
    lines = _physical_lines(body)
    quotes = pl.col("line").str.count_matches(QUOTE, literal=True)
    delims = pl.col("line").str.count_matches(delimiter, literal=True)
    frame = lines.select(
        quotes=quotes,
        inside=((quotes.cum_sum() - quotes) % 2) == 1,  # the line starts inside quotes
        before=delims.cum_sum() - delims,
        total=delims.sum(),
    )
    per_record = frame.filter(~pl.col("inside")).select(
        pl.col("before").shift(-1, fill_value=pl.col("total").first()) - pl.col("before"))
    open_start = None
    if frame.height and int(frame["quotes"].sum()) % 2:  # rare: a cut or damaged file
        # The open record starts where the last complete one ends: found in the bytes (the
        # line reader drops a CRLF's carriage return, so line lengths would not do).
        open_start = _last_record_end(body, 0)
    return per_record.to_series(), open_start


def _small_record_structure(body: bytes, delimiter: str) -> tuple[pl.Series, int | None]:
    """``_record_structure`` by Python over a short text's lines (the same lines as
    ``_physical_lines`` splits, the same counts): planning the queries costs more."""
    if not body:
        return pl.Series("before", [], dtype=pl.UInt32), None
    text = body.decode("utf-8", "replace")  # (quotes, delimiters and line ends are ASCII)
    lines = text.split("\n")[: text.count("\n") + (0 if text.endswith("\n") else 1)]
    starts: list[int] = []  # the delimiters before each record's first line
    quotes = delims = 0
    for line in lines:
        if not quotes % 2:  # (a line that starts outside quotes starts a record)
            starts.append(delims)
        quotes += line.count(QUOTE)
        delims += line.count(delimiter)
    per_record = [after - before for before, after in zip(starts, [*starts[1:], delims],
                                                           strict=True)]
    open_start = _last_record_end(body, 0) if quotes % 2 else None
    return pl.Series("before", per_record, dtype=pl.UInt32), open_start


def _physical_lines(body: bytes) -> pl.DataFrame:
    """The body's lines as a string column, split by polars' CSV reader with no quoting and
    a separator byte the body does not hold."""
    if not body:
        return pl.DataFrame(schema={"line": pl.String})
    separator = next((s for s in LINE_SEPARATORS if s not in body), None)
    if separator is None:
        text = body.decode("utf-8", "replace")
        return pl.DataFrame({"line": text.split("\n")[: text.count("\n") + (
            0 if text.endswith("\n") else 1)]})
    return pl.read_csv(body, has_header=False, separator=separator.decode(), quote_char=None,
                       schema={"line": pl.String}, infer_schema=False,
                       empty_string_is_null=False, raise_if_empty=False)


def _parse_lenient(body: bytes, header: list[str], delimiter: str) -> pl.DataFrame:
    """Python's csv module reads a quote inside an unquoted field as a character, like Excel.
    Only damaged files come here."""
    rows = list(csv.reader(io.StringIO(body.decode("utf-8", "replace"), newline=""),
                           delimiter=delimiter))
    width = len(header)
    columns: dict[str, list[str | None]] = {name: [] for name in [*header, "__extra"]}
    for row in rows:
        padded = [*row[:width], *([None] * (width - len(row)))]
        for name, value in zip(header, padded, strict=True):
            columns[name].append(value)
        columns["__extra"].append(row[width] if len(row) > width else None)
    frame = pl.DataFrame(columns, schema=_schema(header))
    fields = pl.Series([len(row) for row in rows], dtype=pl.Int64)
    return _mark_structure(frame, header, fields, b"\x00" in body)

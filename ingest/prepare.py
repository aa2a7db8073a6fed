"""Reading to row checks (the second to fifth stages) of one input file, before the batch.

Open, detect, read, map and check it, up to the batch-wide checks.

A big text file goes through in pieces (``ingest.pieces``): each piece's passed lines are
spilled to an Arrow file as soon as they are checked, so memory holds only what the batch
needs of every line (its key and content hashes, its order number) and one piece at a time.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from ingest.checks import ID, check_rows
from ingest.dedupe import FIELD_HASHES, LINE_HASHES, hash_lines
from ingest.errors import InputError
from ingest.inputs import Input
from ingest.mapping.compile import RAW, compile_mapping
from ingest.mapping.detect import Match, detect
from ingest.mapping.model import Mapping
from ingest.mapping.orders import ShapedTable, shape
from ingest.pieces import order_tables, spread_orders
from ingest.readers import open_document
from ingest.readers.base import (
    CHUNK_BYTES,
    READER_CODE,
    READER_DETAIL,
    ROW,
    ChunkDocument,
    NotChunkable,
    RawTable,
)


@dataclass
class PreparedInput:
    """An input after its own checks, before the batch-wide ones."""

    path: str
    sha256: str
    size: int
    mapping: Mapping
    # The table as read (source columns + __row), for the rejects report: every row, or for
    # a big file read in pieces only the rows of orders with a rejected line.
    raw: pl.DataFrame
    header: list[str]
    # Typed standard columns (+ __row) of the rows that passed the row checks, with their
    # field hashes (``FIELD_HASHES``), one frame per piece: in memory, or scanned from the
    # spill files of a big file.
    passed: list[pl.LazyFrame]
    passed_heights: list[int]  # rows of each frame of ``passed``
    passed_rows: pl.Series  # __row of the passed rows, in order
    hashes: pl.DataFrame  # their ``LINE_HASHES`` (key and content), row for row
    reasons: pl.DataFrame  # __row, codes, messages
    rejected_orders: pl.DataFrame  # __row, order_id of the rejected rows
    rows_in: int
    details: dict[str, object] = field(default_factory=dict)
    # The whole table again, piece by piece, for rows ``raw`` did not keep (a line held back
    # because of another input, a cross-channel duplicate): None when ``raw`` is whole.
    reread: Callable[[], Iterator[pl.DataFrame]] | None = None
    spill: tempfile.TemporaryDirectory[str] | None = None  # the spill files' folder

    def raw_rows(self, rows: pl.Series) -> pl.DataFrame:
        """The rows as read, for these row numbers."""
        kept = self.raw.filter(pl.col(ROW).is_in(rows.implode()))
        if self.reread is None or kept.height == rows.n_unique():
            return kept
        missing = rows.filter(~rows.is_in(kept[ROW].implode())).implode()
        found = [piece.filter(pl.col(ROW).is_in(missing)) for piece in self.reread()]
        return pl.concat([kept.select(ROW, *self.header),
                          *[f.select(ROW, *self.header) for f in found]])


@dataclass(frozen=True)
class Checked:
    """One table (a whole file, or a piece of a big one) mapped and row-checked."""

    passed: pl.DataFrame  # typed standard columns of the rows that passed (+ __row)
    hashes: pl.DataFrame  # their key and content hashes, row for row
    reasons: pl.DataFrame  # __row, codes, messages
    rejected_orders: pl.DataFrame  # __row, order_id of the rejected rows
    touched: pl.Series  # __row of every row whose order has a rejected line (incl. them)
    order_ids: pl.Series  # the distinct order numbers of the table
    missing_columns: tuple[str, ...]
    form: dict[str, str | None]


@dataclass(frozen=True)
class _Kept:
    """What a piece of a big file leaves in memory once its passed lines are spilled."""

    table: RawTable  # its header and layout counts (no rows)
    raw: pl.DataFrame  # the rows as read of its orders with a rejected line
    rows: pl.Series  # __row of its passed lines
    hashes: pl.DataFrame  # their ``LINE_HASHES``, row for row
    reasons: pl.DataFrame
    rejected_orders: pl.DataFrame
    missing_columns: tuple[str, ...]
    form: dict[str, str | None]


Digest = tuple[str, int]  # a file's sha256 and size


def file_sha256(path: Path) -> Digest:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)  # (hashlib lets go of the GIL on big updates)
            size += len(chunk)
    return digest.hexdigest(), size


_HASHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ordermill-sha256")


def hash_in_background(path: Path) -> Future[Digest]:
    """The file's digest, computed beside the work on it: a 400 MB export takes 0.5 s of
    CPU to hash, and seconds when the disk is busy, which would otherwise come first."""
    return _HASHER.submit(file_sha256, path)


def prepare(path: Path, mappings: list[Mapping], channel: str | None = None,
            default_timezone: str = "UTC",
            digest: Digest | Future[Digest] | None = None,
            chunk_bytes: int | None = None, spill_dir: Path | None = None,
            progress: Callable[[float], None] | None = None) -> PreparedInput:
    """Read, map and row-check one file. Raises InputError when it cannot be read at all.
    A text file bigger than ``chunk_bytes`` is read and checked in pieces of about that
    size (default ``CHUNK_BYTES``; see ``ingest.pieces``), with the same result; its passed
    lines wait in a temporary folder under ``spill_dir`` (default: the system's) until they
    are written. Callers that hashed the file, or are hashing it (``hash_in_background``),
    pass its ``digest`` in. ``progress`` hears the share of a big file read so far (0 to 1),
    piece by piece."""
    digest = digest if digest is not None else hash_in_background(path)
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    source = Input.from_path(path)
    with open_document(source) as document:
        match = detect(document, mappings, channel)
        file_bytes = source.size()
        if file_bytes > chunk_bytes and isinstance(document, ChunkDocument):
            try:
                return _prepare_in_pieces(path, file_bytes, match, document, digest,
                                          default_timezone, chunk_bytes, spill_dir, progress)
            except NotChunkable:
                pass  # read whole below: that path handles (and explains) the damage
        shaped = shape(document.read(match.options, match.header_row), match.mapping)
    table = shaped.table
    checked = map_and_check(shaped, match.mapping, default_timezone)
    raw = table.frame.drop(READER_CODE, READER_DETAIL)
    sha256, size = _resolved(digest)
    return PreparedInput(str(path), sha256, size, match.mapping, raw, table.header,
                         [_with_field_hashes(checked).lazy()], [checked.passed.height],
                         checked.passed[ROW], checked.hashes.select(LINE_HASHES),
                         checked.reasons, checked.rejected_orders, raw.height,
                         input_details(match, table, table.layout, checked.missing_columns,
                                       checked.form))


def _resolved(digest: Digest | Future[Digest]) -> Digest:
    return digest.result() if isinstance(digest, Future) else digest


def _prepare_in_pieces(path: Path, file_bytes: int, match: Match, document: ChunkDocument,
                       digest: Digest | Future[Digest],
                       default_timezone: str, chunk_bytes: int, spill_dir: Path | None,
                       progress: Callable[[float], None] | None = None) -> PreparedInput:
    """``prepare`` for a big file, piece by piece (``ingest.pieces``). Kept in memory: the
    reasons, the raw rows of orders with a rejected line, and of each passed line its
    row number and hashes; the passed lines themselves are spilled. Raises NotChunkable when
    the file must be read whole (then nothing of this is kept). The order numbers stay in
    the spill with the lines: the lines of orders with a rejected line are looked up there
    (``ingest.pipeline``)."""
    if spill_dir is not None:
        spill_dir.mkdir(parents=True, exist_ok=True)
    spill = tempfile.TemporaryDirectory(prefix="ordermill-pieces-", dir=spill_dir)
    targets: list[Path] = []
    writing: Future[None] | None = None
    parts: list[_Kept] = []
    # Hashes of each piece's order numbers tell whether an order is spread over pieces:
    # 8 bytes an order. A clash only makes the file read whole, never a wrong result.
    orders: list[pl.Series] = []
    rows_in = 0
    # Pieces are written in the background, one at a time: a disk that other work keeps
    # busy (writes stalled for 1-2 s here) stalls the writer, not the next piece's mapping.
    # Leaving the ``with`` waits for the last write, before the folder may be cleaned up.
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ordermill-spill") as writer:
            for index, shaped in enumerate(order_tables(document, match, chunk_bytes)):
                table = shaped.table
                rows_in += table.frame.height
                checked = map_and_check(shaped, match.mapping, default_timezone)
                kept = _compact(table.frame.filter(pl.col(ROW).is_in(
                    checked.touched.implode())))
                target = Path(spill.name) / f"piece-{index:05d}.arrow"
                # zstd: a piece's lines shrink 20-fold (116 MB to 5 MB for 165,000 Tmall
                # lines), and compressing costs less than writing the bytes it saves.
                if writing is not None:
                    writing.result()  # (so at most one piece waits in memory to be written)
                writing = writer.submit(_with_field_hashes(checked).write_ipc, target,
                                        compression="zstd")
                targets.append(target)
                orders.append(checked.order_ids.drop_nulls().hash())
                parts.append(_Kept(replace(table, frame=table.frame.clear()),
                                   kept.drop(READER_CODE, READER_DETAIL), checked.passed[ROW],
                                   checked.hashes.select(LINE_HASHES), checked.reasons,
                                   checked.rejected_orders, checked.missing_columns,
                                   checked.form))
                if progress is not None and table.read_to is not None:
                    progress(min(table.read_to / file_bytes, 1.0))
                del shaped, table, kept, checked
            if writing is not None:
                writing.result()
    except BaseException:  # (NotChunkable included: the file is read whole instead)
        spill.cleanup()
        raise
    spilled = [pl.scan_ipc(target) for target in targets]
    if spread_orders(orders):
        spill.cleanup()
        raise NotChunkable
    sha256, size = _resolved(digest)
    first = parts[0].table
    layout: dict[str, int] = {}
    for part in parts:
        for name, count in part.table.layout.items():
            layout[name] = layout.get(name, 0) + count
    missing = tuple(dict.fromkeys(m for part in parts for m in part.missing_columns))

    def reread() -> Iterator[pl.DataFrame]:
        if file_sha256(path) != (sha256, size):
            raise InputError(str(path), "changed while it was being ingested; run again",
                             code="changed-during-run")
        with open_document(Input.from_path(path)) as again:
            assert isinstance(again, ChunkDocument)  # (as it was when first read)
            for shaped in order_tables(again, match, chunk_bytes):
                yield shaped.table.frame

    return PreparedInput(str(path), sha256, size, match.mapping,
                         pl.concat([part.raw for part in parts]), first.header, spilled,
                         [part.rows.len() for part in parts],
                         pl.concat([part.rows for part in parts]),
                         pl.concat([part.hashes for part in parts]),
                         pl.concat([part.reasons for part in parts]),
                         pl.concat([part.rejected_orders for part in parts]), rows_in,
                         input_details(match, first, layout, missing, parts[0].form),
                         reread, spill)


def _compact(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame in buffers of its own. The few raw rows a piece keeps would otherwise hold
    on to the text of the whole piece (polars strings are views into shared buffers, and a
    filter or gather keeps them): 0.35 GB per million lines. An Arrow IPC round trip in
    memory copies just the rows."""
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="uncompressed")
    buffer.seek(0)
    return pl.read_ipc(buffer)


def map_and_check(table: ShapedTable, mapping: Mapping, default_timezone: str) -> Checked:
    """Map a table into typed standard columns and run the one-row checks."""
    compiled = compile_mapping(mapping, table, default_timezone)
    typed = compiled.frame.with_columns(pl.col(ROW).alias(ID)).collect()
    outcome = check_rows(typed, compiled.labels, compiled.mapped, compiled.divided)
    reasons = outcome.reasons.rename({ID: ROW})
    rejected_orders = typed.select(ROW, "order_id").filter(~outcome.passed)
    touched = typed.filter(~outcome.passed | pl.col("order_id").is_in(
        rejected_orders["order_id"].drop_nulls().implode()))[ROW]
    order_ids = typed["order_id"].unique()
    missing_columns, form = compiled.missing_columns, compiled.form
    # Let go of the source texts the values were parsed from before the passed rows are
    # copied out: only the standard columns are alive at the peak.
    standard = typed.select(ROW, *_standard(typed))
    del typed, compiled
    passed = standard.filter(outcome.passed)
    del standard
    # Lines are hashed here, a table at a time, not in ``finish``: the casts the hashes need
    # stay the size of a piece.
    scopes = {mapping.channel: mapping.key_scope} if mapping.key_scope else {}
    hashes = hash_lines(passed.with_columns(pl.lit(mapping.channel).alias("channel")), scopes)
    return Checked(passed, hashes, reasons, rejected_orders, touched, order_ids,
                   missing_columns, form)


def _with_field_hashes(checked: Checked) -> pl.DataFrame:
    """The passed lines with their field hashes beside them: both are read back only when
    the lines are written (or, for the few updates, to name the changed fields)."""
    return checked.passed.hstack(checked.hashes.select(FIELD_HASHES).get_columns())


def _standard(typed: pl.DataFrame) -> list[str]:
    return [c for c in typed.columns if not c.startswith((RAW, "__"))]


def input_details(match: Match, table: RawTable, layout: dict[str, int],
                  missing_columns: tuple[str, ...],
                  form: dict[str, str | None]) -> dict[str, object]:
    """How the input was read, for the manifest."""
    details: dict[str, object] = {"header_row": table.header_row, "layout_rows": layout}
    if table.encoding:
        details["encoding"] = table.encoding
    if table.notes:
        details["notes"] = table.notes
    if match.sheet is not None:
        details["sheet"] = match.sheet
    if form:
        details["form"] = form
    if missing_columns:
        details["missing_columns"] = list(missing_columns)
    return details

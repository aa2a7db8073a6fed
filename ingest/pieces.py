"""Reading, for big text files: pieces that hold whole orders, so memory stays flat.

The table comes in pieces that hold whole orders, so memory does not grow with the file.

A document that can (``ChunkDocument``) gives the table in record-aligned pieces. Here
they are cut again so that no order is split between two pieces: the rows of the last order of a
piece (by the mapping's order column, rows with an empty one belonging to the order above,
as in carry-forward) wait for the next piece. Every step that looks at a whole order
(summary rows, per-order sums, the order-amount check) then sees all of it, provided an
order's lines stand together, as exports write them. ``spread_orders`` tells when they did
not; the caller then reads the file whole.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from queue import Full, Queue
from typing import TypeVar

import polars as pl

from ingest.mapping.detect import Match
from ingest.mapping.model import Mapping
from ingest.readers.base import (
    ChunkDocument,
    NotChunkable,
    RawTable,
    header_columns,
    normalise_name,
)

T = TypeVar("T")


def order_column(mapping: Mapping, header: list[str]) -> str:
    """The source column that groups an order's lines: the mapping's ``[orders] key``, else
    the one column ``order_id`` is read from. Raises NotChunkable when there is none."""
    rule = mapping.fields.get("order_id")
    name = mapping.order_key or (
        rule.columns[0] if rule and len(rule.columns) == 1 and not rule.cases
        and rule.form is None else None)
    columns = header_columns(header)
    actual = columns.get(normalise_name(name or ""))
    if actual is None:
        raise NotChunkable
    return actual


def order_tables(document: ChunkDocument, match: Match,
                 chunk_bytes: int) -> Iterator[RawTable]:
    """The document's table in pieces that hold whole orders (each is then shaped as a
    whole table is, ``ingest.mapping.orders.shape``). Layout counts are spread over the
    pieces: their sum is the file's."""
    mapping = match.mapping
    pieces = read_ahead(document.read_chunks(match.options, match.header_row, chunk_bytes))
    waiting: pl.DataFrame | None = None  # the rows of the last order seen, not yet given
    layout: dict[str, int] = {}  # counts of pieces given no rows yet
    key = ""
    last: RawTable | None = None
    for current in pieces:
        key = key or order_column(mapping, current.header)
        frame = current.frame if waiting is None else pl.concat([waiting, current.frame])
        ready, waiting = _last_order_apart(frame, key)
        for name, count in current.layout.items():
            layout[name] = layout.get(name, 0) + count
        if ready.height:
            yield replace(current, frame=ready, layout=layout)
            layout = {}
        last = current
    if last is not None:  # the file's last order, which no piece came after to complete
        rest = waiting if waiting is not None else last.frame.clear()
        yield replace(last, frame=rest, layout=layout)


def _last_order_apart(frame: pl.DataFrame, key: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows before the last order, and the last order's rows."""
    order = frame.select(
        pl.col(key).str.strip_chars().replace("", None).forward_fill()).to_series()
    last = order[-1] if len(order) else None
    if last is None:  # no order number yet: everything waits
        return frame.clear(), frame
    before = order.ne_missing(last).arg_true()
    cut = int(before[-1]) + 1 if len(before) else 0
    return frame.slice(0, cut), frame.slice(cut)


def spread_orders(order_ids: list[pl.Series]) -> bool:
    """Whether an order number appears in more than one piece (``order_ids[i]``: the
    typed order numbers of piece i, or hashes of them): an export whose order lines do not
    stand together."""
    if len(order_ids) < 2:
        return False
    pieces = pl.concat([pl.DataFrame({"order_id": ids.drop_nulls().unique(), "piece": i},
                                     schema={"order_id": ids.dtype, "piece": pl.Int32})
                        for i, ids in enumerate(order_ids)])
    return bool(pieces["order_id"].is_duplicated().any())


def read_ahead(pieces: Iterator[T], depth: int = 1) -> Iterator[T]:
    """The same items, produced in a background thread up to ``depth`` ahead: reading and
    parsing the next piece (file reads, decoding, polars) overlaps the work on this one."""
    done = object()
    queue: Queue[object] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in pieces:
                while not stop.is_set():
                    try:
                        queue.put(item, timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            queue.put(_Failure(exc))

    worker = threading.Thread(target=produce, name="ordermill-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = queue.get()
            if item is done:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


@dataclass(frozen=True)
class _Failure:
    exc: BaseException

"""Mapping, the fourth stage, before shaping: two-file exports joined into one table.

Tmall's seller centre exports an order file (订单报表, one row per order: buyer, address,
amounts, times) and an item file (宝贝报表, one row per item), joined by the order number.
Each half has a mapping with ``[pair]`` (its role, its partner's mapping, its key column).
A half is read whole and kept as read (``ReadHalf``); once both halves are there, the item
rows are joined with their order's row into one table (items × their order's columns), and
that table is shaped, mapped and checked by the items half's mapping like any other.

Partners are found by the order numbers they share (an item file and an order file of one
export hold the same orders), not by their names: the export's time in the names
(``ExportOrderList201903121048`` / ``ExportOrderDetailList201903121048``) is not always the
same in both (``ExportOrderDetailList2016092310161``), and a renamed file still pairs.

Every row of both files is accounted for: each item row is a line (clean, rejected or
duplicate; ``no-order-row`` when the order file lacks its order), each order row is joined
into its lines (``joined``) or rejected (``no-item-rows``); a half that waits longer than
``pair_wait_days`` for its partner is rejected whole (``partner-missing``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from ingest.columns import READER_CODE, READER_DETAIL, ROW
from ingest.errors import InputError
from ingest.inputs import Digest
from ingest.mapping.model import Mapping
from ingest.mapping.parsers import clean_text
from ingest.readers.base import RawTable, normalise_name
from ingest.reading import CheckedInput, ReadHalf, check_tables
from ingest.unpaired import Unpaired

KEY = "__pair_key"
ORDER_ROW = "__order_row"
ORDER_CODE = "__order_code"
ORDER_DETAIL = "__order_detail"


def stem(mapping: Mapping) -> str:
    """A mapping's name: its file's stem."""
    return Path(mapping.path).stem


@dataclass
class Half:
    """A half read, with its distinct order numbers; ``waiting``: its entry in the store
    when it arrived in an earlier run."""

    read: ReadHalf
    keys: pl.Series
    waiting: Unpaired | None = None
    key_column: str = field(default="")

    @classmethod
    def of(cls, read: ReadHalf, waiting: Unpaired | None = None) -> Half:
        column = key_column(read)
        keys = read.table.frame.select(clean_text(pl.col(column)).alias(KEY))[KEY]
        return cls(read, keys.drop_nulls().unique(), waiting, column)

    @property
    def mapping(self) -> Mapping:
        return self.read.match.mapping

    @property
    def role(self) -> str:
        assert self.mapping.pair is not None
        return self.mapping.pair.role

    @property
    def name(self) -> str:
        return self.read.input.name

    def partner_of(self, other: Half) -> bool:
        pair = self.mapping.pair
        return (pair is not None and pair.partner == stem(other.mapping)
                and other.role != self.role)

    def shared(self, other: Half) -> int:
        """How many order numbers the two halves share."""
        return int(self.keys.is_in(other.keys.implode()).sum())


def key_column(read: ReadHalf) -> str:
    pair = read.match.mapping.pair
    assert pair is not None
    columns = {normalise_name(name): name for name in read.table.header}
    found = columns.get(normalise_name(pair.key))
    if found is None:
        raise InputError(read.input.name, f"has no column {pair.key!r} to join its "
                         f"{pair.role} to its partner's ({pair.partner}) on")
    return found


def pair_up(halves: list[Half]) -> tuple[list[tuple[Half, Half]], list[Half]]:
    """Item halves with their order halves, by the order numbers they share (most shared
    first; each half in one pair at most); and the halves left without a partner."""
    candidates = sorted(
        ((items.shared(orders), i, o) for i, items in enumerate(halves) if items.role == "items"
         for o, orders in enumerate(halves) if items.partner_of(orders)),
        key=lambda c: -c[0])
    taken: set[int] = set()
    pairs = []
    for shared, i, o in candidates:
        if shared and i not in taken and o not in taken:
            taken.update((i, o))
            pairs.append((halves[i], halves[o]))
    return pairs, [h for n, h in enumerate(halves) if n not in taken]


def joined_inputs(items: Half, orders: Half, default_timezone: str) -> list[CheckedInput]:
    """The two halves as two checked inputs: the item file's rows as lines of the joined
    table (each with its order's columns), the order file's rows joined into them or, those
    no item row joins, rejected with ``no-item-rows``."""
    lines, unjoined, joined = join(items, orders)
    item_side = check_tables(items.read.input, items.read.match, _digest(items.read),
                             iter([lines]), default_timezone)
    item_side.details["pair"] = {"role": "items", "partner": orders.name,
                                 "partner_sha256": orders.read.sha256}
    order_side = _checked_apart(orders, items.mapping, unjoined, default_timezone)
    order_side = replace(order_side, rows_in=order_side.rows_in + joined, joined=joined)
    order_side.details["pair"] = {"role": "orders", "partner": items.name,
                                  "partner_sha256": items.read.sha256}
    return [item_side, order_side]


def rejected_whole(half: Half, items_mapping: Mapping, reason: str,
                   default_timezone: str) -> CheckedInput:
    """A half that waited too long: every row rejected with ``partner-missing``."""
    frame = half.read.table.frame.with_columns(
        pl.lit("partner-missing").alias(READER_CODE), pl.lit(reason).alias(READER_DETAIL))
    checked = _checked_apart(half, items_mapping, replace(half.read.table, frame=frame),
                             default_timezone)
    checked.details["pair"] = {"role": half.role, "partner": None}
    return checked


def _checked_apart(half: Half, items_mapping: Mapping, table: RawTable,
                   default_timezone: str) -> CheckedInput:
    """Rows of a half that are not lines (each carries its reason as a reader code) through
    the same loop, with the items mapping: rejected, and accounted for like any row."""
    match = replace(half.read.match, mapping=items_mapping)
    checked = check_tables(half.read.input, match, _digest(half.read), iter([table]),
                           default_timezone)
    checked.details.pop("missing_columns", None)  # (the item file's columns: not its own)
    return checked


def _digest(read: ReadHalf) -> Callable[[], Digest]:
    return lambda: (read.sha256, read.size)


def join(items: Half, orders: Half) -> tuple[RawTable, RawTable, int]:
    """The item rows each with its order's columns (an order column the item file also has
    is named ``<name> (<order mapping>)``); the order rows no item row joins, each with its
    reason; how many order rows were joined. Whole columns: one left join."""
    item_table, order_table = items.read.table, orders.read.table
    own = {normalise_name(name) for name in item_table.header}
    label = stem(orders.mapping)
    renamed = {name: f"{name} ({label})" if normalise_name(name) in own else name
               for name in order_table.header if name != orders.key_column}
    order_frame = order_table.frame.with_columns(
        clean_text(pl.col(orders.key_column)).alias(KEY))
    first = pl.col(KEY).is_not_null() & pl.col(KEY).is_first_distinct()
    right = order_frame.filter(first).select(
        KEY, pl.col(ROW).alias(ORDER_ROW), pl.col(READER_CODE).alias(ORDER_CODE),
        pl.col(READER_DETAIL).alias(ORDER_DETAIL),
        *[pl.col(old).alias(new) for old, new in renamed.items()])
    left = item_table.frame.with_columns(clean_text(pl.col(items.key_column)).alias(KEY))
    joined = left.join(right, on=KEY, how="left", maintain_order="left")
    code, detail = _join_reason(items, orders)
    lines = joined.with_columns(code.alias(READER_CODE), detail.alias(READER_DETAIL))
    used = lines[ORDER_ROW].drop_nulls().unique()
    lines = lines.drop(KEY, ORDER_ROW, ORDER_CODE, ORDER_DETAIL)
    header = [*item_table.header, *renamed.values()]
    table = replace(item_table, header=header, frame=lines.select(
        ROW, *header, READER_CODE, READER_DETAIL))
    unjoined = order_frame.filter(~pl.col(ROW).is_in(used.implode())).with_columns(
        pl.when(pl.col(READER_CODE).is_null()).then(pl.lit("no-item-rows"))
        .otherwise(pl.col(READER_CODE)).alias(READER_CODE),
        pl.when(pl.col(READER_CODE).is_null()).then(_orphan_reason(items, orders))
        .otherwise(pl.col(READER_DETAIL)).alias(READER_DETAIL),
    ).drop(KEY)
    return table, replace(order_table, frame=unjoined), used.len()


def _join_reason(items: Half, orders: Half) -> tuple[pl.Expr, pl.Expr]:
    """Each joined item row's reader code and detail: its own damage first, then no order
    to join (``no-order-row``), then its order row's damage."""
    name = Path(orders.name).name
    column = items.key_column
    own = pl.col(READER_CODE).is_not_null()
    no_key = pl.col(KEY).is_null()
    no_order = pl.col(ORDER_ROW).is_null()
    damaged = pl.col(ORDER_CODE).is_not_null()
    code = (pl.when(own).then(pl.col(READER_CODE))
            .when(no_key | no_order).then(pl.lit("no-order-row"))
            .when(damaged).then(pl.col(ORDER_CODE)))
    detail = (
        pl.when(own).then(pl.col(READER_DETAIL))
        .when(no_key).then(pl.lit(f"the item row has no order number in column {column}, "
                                  f"so it cannot be joined to its order in {name}"))
        .when(no_order).then(pl.format(
            f"order {{}} (column {column}) is in no row of the order file {name}: the item "
            "has no buyer, address, amounts or times", pl.col(KEY)))
        .when(damaged).then(pl.format(f"its order's row {{}} of {name}: {{}}",
                                      pl.col(ORDER_ROW), pl.col(ORDER_DETAIL).fill_null(""))))
    return code, detail


def _orphan_reason(items: Half, orders: Half) -> pl.Expr:
    name = Path(items.name).name
    column = orders.key_column
    first_row = pl.col(ROW).first().over(KEY)
    return (
        pl.when(pl.col(KEY).is_null()).then(pl.lit(
            f"the order row has no order number in column {column}, so no item row of "
            f"{name} can join it"))
        .when(first_row != pl.col(ROW)).then(pl.format(
            "order {} is also on row {} of this file, to which its items were joined",
            pl.col(KEY), first_row))
        .otherwise(pl.format(f"no item row of {name} holds order {{}}: an order without "
                             "lines", pl.col(KEY))))


def waited_too_long(waiting: Unpaired, wait_days: float, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    return (now - waiting.arrived).total_seconds() > wait_days * 86400


def expiry_reason(half: Half, wait_days: float) -> str:
    """Why a half that waited too long is rejected, in words a person acts on."""
    assert half.waiting is not None and half.mapping.pair is not None
    partner = half.mapping.pair.partner
    what = "item file" if half.role == "orders" else "order file"
    return (f"{Path(half.name).name} (the {half.role} half of a two-file export, mapping "
            f"{stem(half.mapping)}) waited since {half.waiting.arrived_at} for its {what} "
            f"(mapping {partner}), "
            f"and none sharing its order numbers arrived within pair_wait_days = "
            f"{wait_days:g}; put both files of the export back in together to ingest them")


__all__ = ["Half", "expiry_reason", "joined_inputs", "pair_up", "rejected_whole", "stem",
           "waited_too_long"]

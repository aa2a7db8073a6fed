"""Mapping, the fourth stage: order shapes that need the whole order before mapping.

- ``[orders] carry_forward = [...]``: order-level columns filled on an order's first line
  only reach its other lines (``carry_forward``), decided here once for both shapes below:
  with summary rows they are copied into the table (the summary row is about to leave it);
  otherwise compile copies them in its lazy plan (``ShapedTable.carried``), so the table as
  read, kept for the rejects report, still shows what each row itself said.
- ``[orders] summary_when_empty = "Item Number"``: eBay writes a multi-item order as one
  summary row (buyer, address, shipping, total; no item) followed by one row per item. The
  summary row's ``carry_forward`` columns are copied to the item rows, then the summary row
  leaves the table and is counted under ``layout_rows`` as ``order_summary``: it is not an
  order line, and counting it keeps every input row accounted for. An order whose only row
  lacks the item stays: it is a line without a product, and is rejected as one.
- ``[orders] sum = ["shipping-price"]``: Amazon states shipping per item; the order's
  shipping is their sum, exact in Decimal. The column then holds that sum on every line, so
  it maps to an order-level field. If any line's value is not money, the order keeps its
  own values and the bad line is rejected with ``invalid-money``.

- ``[orders] packed_items = { columns = "line_item_*", ... }``: WebToffee writes one row per
  order with each item packed into a cell of its own (``name:…|product_id:…|sku:…``). Each
  non-empty cell becomes a line (``unpack``): the row's other columns, the packed columns
  empty but its own cell, and the cell's pairs as ``<prefix>.<key>`` columns. A line's
  identity is ``__row * PACKED_LINES + n``, n the cell's place among the packed columns
  (``ingest.columns.source_row`` gives the row back for output). A row with no item cell,
  or one the reader found damaged, stays one line (rejected as such, never dropped); a cell
  that does not split unambiguously rejects its line with ``ambiguous-packed-item``. The
  rows unpacked are counted under ``layout_rows`` as ``packed_rows``; ``rows_in`` counts
  their lines.

All run as polars expressions over whole columns, before ``compile_mapping``, which takes
the ``ShapedTable`` they give.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase

import polars as pl

from ingest.columns import PACKED_LINES, READER_CODE, READER_DETAIL, ROW
from ingest.mapping.form import formula_gap_messages
from ingest.mapping.model import Mapping, PackedItems
from ingest.mapping.parsers import clean_text, parse_money
from ingest.readers.base import RawTable, header_columns, normalise_name

SUMMARY = "order_summary"
SUM = "__order_sum_"
PACKED = "packed_rows"
AMBIGUOUS = "ambiguous-packed-item"


@dataclass(frozen=True)
class ShapedTable:
    """A raw table as the mapping sees it: its orders shaped, ready for ``compile_mapping``."""

    table: RawTable
    # Source column -> the internal column the mapping reads in its place (an order's summed
    # amount), so the rejects report still shows what the row itself said.
    substitutes: dict[str, str] = field(default_factory=dict)
    # Order-level values copied to the order's other lines, as expressions compile adds to
    # its lazy plan (``carry_forward``); empty when the table holds them already.
    carried: list[pl.Expr] = field(default_factory=list)


def shape(table: RawTable, mapping: Mapping) -> ShapedTable:
    """The table shaped for mapping: its orders (``shape_orders``), then the formula cells
    saved without a value kept only where the mapping reads them (``formula_gap_messages``:
    after the order shapes, which look at the reader's codes as it gave them)."""
    shaped = shape_orders(table, mapping)
    return replace(shaped, table=formula_gap_messages(shaped.table, mapping))


def shape_orders(table: RawTable, mapping: Mapping) -> ShapedTable:
    if mapping.packed_items is not None:
        table = unpack(table, mapping.packed_items, mapping.used_columns)
    columns = header_columns(table.header)
    key = columns.get(normalise_name(mapping.order_key or ""))
    if key is None:
        return ShapedTable(table)
    frame, layout = table.frame, dict(table.layout)
    summary = columns.get(normalise_name(mapping.summary_when_empty or ""))
    if summary is not None:
        # The summary row's values reach its lines before it leaves the table.
        frame = frame.with_columns(carry_forward(mapping, columns))
        frame, dropped = _fold_summaries(frame, key, summary)
        layout[SUMMARY] = dropped
    sums = [columns[normalise_name(c)] for c in mapping.order_sums
            if normalise_name(c) in columns]
    substitutes = {c: SUM + c for c in sums}
    if sums:
        frame = frame.with_columns([_order_sum(pl.col(c), pl.col(key)).alias(SUM + c)
                                    for c in sums])
    # Without summary rows, values are carried where compile reads them (a summed column's
    # order total in its place): carrying again what was carried would change nothing.
    carried = [] if summary is not None else carry_forward(
        mapping, {normalised: substitutes.get(name, name) for normalised, name in columns.items()})
    return ShapedTable(replace(table, frame=frame, layout=layout), substitutes, carried)


def carry_forward(mapping: Mapping, columns: dict[str, str]) -> list[pl.Expr]:
    """Multi-line orders: order-level columns are filled on an order's first line only;
    copy them to its other lines (never over a value a line has itself). ``columns``:
    normalised source column name -> the column holding its values."""
    key = columns.get(normalise_name(mapping.order_key or ""))
    if key is None:
        return []
    exprs = []
    for name in mapping.carry_forward:
        actual = columns.get(normalise_name(name))
        if actual and actual != key:
            value = pl.when(pl.col(actual).str.strip_chars() != "").then(pl.col(actual))
            exprs.append(value.forward_fill().over(pl.col(key)).alias(actual))
    return exprs


def _fold_summaries(frame: pl.DataFrame, key: str, summary: str) -> tuple[pl.DataFrame, int]:
    has_item = pl.col(summary).str.strip_chars().fill_null("") != ""
    order = pl.col(key).str.strip_chars().fill_null("")
    # Only an order's first row can be its summary: a later row without an item is a line
    # that lost its item number, and is rejected as such, never folded away.
    first = pl.int_range(pl.len()).over(order) == 0
    is_summary = (~has_item & (order != "") & pl.col(READER_CODE).is_null() & first
                  & has_item.any().over(order))
    marked = frame.with_columns(is_summary.alias("__summary"))
    dropped = int(marked["__summary"].sum())
    return marked.filter(~pl.col("__summary")).drop("__summary"), dropped


def _order_sum(column: pl.Expr, key: pl.Expr) -> pl.Expr:
    # A row the reader found damaged (shifted cells) adds nothing to its order's sum.
    text = pl.when(pl.col(READER_CODE).is_null()).then(clean_text(column))
    money = parse_money(text)
    bad = (text.is_not_null() & money.is_null()).any().over(key)
    total = money.sum().over(key).cast(pl.String)
    return pl.when(~bad & money.is_not_null().any().over(key)).then(total).otherwise(column)


def unpack(table: RawTable, packed: PackedItems, used: set[str]) -> RawTable:
    """One line per non-empty packed cell (see the module's docstring). ``used``: the
    columns the mapping reads, so ``<prefix>.<key>`` columns it names are made too."""
    prefix = packed.prefix + "."
    pattern = normalise_name(packed.columns)
    cells = [name for name in table.header if fnmatchcase(normalise_name(name), pattern)]
    wanted = list(dict.fromkeys([*packed.keys, *(
        name[len(prefix):] for name in sorted(used) if name.startswith(prefix))]))
    made = [prefix + key for key in wanted if key != "column"] + [prefix + "column"]
    # Columns of those names in the file (our own rejects report fed back in) are replaced.
    replaced = {normalise_name(name) for name in made}
    header = [h for h in table.header if normalise_name(h) not in replaced]
    frame = table.frame.drop([h for h in table.header if h not in header])
    position = {name: n for n, name in enumerate(cells, start=1)}
    sound = frame.filter(pl.col(READER_CODE).is_null())
    cell, column = "__cell", "__column"
    long = (
        sound.select(ROW, *cells)
        .unpivot(index=ROW, on=cells, variable_name=column, value_name=cell)
        .filter(pl.col(cell).str.strip_chars().fill_null("") != "")
        .with_columns(pl.col(column).replace_strict(position, return_dtype=pl.Int64)
                      .alias("__n"))
        .sort(ROW, "__n")
        .with_row_index("__line")
    )
    pairs = (
        long.select("__line", pl.col(cell).str.split(packed.separator).alias("__part"))
        .explode("__part")
        .with_columns(pl.int_range(pl.len()).over("__line").alias("__k"),
                      pl.col("__part").str.splitn(packed.pair, 2).alias("__kv"))
        .with_columns(pl.col("__kv").struct.field("field_0").alias("__key"),
                      pl.col("__kv").struct.field("field_1").alias("__value"))
    )
    key = pl.col("__key")
    # Every part a key and a value; the leading keys those the mapping names, in order;
    # no key twice. A '|' or ':' inside a value breaks one of these (it is not escaped).
    broken = pl.col("__value").is_null() | (key.str.strip_chars() == "")
    for k, name in enumerate(packed.keys):
        broken = broken | ((pl.col("__k") == k) & (key != name))
    broken = broken | key.is_duplicated().over("__line")
    verdict = pairs.group_by("__line").agg(
        (broken.any() | (pl.len() < len(packed.keys))).alias("__broken"),
        *[pl.col("__value").filter(key == name).first().alias(prefix + name)
          for name in wanted if name != "column"])
    leading = f" beginning {', '.join(packed.keys)}" if packed.keys else ""
    detail = pl.format(
        "{}: {} does not split into key{}value pairs separated by '{}'{}, each key once "
        "(a '{}' or '{}' inside a value, which the export does not escape)", pl.col(column),
        pl.col(cell).str.slice(0, 120), pl.lit(packed.pair), pl.lit(packed.separator),
        pl.lit(leading), pl.lit(packed.separator), pl.lit(packed.pair))
    lines = (
        long.join(verdict, on="__line", how="left")
        .join(frame.drop(*cells, READER_CODE, READER_DETAIL), on=ROW, how="left")
        .with_columns(
            *[pl.when(pl.col(column) == name).then(pl.col(cell)).otherwise(pl.lit(None))
              .cast(pl.String).alias(name) for name in cells],
            pl.col(column).alias(prefix + "column"),
            pl.when(pl.col("__broken")).then(pl.lit(AMBIGUOUS)).alias(READER_CODE),
            pl.when(pl.col("__broken")).then(detail).alias(READER_DETAIL),
            (pl.col(ROW) * PACKED_LINES + pl.col("__n")).alias(ROW),
        )
    )
    # A row without an item cell, or damaged (its cells may be shifted), stays one line.
    alone = frame.join(long.select(ROW).unique(), on=ROW, how="anti").with_columns(
        *[pl.lit(None, pl.String).alias(name) for name in made],
        (pl.col(ROW) * PACKED_LINES).alias(ROW))
    order = [ROW, *header, *made, READER_CODE, READER_DETAIL]
    extra = [c for c in frame.columns if c not in order]
    unpacked = pl.concat([lines.select(*order, *extra), alone.select(*order, *extra)],
                         how="vertical_relaxed").sort(ROW)
    layout = dict(table.layout)
    layout[PACKED] = layout.get(PACKED, 0) + frame.height
    return replace(table, header=[*header, *made], frame=unpacked, layout=layout)



"""Mapping, the fourth stage: what a mapping file says, as plain frozen data.

Loading and checking is in ``loader``; turning it into polars expressions is in ``compile``.
How its files are read (``ReaderOptions``) belongs to the readers, and is only named here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from ingest.readers.options import ReaderOptions


@dataclass(frozen=True)
class Case:
    """One branch of a field built from several columns, tried in order (first hit wins):
    ``present``: this value when the column is not empty; ``map``: the column's value
    looked up in a table (unlisted values fall through to the next case)."""

    column: str
    present: str | None = None
    map: dict[str, str] | None = None


@dataclass(frozen=True)
class FormLabel:
    """A PO-level value in the form area around a spreadsheet's table, found by the cell
    that labels it: ``labels`` match a cell's whole text (trimmed, case-folded, a trailing
    colon ignored), ``pattern`` is a regex searched in it instead. The value is the text
    after the label in the same cell (``PO#: 4500012345``; with a pattern, its first group),
    else the first non-empty cell to the ``take`` side: ``right`` or ``below``."""

    labels: tuple[str, ...] = ()
    pattern: str | None = None
    take: str = "right"

    @property
    def shown(self) -> str:
        return " / ".join(self.labels) if self.labels else f"/{self.pattern}/"


@dataclass(frozen=True)
class FieldRule:
    """How one standard field is filled from the source columns."""

    field: str
    columns: tuple[str, ...] = ()
    combine: str = "first"  # "first": first non-empty column; "join": join the non-empty ones
    separator: str = " "
    extract: str | None = None  # regex; its first group is the value
    split: str | None = None  # split the text on this separator and take ``part``
    part: int | str = 0  # with split: 0-based part, or "N:" for part N and all after it
    remove: str | None = None  # regex whose matches are removed from the value
    formats: tuple[str, ...] = ()  # date/datetime formats, tried in order
    timezone: str | None = None
    cases: tuple[Case, ...] = ()
    per: str | None = None  # money: divided by this integer field (item-price / quantity)
    times: str | None = None  # money: multiplied by this integer field (unit price × quantity)
    minus: str | None = None  # money: less this money field (subtotal - total = discount)
    # An order-level amount: less the sum of this line field over the order's lines (Shopify's
    # Discount Amount holds the line discounts too: the order's own discount is the rest).
    minus_lines: str | None = None
    form: FormLabel | None = None  # a value of the form area instead of a column

    @property
    def source_columns(self) -> tuple[str, ...]:
        """Every source column the rule reads, once each, in order."""
        return tuple(dict.fromkeys(self.columns + tuple(case.column for case in self.cases)))

    @property
    def label(self) -> str:
        """How a message names the source of this field."""
        if self.form is not None:
            return f"(form label {self.form.shown})"
        cols = self.source_columns
        shown = " + ".join(cols) if cols else "(none)"
        if self.times:  # a product: the message shows the value read and what it became
            shown += f" (× {self.times}" + (f" − {self.minus})" if self.minus else ")")
        return f"{shown} less Σ {self.minus_lines}" if self.minus_lines else shown


@dataclass(frozen=True)
class ParseOptions:
    timezone: str | None = None  # zone of timestamps without an offset (None: the default)
    phone_region: str | None = None  # region of phone numbers without a country code
    datetime_formats: tuple[str, ...] = ()
    date_formats: tuple[str, ...] = ()
    # National phone numbers are read in the region of the row's ship_country when ordermill
    # knows it (marketplaces that ship abroad), else in phone_region.
    phone_region_from_country: bool = True


@dataclass(frozen=True)
class Waiting:
    """``[waiting]``: rows not complete yet (an Amazon Pending order has no price): an order
    with a row whose ``column`` holds one of ``equals`` is counted as waiting, with
    ``code``, and taken from the later export that carries it complete. ``always``: every
    row waits (a layout that carries no prices at all: Amazon's Unshipped orders report)."""

    column: str | None
    equals: tuple[str, ...]
    code: str = "not-yet-priced"
    always: bool = False


@dataclass(frozen=True)
class Checks:
    """``[checks]``: ``errors``, warning codes this channel treats as errors (the line is
    rejected instead); ``prices_include_tax``: whether the order total holds tax_amount
    already (True), adds it (False) or either (None: the export does not say)."""

    errors: frozenset[str] = frozenset()
    prices_include_tax: bool | None = None
    # The buyer's product list (a path, resolved against the mapping's folder): OCR'd SKUs
    # are snapped to it and checked against it (``ingest.ocr_checks``).
    products: str | None = None


@dataclass(frozen=True)
class Pair:
    """``[pair]``: the mapping reads one half of a two-file export (Tmall's 订单报表 and
    宝贝报表). ``role``: "orders" (one row per order) or "items" (one row per item; its
    ``[fields]`` map the joined table, items × their order's columns); ``partner``: the other
    half's mapping, by file stem; ``key``: this file's column holding the order number the
    halves are joined on."""

    role: str
    partner: str
    key: str


@dataclass(frozen=True)
class PackedItems:
    """``[orders] packed_items``: one row per order, each item packed into a cell of its own
    (WebToffee's ``line_item_1``, ``line_item_2``, ... as ``name:…|product_id:…|sku:…``).
    ``columns``: a glob over the header's names; ``separator`` between the pairs, ``pair``
    between a key and its value (the first one); ``keys``: the keys every cell begins with,
    in this order (a cell that does not, or repeats a key, cannot be split unambiguously:
    its line is rejected, ``ambiguous-packed-item``). Each non-empty cell is one line whose
    values are the columns ``<prefix>.<key>`` (``prefix``: the glob before its ``*``, such
    as ``line_item``), and ``<prefix>.column``, the name of the cell's column."""

    columns: str
    separator: str = "|"
    pair: str = ":"
    keys: tuple[str, ...] = ()

    @property
    def prefix(self) -> str:
        return self.columns.split("*", 1)[0].rstrip("_-. ") or "item"


@dataclass(frozen=True)
class Mapping:
    channel: str
    path: str
    description: str
    header_contains: tuple[str, ...]
    reader: ReaderOptions
    parse: ParseOptions
    fields: dict[str, FieldRule]
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    order_key: str | None = None  # source column grouping the lines of one order
    key_scope: str | None = None  # channels sharing a scope share order numbers (dedupe)
    carry_forward: tuple[str, ...] = ()  # order-level columns filled on the first line only
    # A row of a multi-line order whose this column is empty is the order's summary row (eBay):
    # its carry_forward columns reach the lines, the row itself is layout, not a line.
    summary_when_empty: str | None = None
    order_sums: tuple[str, ...] = ()  # per-line amounts summed into an order-level one
    packed_items: PackedItems | None = None  # items packed into cells of an order's row
    detect_by: str = "header"  # how its inputs are recognised: a key of detect.DETECTORS
    checks: Checks = field(default_factory=Checks)
    waiting: Waiting | None = None
    # A channel may have several mappings, one per export layout (Amazon's All Orders and
    # Order report): ``layout`` names this one ("default" when the file says none), and
    # ``name``, the mapping's identity, is its file's stem (``amazon-order-report``).
    layout: str = "default"
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", PurePath(self.path).stem or self.channel)

    @property
    def shown(self) -> str:
        """How messages name the mapping: its channel, and its layout when there are
        several (``amazon (layout order-report, mappings/amazon-order-report.toml)``)."""
        return self.channel if self.layout == "default" else f"{self.channel}/{self.layout}"
    pair: Pair | None = None  # one half of a two-file export (``ingest.pairs``)
    # The run's order rules (``ingest.rules.apply.RuleRun``), set per run, not by the file:
    # the lines of this mapping's tables are checked with them after the row checks.
    rules: Any = None

    @property
    def used_columns(self) -> set[str]:
        cols = {c for rule in self.fields.values() for c in rule.source_columns}
        cols.update(self.carry_forward)
        cols.update(self.order_sums)
        if self.summary_when_empty:
            cols.add(self.summary_when_empty)
        if self.order_key:
            cols.add(self.order_key)
        if self.waiting and self.waiting.column:
            cols.add(self.waiting.column)
        if self.pair:
            cols.add(self.pair.key)
        return cols

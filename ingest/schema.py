"""The standard order schema, what every stage after mapping knows: one row per order line.

``FIELDS`` is the schema of record, one definition per field in output order: its name,
polars dtype, whether it may be empty, how a mapping's text is parsed into it (its kind and
the reject code when that fails), whether it is an order-level amount or one ordermill
derives, and its documentation; the other tables of fields (kinds, derived fields, order
amounts, docs/schema.md) are views of it. ``ingest.validate`` makes it a pandera schema
(polars backend) that validates every clean frame before it is written; the value rules
(status vocabulary, E.164, totals...) live once in ``ingest.checks``, used twice: by the
fast row-level rejection pass and by pandera. A plain table here, not a pandera model, so
that reading and mapping do not wait for pandera to load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

# 2: change_type and changed_fields; 3: order_discount_amount, shipping_amount;
# 4: tax_amount, order_total; 5: corrected_from; 6: warehouse, priority, flags, merge_group
# (order rules)
SCHEMA_VERSION = 6

MONEY = pl.Decimal(18, 2)
INSTANT = pl.Datetime("us", "UTC")
TEXT = pl.String()

CHANGE_TYPES = ("new", "update")
ORDER_STATUSES = ("pending_payment", "paid", "shipped", "completed", "cancelled", "refunded")


FieldKind = Literal["text", "money", "integer", "instant", "date", "phone", "email", "country",
                   "currency", "status"]
"""How a mapping's source text becomes the field's value (``mapping.parsers.parser_for``)."""

# The code of a non-empty value of each kind that does not parse (text always does): a reject
# code, or for contact fields (phones, e-mails) a warning code: the line goes through with
# the field empty.
KIND_PARSE_CODES: dict[FieldKind, str] = {
    "money": "invalid-money",
    "integer": "invalid-quantity",
    "instant": "invalid-date",
    "date": "invalid-date",
    "phone": "invalid-phone",
    "email": "invalid-email",
    "country": "invalid-country",
    "currency": "invalid-currency",
    "status": "unknown-status",
}


@dataclass(frozen=True)
class Field:
    """A field of the order line, defined once: optional text unless said otherwise."""

    name: str
    dtype: pl.DataType = TEXT
    required: bool = False  # never empty in a clean line
    isin: tuple[str, ...] | None = None  # the only values it may take
    kind: FieldKind = "text"
    # The reject code when a value does not parse; None: the kind's (``KIND_PARSE_CODES``).
    parse_code: str | None = None
    # An order's amount carried on each of its lines: every line must say the same.
    order_level: bool = False
    # Filled by ordermill when a mapping leaves it out (``mapping.compile``): line_no counts
    # the lines of an order, discount_amount is 0, line_total is computed.
    derived: bool = False
    doc: str = ""  # its row of docs/schema.md

    def __post_init__(self) -> None:
        if self.parse_code is None:
            object.__setattr__(self, "parse_code", KIND_PARSE_CODES.get(self.kind))


FIELDS: tuple[Field, ...] = (
    # lineage
    Field("batch_id", required=True,
          doc="Identifier of the batch this line was published in (UTC timestamp + short hash)."),
    Field("channel", required=True,
          doc="Name of the mapping that read the line, e.g. `tmall`, `shopify`."),
    Field("source", required=True,
          doc="Path of the input file the line came from, as given on the command line."),
    Field("source_row", pl.Int64(), required=True,
          doc="Row number a person sees when opening the source in a spreadsheet "
          "(the header row and any rows above it count; the first data row under a row-1 header "
          "is 2)."),
    Field("corrected_from",
          doc="Set when the line was fixed in a rejects file and fed back in: the batch and "
          "file it was corrected in (`20261122T043000Z-3fa9c1/rejects.xlsx`); `source` and "
          "`source_row` still name the original input and row. Empty otherwise."),
    # order
    Field("order_id", required=True,
          doc="The channel's order number, always a string (leading zeros and 19-digit "
          "numbers are kept exactly)."),
    Field("line_no", pl.Int64(), required=True, kind="integer", parse_code="invalid-line-no",
          derived=True, doc="Position of the line within its order, starting at 1."),
    Field("ordered_at", INSTANT, required=True, kind="instant",
          doc="When the order was placed, UTC."),
    Field("paid_at", INSTANT, kind="instant", doc="When the order was paid, UTC; empty if unpaid."),
    Field("order_status", required=True, kind="status",
          doc="One of " + ", ".join(ORDER_STATUSES) + "."),
    Field("currency", required=True, kind="currency",
          doc="ISO 4217 code of every amount on the line."),
    # buyer
    Field("buyer_id", doc="The buyer's account on the channel (nickname, customer id)."),
    Field("buyer_name", doc="The buyer's name."),
    Field("buyer_phone", kind="phone", doc="The buyer's phone number, E.164 (`+8613812345678`)."),
    Field("buyer_email", kind="email", doc="The buyer's e-mail address."),
    # ship-to
    Field("ship_name", doc="Recipient's name."),
    Field("ship_phone", kind="phone", doc="Recipient's phone number, E.164."),
    Field("ship_country", kind="country", doc="Destination country, ISO 3166-1 alpha-2."),
    Field("ship_province", doc="Province, state or region."),
    Field("ship_city", doc="City."),
    Field("ship_district", doc="District or county."),
    Field("ship_address", doc="Street address lines."),
    Field("ship_postcode", doc="Postal code, as a string."),
    # line
    Field("sku", doc="The seller's stock-keeping unit (商家编码)."),
    Field("product_name", doc="The product's title."),
    Field("variant", doc="Variant or SKU properties (colour, size)."),
    Field("quantity", pl.Int64(), required=True, kind="integer",
          doc="Units ordered, a whole number above 0."),
    Field("unit_price", MONEY, required=True, kind="money",
          doc="Price of one unit, Decimal with 2 places."),
    Field("discount_amount", MONEY, required=True, kind="money", derived=True,
          doc="Discount on the whole line, Decimal with 2 places; 0 when none."),
    Field("line_total", MONEY, required=True, kind="money", derived=True,
          doc="quantity × unit_price − discount_amount, to the cent."),
    # order-level amounts, carried (never allocated to lines): the same on every line
    Field("order_discount_amount", MONEY, kind="money", order_level=True,
          doc="Order-level discount or coupon not already in the lines' "
          "discount_amount, Decimal with 2 places; the same on every line of the order (an "
          "order-level amount: add it once per order, not once per line). Carried, not allocated "
          "to lines: allocating would invent per-line figures the platform never stated and leave "
          "rounding cents on arbitrary lines, and ERPs import order discounts as header charges."),
    Field("shipping_amount", MONEY, kind="money", order_level=True,
          doc="Shipping charged to the buyer for the whole order, Decimal with 2 "
          "places; the same on every line of the order (add it once per order). Carried, not "
          "allocated, for the same reasons as order_discount_amount."),
    Field("tax_amount", MONEY, kind="money", order_level=True,
          doc="Tax the export states for the whole order (Shopify Taxes, WooCommerce "
          "tax_total), Decimal with 2 places; the same on every line of the order (add it once "
          "per order). Added to the order's total where prices exclude tax; where they include "
          "it (VAT), it is the share of the total that is tax."),
    Field("order_total", MONEY, kind="money", order_level=True,
          doc="The order's total as the export states it (Shopify Total, WooCommerce "
          "order_total), Decimal with 2 places; the same on every line of the order. Checked: it "
          "must equal Σ line_total − order_discount_amount + shipping_amount (+ tax_amount "
          "where prices exclude tax), else every line of the order is rejected "
          "(`order-total-mismatch`). Empty where the export states no total."),
    # more
    Field("requested_delivery_date", pl.Date(), kind="date",
          doc="Date the buyer asked for delivery."),
    Field("buyer_message", doc="The buyer's note to the seller (买家留言); may span lines."),
    Field("promotion_id", doc="Promotion, coupon, gift or bundle code that applied to the line."),
    Field("hs_code", doc="Harmonized System customs code."),
    Field("country_of_origin", kind="country",
          doc="Country the goods were made in, ISO 3166-1 alpha-2."),
    # order rules (``ingest.rules``): routing, tags and merges; empty when no rules are set
    Field("warehouse", doc="The warehouse the line ships from, as a `set` rule routed it "
          "(by province, channel or SKU); empty when no rule set it."),
    Field("priority", doc="The line's priority, as a `set` rule gave it; empty when no rule "
          "set it."),
    Field("flags", doc="Tags the `flag` rules put on the line (`urgent;bom-check`), "
          "`;`-separated in rule order; empty when none hit."),
    Field("merge_group", doc="With merges on (`[merge]`), the order this line's order is "
          "merged with, as `channel:order_id` of the group's first order (its own when it "
          "stands alone); the same on every line of the orders merged, also across runs. "
          "Empty when merges are off."),
    # change: what this line is to the ERP
    Field("change_type", required=True, isin=CHANGE_TYPES,
          doc="`new`: the first time ordermill outputs this line (same channel, order_id "
          "and line_no); `update`: output before with other content (status shipped, address "
          "corrected...). Lines output before with the same content are not output again."),
    Field("changed_fields", doc="For updates, the fields that changed, `;`-separated."),
)

LINEAGE_FIELDS = ("batch_id", "channel", "source", "source_row", "corrected_from")
# Filled by the order rules, never by a mapping, and not part of a line's content: a rule
# that routes differently tomorrow does not make yesterday's lines updates.
RULE_FIELDS = ("warehouse", "priority", "flags", "merge_group")
CHANGE_FIELDS = ("change_type", "changed_fields")
_BY_NAME = {f.name: f for f in FIELDS}


def field_kind(name: str) -> FieldKind:
    """The field's kind; "text" for a name the schema does not have too (a mapping that
    names one is refused by the loader, with the nearest name)."""
    field = _BY_NAME.get(name)
    return field.kind if field is not None else "text"


def parse_code(name: str) -> str | None:
    """The reject code for a non-empty value of ``name`` that does not parse."""
    field = _BY_NAME.get(name)
    return field.parse_code if field is not None else None


def derived_fields() -> tuple[str, ...]:
    """Fields ordermill fills when a mapping leaves them out."""
    return tuple(f.name for f in FIELDS if f.derived)


def order_amounts() -> tuple[str, ...]:
    """The order-level amounts: the same on every line of an order."""
    return tuple(f.name for f in FIELDS if f.order_level)


def polars_schema() -> dict[str, pl.DataType]:
    """Column name -> polars dtype, in output order."""
    return {f.name: f.dtype for f in FIELDS}


def field_names() -> list[str]:
    """The fields of an order line: lineage, order, buyer, ship-to, line, more."""
    return [f.name for f in FIELDS if f.name not in CHANGE_FIELDS]


def output_columns() -> list[str]:
    """What orders.* holds: the order line's fields, then what the line is to the ERP."""
    return [f.name for f in FIELDS]


def required_fields() -> list[str]:
    """Fields a mapped row must carry (the model's non-nullable fields, lineage aside).
    Ship-to is optional: pickup and digital orders are orders."""
    return [f.name for f in FIELDS
            if f.required and f.name not in LINEAGE_FIELDS + CHANGE_FIELDS]


def mappable_fields() -> list[str]:
    """Fields a mapping may fill: every field except the lineage that ordermill adds."""
    return [name for name in field_names() if name not in LINEAGE_FIELDS + RULE_FIELDS]


def schema_markdown() -> str:
    """docs/schema.md: every field of the standard schema with its type and meaning."""
    lines = [
        f"# The standard order schema, version {SCHEMA_VERSION}",
        "",
        "One row per order line. Generated from `ingest/schema.py` "
        "(`python -c 'from ingest.schema import schema_markdown; print(schema_markdown())'`);",
        "a test keeps it in step.",
        "",
        "| field | type | required | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for f in FIELDS:
        required = "yes" if f.required else ""
        lines.append(f"| `{f.name}` | {f.dtype} | {required} | {f.doc} |")
    lines += [
        "",
        "Money is Decimal(18, 2), never a float; instants are UTC; IDs are strings.",
        "In CSV and NDJSON, instants are written as `2024-11-10T16:01:02Z` and money as "
        "`1299.00`; parquet keeps the types.",
        "",
    ]
    return "\n".join(lines)

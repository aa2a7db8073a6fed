"""The standard order schema: one row per order line (version in ``SCHEMA_VERSION``).

``FIELDS`` is the schema of record: names, polars dtypes, which fields may be empty, in
output order. ``ingest.validate`` makes it a pandera schema (polars backend) that validates
every clean frame before it is written; the value rules (status vocabulary, E.164,
totals...) live once in ``ingest.checks``, used twice: by the fast row-level rejection pass
and by pandera. A plain table here, not a pandera model, so that reading and mapping do not
wait for pandera to load.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

SCHEMA_VERSION = 3  # 2: change_type and changed_fields; 3: order_discount_amount, shipping_amount

MONEY = pl.Decimal(18, 2)
INSTANT = pl.Datetime("us", "UTC")
TEXT = pl.String()

CHANGE_TYPES = ("new", "update")
ORDER_STATUSES = ("pending_payment", "paid", "shipped", "completed", "cancelled", "refunded")


@dataclass(frozen=True)
class Field:
    """A field of the order line: optional text unless said otherwise."""

    name: str
    dtype: pl.DataType = TEXT
    required: bool = False  # never empty in a clean line
    isin: tuple[str, ...] | None = None  # the only values it may take


FIELDS: tuple[Field, ...] = (
    # lineage
    Field("batch_id", required=True),
    Field("channel", required=True),
    Field("source", required=True),
    Field("source_row", pl.Int64(), required=True),
    # order
    Field("order_id", required=True),
    Field("line_no", pl.Int64(), required=True),
    Field("ordered_at", INSTANT, required=True),
    Field("paid_at", INSTANT),
    Field("order_status", required=True),
    Field("currency", required=True),
    # buyer
    Field("buyer_id"),
    Field("buyer_name"),
    Field("buyer_phone"),
    Field("buyer_email"),
    # ship-to
    Field("ship_name"),
    Field("ship_phone"),
    Field("ship_country"),
    Field("ship_province"),
    Field("ship_city"),
    Field("ship_district"),
    Field("ship_address"),
    Field("ship_postcode"),
    # line
    Field("sku"),
    Field("product_name"),
    Field("variant"),
    Field("quantity", pl.Int64(), required=True),
    Field("unit_price", MONEY, required=True),
    Field("discount_amount", MONEY, required=True),
    Field("line_total", MONEY, required=True),
    # order-level amounts, carried (never allocated to lines): the same on every line
    Field("order_discount_amount", MONEY),
    Field("shipping_amount", MONEY),
    # more
    Field("requested_delivery_date", pl.Date()),
    Field("buyer_message"),
    Field("promotion_id"),
    Field("hs_code"),
    Field("country_of_origin"),
    # change: what this line is to the ERP
    Field("change_type", required=True, isin=CHANGE_TYPES),
    Field("changed_fields"),
)


FIELD_DOCS: dict[str, str] = {
    "batch_id": "Identifier of the batch this line was published in (UTC timestamp + short hash).",
    "channel": "Name of the mapping that read the line, e.g. `tmall`, `shopify`.",
    "source": "Path of the input file the line came from, as given on the command line.",
    "source_row": "Row number a person sees when opening the source in a spreadsheet "
    "(the header row and any rows above it count; the first data row under a row-1 header is 2).",
    "order_id": "The channel's order number, always a string (leading zeros and 19-digit "
    "numbers are kept exactly).",
    "line_no": "Position of the line within its order, starting at 1.",
    "ordered_at": "When the order was placed, UTC.",
    "paid_at": "When the order was paid, UTC; empty if unpaid.",
    "order_status": "One of " + ", ".join(ORDER_STATUSES) + ".",
    "currency": "ISO 4217 code of every amount on the line.",
    "buyer_id": "The buyer's account on the channel (nickname, customer id).",
    "buyer_name": "The buyer's name.",
    "buyer_phone": "The buyer's phone number, E.164 (`+8613812345678`).",
    "buyer_email": "The buyer's e-mail address.",
    "ship_name": "Recipient's name.",
    "ship_phone": "Recipient's phone number, E.164.",
    "ship_country": "Destination country, ISO 3166-1 alpha-2.",
    "ship_province": "Province, state or region.",
    "ship_city": "City.",
    "ship_district": "District or county.",
    "ship_address": "Street address lines.",
    "ship_postcode": "Postal code, as a string.",
    "sku": "The seller's stock-keeping unit (商家编码).",
    "product_name": "The product's title.",
    "variant": "Variant or SKU properties (colour, size).",
    "quantity": "Units ordered, a whole number above 0.",
    "unit_price": "Price of one unit, Decimal with 2 places.",
    "discount_amount": "Discount on the whole line, Decimal with 2 places; 0 when none.",
    "line_total": "quantity × unit_price − discount_amount, to the cent.",
    "order_discount_amount": "Order-level discount or coupon not already in the lines' "
    "discount_amount, Decimal with 2 places; the same on every line of the order (an "
    "order-level amount: add it once per order, not once per line). Carried, not allocated "
    "to lines: allocating would invent per-line figures the platform never stated and leave "
    "rounding cents on arbitrary lines, and ERPs import order discounts as header charges.",
    "shipping_amount": "Shipping charged to the buyer for the whole order, Decimal with 2 "
    "places; the same on every line of the order (add it once per order). Carried, not "
    "allocated, for the same reasons as order_discount_amount.",
    "requested_delivery_date": "Date the buyer asked for delivery.",
    "buyer_message": "The buyer's note to the seller (买家留言); may span lines.",
    "promotion_id": "Promotion, coupon, gift or bundle code that applied to the line.",
    "hs_code": "Harmonized System customs code.",
    "country_of_origin": "Country the goods were made in, ISO 3166-1 alpha-2.",
    "change_type": "`new`: the first time ordermill outputs this line (same channel, order_id "
    "and line_no); `update`: output before with other content (status shipped, address "
    "corrected...). Lines output before with the same content are not output again.",
    "changed_fields": "For updates, the fields that changed, `;`-separated.",
}

LINEAGE_FIELDS = ("batch_id", "channel", "source", "source_row")
CHANGE_FIELDS = ("change_type", "changed_fields")


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
    return [name for name in field_names() if name not in LINEAGE_FIELDS]


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
        lines.append(f"| `{f.name}` | {f.dtype} | {required} | {FIELD_DOCS[f.name]} |")
    lines += [
        "",
        "Money is Decimal(18, 2), never a float; instants are UTC; IDs are strings.",
        "In CSV and NDJSON, instants are written as `2024-11-10T16:01:02Z` and money as "
        "`1299.00`; parquet keeps the types.",
        "",
    ]
    return "\n".join(lines)

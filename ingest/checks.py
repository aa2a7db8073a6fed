"""Checks, the fifth stage: named row checks, each rule defined once, used by two consumers.

- ``check_rows`` runs them natively in one polars pass over a typed batch and builds
  reasons only for the rows that fail (fast, and bounded when everything fails);
- ``ingest.validate`` makes the value checks pandera dataframe checks of the standard
  schema, which validates every clean frame before it is written.

A check's ``ok`` expression is True where the row passes; a null result counts as a pass
(emptiness is the business of ``missing-required``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from ingest.codes import code as catalogued
from ingest.codes import message
from ingest.columns import RAW, READER_CODE, READER_DETAIL
from ingest.mapping.compile import expected_line_total, order_group
from ingest.mapping.parsers import E164, EMAIL, MASKABLE, parse_money
from ingest.mapping.vocab import countries
from ingest.schema import MONEY, ORDER_STATUSES, order_amounts, parse_code, required_fields

ID = "__id"


@dataclass(frozen=True)
class RowCheck:
    code: str
    field: str  # the field the message names; its source text is shown as the value
    ok: pl.Expr
    detail: pl.Expr | None = None
    # A check over groups of rows (a window): skipped where the field holds no value at all,
    # so channels without the field do not pay for grouping a million rows.
    needs_values: bool = False

    def __post_init__(self) -> None:
        # A typo in a code is a bug: it would reach the reject reports analysts filter on.
        if catalogued(self.code).kind not in ("row", "warning"):
            raise ValueError(f"{self.code!r} is not a row code")

    @property
    def warns(self) -> bool:
        """A warning: it never holds the line back (unless the mapping makes it an error)."""
        return catalogued(self.code).kind == "warning"


def _iso_countries() -> list[str]:
    return sorted(set(countries().values()))


def _text(*parts: str | pl.Expr) -> pl.Expr:
    """Literal text and values as one string. (concat_str of explicit casts: pl.format over
    Decimal columns panicked in polars 2.1 on some filtered frames.)"""
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p.cast(pl.String)
                          for p in parts])


def value_checks() -> list[RowCheck]:
    """Rules over the standard columns only: what the clean output must satisfy."""
    qty, price = pl.col("quantity"), pl.col("unit_price")
    discount, total = pl.col("discount_amount"), pl.col("line_total")
    expected = expected_line_total()
    country_codes = _iso_countries()
    return [
        RowCheck("invalid-line-no", "line_no", pl.col("line_no") >= 1),
        RowCheck("unknown-status", "order_status", pl.col("order_status").is_in(ORDER_STATUSES)),
        RowCheck("invalid-currency", "currency", pl.col("currency").str.contains(r"^[A-Z]{3}$")),
        RowCheck("invalid-phone", "buyer_phone", pl.col("buyer_phone").str.contains(E164)),
        RowCheck("invalid-phone", "ship_phone", pl.col("ship_phone").str.contains(E164)),
        RowCheck("invalid-email", "buyer_email", pl.col("buyer_email").str.contains(EMAIL)),
        RowCheck("invalid-country", "ship_country", pl.col("ship_country").is_in(country_codes)),
        RowCheck("invalid-country", "country_of_origin",
                 pl.col("country_of_origin").is_in(country_codes)),
        RowCheck("non-positive-quantity", "quantity", qty > 0),
        RowCheck("negative-amount", "unit_price", price >= 0),
        RowCheck("negative-amount", "discount_amount", discount >= 0),
        *[RowCheck("negative-amount", name, pl.col(name) >= 0) for name in order_amounts()],
        RowCheck("missing-product", "sku",
                 pl.col("sku").is_not_null() | pl.col("product_name").is_not_null()),
        RowCheck("total-mismatch", "line_total", total == expected,
                 detail=_text("", qty, " × ", price, " − ", discount, " = ", expected)),
        RowCheck("paid-before-ordered", "paid_at", pl.col("paid_at") >= pl.col("ordered_at"),
                 detail=_text("ordered at ", pl.col("ordered_at"))),
    ]


def order_checks(order: list[str] | list[pl.Expr],
                 fields: tuple[str, ...] | None = None) -> list[RowCheck]:
    """The lines of one order (grouped by ``order``) must agree on its order-level amounts:
    they are the order's, carried on every line, so two values mean the source or the
    mapping is wrong (say, a per-line column mapped as an order-level one). Every line of
    such an order fails: none of them can be trusted to hold the order's figure. Empty
    values are not compared (min and max skip nulls). ``fields``: the amounts to compare,
    by default every order-level amount of the schema."""
    checks = []
    for name in order_amounts() if fields is None else fields:
        low, high = pl.col(name).min(), pl.col(name).max()
        checks.append(RowCheck("order-amount-mismatch", name, (low == high).over(order),
                               detail=_text("from ", low.over(order), " to ", high.over(order)),
                               needs_values=True))
    return checks


def total_checks(order: list[str] | list[pl.Expr],
                 prices_include_tax: bool | None = None) -> list[RowCheck]:
    """The order total the export states (``order_total``, carried on every line) must be
    what the order adds up to: Σ line_total − order_discount_amount + shipping_amount, plus
    tax_amount where prices exclude tax (``prices_include_tax`` False; True: the total holds
    it already; None: the export does not say, either passes). Every line of an order that
    does not add up fails, and the message names both figures. Orders with a line whose
    total is unknown are not compared (that line is rejected for its own reason)."""
    zero = pl.lit(0).cast(MONEY)
    lines = pl.col("line_total").sum().over(order)
    off = pl.col("order_discount_amount").fill_null(zero)
    shipping = pl.col("shipping_amount").fill_null(zero)
    tax = pl.col("tax_amount").fill_null(zero)
    without_tax = (lines - off + shipping).cast(MONEY, strict=False)
    with_tax = (without_tax + tax).cast(MONEY, strict=False)
    stated = pl.col("order_total")
    unknown = pl.col("line_total").is_null().any().over(order)
    if prices_include_tax is None:
        ok = (stated == with_tax) | (stated == without_tax)
        computed = pl.when(pl.col("tax_amount").is_null() | (tax == 0)).then(
            _text("", with_tax)).otherwise(_text("", with_tax, " with tax or ", without_tax,
                                                  " with tax included"))
    else:
        expected = without_tax if prices_include_tax else with_tax
        ok = stated == expected
        computed = _text("", expected)
    detail = _text("stated ", stated, ", computed ", computed, ": lines ", lines.cast(MONEY),
                   " − order discount ", off, " + shipping ", shipping,
                   *(() if prices_include_tax else (" + tax ", tax)))
    return [RowCheck("order-total-mismatch", "order_total", ok | unknown, detail=detail,
                     needs_values=True)]


def contact_checks(mapped: frozenset[str]) -> list[RowCheck]:
    """Contact fields the platform masked or encrypted: a warning, the field left empty."""
    return [RowCheck("masked-contact", name, ~pl.col(RAW + name).str.contains(pattern))
            for name, pattern in MASKABLE.items() if name in mapped]


def source_checks(mapped: frozenset[str], divided: dict[str, str] | None = None
                  ) -> list[RowCheck]:
    """Rules that compare a field's source text with its parsed value. ``divided``: fields
    whose amount is divided by another field (``per``); an amount that does not divide into
    whole cents is its own reason, not an unreadable one."""
    checks = []
    required = set(required_fields())
    divided = divided or {}
    for name in sorted(mapped):
        raw, typed = pl.col(RAW + name), pl.col(name)
        code = parse_code(name)
        if code is not None and name in divided:
            whole = parse_money(raw)
            checks.append(RowCheck(code, name, raw.is_null() | whole.is_not_null()))
            checks.append(RowCheck(
                "indivisible-amount", name, raw.is_null() | whole.is_null() | typed.is_not_null(),
                detail=_text(divided[name], " ", pl.col(RAW + divided[name]).fill_null("?"))))
        elif code is not None and name in MASKABLE:
            # (a masked value has its own warning, masked-contact)
            checks.append(RowCheck(code, name, raw.is_null() | typed.is_not_null()
                                   | raw.str.contains(MASKABLE[name])))
        elif code is not None:
            checks.append(RowCheck(code, name, raw.is_null() | typed.is_not_null()))
        if name in required:
            checks.append(RowCheck("missing-required", name,
                                   raw.is_not_null() | typed.is_not_null()))
    return checks


def _message(check: RowCheck, labels: dict[str, str], mapped: frozenset[str]) -> pl.Expr:
    """The code's template as one string expression (only evaluated on failing rows). The
    value shown is the field's source text when it has one, else the typed value."""
    if check.field in mapped:
        value = pl.col(RAW + check.field)
    else:
        value = pl.col(check.field).cast(pl.String)
    detail = check.detail if check.detail is not None else pl.lit("")
    return message(check.code, {
        "field": check.field,
        "column": labels.get(check.field, "(unmapped)"),
        "value": value.fill_null("(empty)"),
        "detail": detail.cast(pl.String).fill_null("?"),
    })


# The codes a reader marks damaged rows with (READER_CODE).
READER_CODES = ("too-many-fields", "too-few-fields", "truncated-row", "nul-byte")
# Codes whose detail is the whole message: the stage that marks the row words it (the
# mapping, a formula's fields; the join of a two-file export, ``ingest.pairs``).
WHOLE_DETAIL = ("formula-without-value", "no-order-row", "no-item-rows", "partner-missing",
                "ambiguous-packed-item",
                # lines read by OCR that it cannot vouch for (``ingest.ocr_checks``)
                "ocr-amount-mismatch", "ocr-line-sequence", "ocr-total-mismatch", "unknown-sku")


def _reader_message() -> pl.Expr:
    """Messages for structural problems the reader found (the code comes from the row)."""
    code = pl.col(READER_CODE)
    detail = pl.col(READER_DETAIL).fill_null("")
    # The reader names no field or column: its detail says where the row went wrong.
    values: dict[str, pl.Expr | str] = {"detail": detail, "column": "a cell", "field": "a field"}
    rendered = pl.lit(None, pl.String)
    for name in READER_CODES:
        rendered = pl.when(code == name).then(message(name, values)).otherwise(rendered)
    # The mapping renders this one whole: it knows which fields read the formula's column.
    rendered = pl.when(code.is_in(WHOLE_DETAIL)).then(detail).otherwise(rendered)
    return rendered.fill_null(code)


WARNINGS: dict[str, pl.DataType] = {ID: pl.Int64(), "field": pl.String(), "code": pl.String(),
                                    "value": pl.String(), "message": pl.String()}


@dataclass(frozen=True)
class Outcome:
    passed: pl.Series  # Boolean, one per row of the checked frame
    reasons: pl.DataFrame  # ID, codes (";"-joined), messages (" | "-joined), failing rows only
    # ID, field, code, value (as read), message: one row per warning (``WARNINGS``)
    warnings: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=WARNINGS))


def check_rows(frame: pl.DataFrame, labels: dict[str, str], mapped: frozenset[str],
               divided: dict[str, str] | None = None, errors: frozenset[str] = frozenset(),
               prices_include_tax: bool | None = None, together: bool = False) -> Outcome:
    """Every one-row check over ``frame`` (which carries ``ID``), in one pass; reasons are
    built only for rows that fail, warnings only for the rows they name. ``errors``: the
    warning codes the mapping makes errors (``[checks] errors``)."""
    # One input is one channel: its orders are grouped by order_id (within each input, when
    # small inputs are checked ``together``: ``order_group``).
    order = order_group(together)
    checks = source_checks(mapped, divided) + contact_checks(mapped) + value_checks() + (
        order_checks(order, tuple(name for name in order_amounts() if name in mapped)))
    if "order_total" in mapped:
        checks += total_checks(order, prices_include_tax)
    # A row the reader found damaged gets that reason alone: its fields may be shifted or
    # cut, so what they say is noise.
    damaged = pl.col(READER_CODE).is_not_null()
    failed = frame.select(
        damaged.alias("reader"),
        *[((~c.ok).fill_null(False) & ~damaged).alias(f"c{i}") for i, c in enumerate(checks)],
    )
    counts = failed.sum().row(0, named=True)
    pieces, warned = [], []
    if counts["reader"]:
        pieces.append(frame.filter(failed["reader"]).select(
            pl.col(ID), pl.col(READER_CODE).alias("code"), _reader_message().alias("message")))
    for i, check in enumerate(checks):
        if not counts[f"c{i}"]:
            continue
        rows = frame.filter(failed[f"c{i}"])
        if check.warns and check.code not in errors:
            warned.append(rows.select(
                pl.col(ID).cast(pl.Int64), pl.lit(check.field).alias("field"),
                pl.lit(check.code).alias("code"), _shown(check, mapped).alias("value"),
                _message(check, labels, mapped).alias("message")))
        else:
            pieces.append(rows.select(
                pl.col(ID), pl.lit(check.code).alias("code"),
                _message(check, labels, mapped).alias("message")))
    errors_at = ["reader", *(f"c{i}" for i, c in enumerate(checks)
                             if not c.warns or c.code in errors)]
    passed = failed.select(~pl.any_horizontal(errors_at)).to_series()
    warnings = (pl.concat(warned).sort(ID, maintain_order=True) if warned
                else pl.DataFrame(schema=WARNINGS))
    return Outcome(passed, _collect_reasons(pieces), warnings)


def _shown(check: RowCheck, mapped: frozenset[str]) -> pl.Expr:
    """The value a finding is about, as read (the typed value where there is no text)."""
    if check.field in mapped:
        return pl.col(RAW + check.field)
    return pl.col(check.field).cast(pl.String)


HELD = "__held"


def held_back_check() -> RowCheck:
    """A line whose order has another line rejected is held back too: an ERP must never
    receive half an order. Feeding the fixed rejects back in brings the whole order."""
    return RowCheck("incomplete-order", "order_id", pl.col(HELD).is_null(),
                    detail=pl.col(HELD))


def check_batch(frame: pl.DataFrame, rejected: pl.DataFrame) -> Outcome:
    """Checks that look across rows, over the rows that passed the one-row checks in every
    input of the batch (``frame``: ID, channel, order_id): the lines of orders that have a
    rejected line (``rejected``: channel, order_id, row, codes) are held back."""
    held = (
        rejected.filter(pl.col("order_id").is_not_null())
        .group_by("channel", "order_id")
        .agg(_text("row ", pl.col("row"), " was rejected (", pl.col("codes"), ")")
             .first().alias(HELD))
    )
    marked = frame.join(held, on=["channel", "order_id"], how="left", maintain_order="left")
    check = held_back_check()
    kept = marked.select(check.ok).to_series()
    pieces = []
    if not kept.all():
        pieces.append(marked.filter(~kept).select(
            pl.col(ID), pl.lit(check.code).alias("code"),
            _message(check, {}, frozenset()).alias("message")))
    return Outcome(kept, _collect_reasons(pieces))


def cross_channel_reason(previous_channel: pl.Expr) -> pl.Expr:
    """The message of a line already received through another channel of its key scope."""
    return message("cross-channel-duplicate",
                   {"value": pl.col("order_id"), "detail": previous_channel})


def _collect_reasons(pieces: list[pl.DataFrame]) -> pl.DataFrame:
    empty = pl.DataFrame(schema={ID: pl.Int64, "codes": pl.String, "messages": pl.String})
    if not pieces:
        return empty
    long = pl.concat([p.with_columns(pl.col(ID).cast(pl.Int64)) for p in pieces])
    return (
        long.with_row_index("__order")
        .group_by(ID)
        .agg(
            pl.col("code").sort_by("__order").unique(maintain_order=True).str.join(";")
            .alias("codes"),
            pl.col("message").sort_by("__order").str.join(" | ").alias("messages"),
        )
        .sort(ID)
    )

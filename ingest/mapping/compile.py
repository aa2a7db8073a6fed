"""Mapping, the fourth stage: a mapping and a shaped table into the typed standard frame.

All of it as polars expressions.

The result holds every mappable field (typed, null when unmapped), ``__raw_<field>`` (the
cleaned source text the value came from, for reject messages) and the reader's lineage
columns. Nothing here rejects: the checks decide, from typed and raw values together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from ingest.columns import INPUT_SHIFT, READER_CODE, READER_DETAIL, ROW, WAITING
from ingest.columns import RAW as RAW  # (its home is ingest.columns; imported from here too)
from ingest.mapping.form import form_values
from ingest.mapping.model import FieldRule, Mapping
from ingest.mapping.orders import ShapedTable
from ingest.mapping.parsers import (
    DEFAULT_DATE_FORMATS,
    DEFAULT_DATETIME_FORMATS,
    MASKABLE,
    clean_text,
    guard_flags,
    parse_country,
    parse_integer,
    parse_money,
    parse_phone,
    parse_spreadsheet_date,
    parser_for,
    phones_by_library,
)
from ingest.readers.base import header_columns, normalise_name
from ingest.schema import MONEY, derived_fields, field_kind, mappable_fields, polars_schema

CLEAN = "__clean_"
SPLIT = "__split_"


@dataclass(frozen=True)
class Compiled:
    frame: pl.LazyFrame
    labels: dict[str, str]  # field -> where its value came from, for messages
    mapped: frozenset[str]  # fields the mapping fills (from columns or constants)
    missing_columns: tuple[str, ...] = field(default=())
    divided: dict[str, str] = field(default_factory=dict)  # field -> the field it is ``per``
    form: dict[str, str | None] = field(default_factory=dict)  # form-label values found


def compile_mapping(mapping: Mapping, shaped: ShapedTable, default_timezone: str = "UTC",
                    form: dict[str, pl.Expr] | None = None, together: bool = False
                    ) -> Compiled:
    """``form``: the text of each form-label field (``ingest.mapping.form``), by default the
    value found around this table; small inputs mapped together give a column of each
    input's own value. ``together``: the table holds several inputs (``ingest.together``),
    whose orders are each their own (``order_group``)."""
    raw = shaped.table
    columns = {normalised: shaped.substitutes.get(name, name)
               for normalised, name in header_columns(raw.header).items()}
    wanted = sorted(mapping.used_columns)
    missing = missing_columns(mapping, set(columns))

    def source(name: str) -> pl.Expr:
        actual = columns.get(normalise_name(name))
        return pl.col(CLEAN + actual) if actual else pl.lit(None, pl.String)

    found = form_values(mapping, raw) if form is None else {}  # PO-level values, by label
    form = form if form is not None else {name: pl.lit(value, pl.String)
                                          for name, value in found.items()}
    frame = raw.frame.lazy()
    if shaped.carried:  # (the order shapes decided what reaches an order's other lines)
        frame = frame.with_columns(shaped.carried)
    # Each source column is cleaned once, however many fields read it (an address feeds
    # five): one stage per step keeps polars from evaluating shared work again per use.
    present = sorted({columns[normalise_name(c)] for c in wanted if normalise_name(c) in columns})
    flags = guard_flags(raw.frame, present)
    frame = frame.with_columns([clean_text(pl.col(c), *flags[c]).alias(CLEAN + c)
                                for c in present])

    # A column split into parts for several fields (an address: province, city, district,
    # street) is split once, into as many pieces as the rules need, not once per field.
    splits = _split_plan(mapping)
    if splits:
        frame = frame.with_columns([
            _combined(rule, source).str.splitn(rule.split or "", pieces).alias(name)
            for name, (rule, pieces) in splits.items()])

    raw_exprs: dict[str, pl.Expr] = {}
    labels: dict[str, str] = {}
    for name, rule in mapping.fields.items():
        raw_exprs[name] = _raw_value(rule, source, mapping.values.get(name), splits,
                                     form.get(name, pl.lit(None, pl.String)))
        labels[name] = rule.label
    for name, value in mapping.constants.items():
        raw_exprs[name] = pl.lit(value, pl.String)
        labels[name] = f"(constant {value!r})"

    stage = frame.select(
        pl.col(ROW), pl.col(READER_CODE), pl.col(READER_DETAIL),
        *[expr.alias(RAW + name) for name, expr in raw_exprs.items()],
        _waiting(mapping, source, together).alias(WAITING),
    ).collect()

    schema = polars_schema()
    typed: list[pl.Expr] = []
    times: dict[str, tuple[tuple[str, ...], str]] = {}  # field -> its formats, time zone
    for name in mappable_fields():
        if name in raw_exprs:
            own = mapping.fields.get(name)
            formats = (own.formats if own and own.formats else _default_formats(mapping, name))
            timezone = (own.timezone if own and own.timezone
                        else mapping.parse.timezone or default_timezone)
            if field_kind(name) in ("instant", "date"):
                times[name] = (formats or (DEFAULT_DATE_FORMATS if field_kind(name) == "date"
                                           else DEFAULT_DATETIME_FORMATS), timezone)
                continue
            if field_kind(name) == "phone":
                continue  # read below, eagerly: the library reads what the fast rules miss
            parse = parser_for(name, formats=formats, timezone=timezone,
                               phone_region=mapping.parse.phone_region,
                               country=_row_country(mapping, set(raw_exprs)))
            parsed = _arithmetic(parse(pl.col(RAW + name)), own)
            typed.append(parsed.cast(schema[name]).alias(name))
        else:
            typed.append(pl.lit(None, schema[name]).alias(name))

    # Every date field's first format in one pass (in parallel), the others only where the
    # first could not read a value (``_parse_by_formats``).
    first = stage.select(_parsed(pl.col(RAW + name), name, formats[:1], timezone).alias(name)
                         for name, (formats, timezone) in times.items())
    timed = {name: _parse_by_formats(stage[RAW + name], first[name], name, formats, timezone,
                                     spreadsheet=raw.delimiter is None)
             for name, (formats, timezone) in times.items()}
    timed.update(_phones(stage, mapping, set(raw_exprs)))
    frame = (
        stage.with_columns([series.cast(schema[n]).alias(n) for n, series in timed.items()])
        .lazy()
        .with_columns(typed)
        .with_columns(_unmasked(set(raw_exprs)))
        .select(ROW, READER_CODE, READER_DETAIL, WAITING, pl.col(f"^{RAW}.*$"),
                *mappable_fields())
        .with_columns(_derived(set(raw_exprs), stage, together))
        .with_columns(_less_lines(mapping, together))
    )
    for name in derived_fields():
        labels.setdefault(name, "(computed)")
    divided = {name: rule.per for name, rule in mapping.fields.items() if rule.per}
    return Compiled(frame, labels, frozenset(raw_exprs), missing, divided, found)


def _waiting(mapping: Mapping, source: Callable[[str], pl.Expr], together: bool) -> pl.Expr:
    """True on every row of an order that has a row the mapping's ``[waiting]`` matches (the
    whole order waits: never half an order out). Grouped by the order's number as read."""
    rule = mapping.waiting
    if rule is None:
        return pl.lit(False)
    if rule.always or rule.column is None:
        return pl.lit(True)
    hit = source(rule.column).is_in(list(rule.equals)).fill_null(False)
    order = mapping.fields.get("order_id")
    if order is None or not order.columns:
        return hit
    return hit.any().over(_combined(order, source), *([input_of_row()] if together else []))


def _phones(stage: pl.DataFrame, mapping: Mapping, mapped: set[str]) -> dict[str, pl.Series]:
    """Phone fields to E.164: the fast column rules (``parse_phone``) first; the numbers they
    could not read (a region without rules here, a form they do not know), and that are
    not masked, then go to libphonenumber (``phones_by_library``), in the row's ship country
    or else the mapping's phone_region, once per distinct number and region."""
    country = _row_country(mapping, mapped)
    default = mapping.parse.phone_region
    found: dict[str, pl.Series] = {}
    for name in (n for n in mappable_fields() if field_kind(n) == "phone" and n in mapped):
        raw = pl.col(RAW + name)
        fast = stage.select(parse_phone(raw, default, country).alias(name)).to_series()
        missed = stage.select(fast.is_null() & raw.is_not_null()
                              & ~raw.str.contains(MASKABLE[name])).to_series().arg_true()
        if len(missed):
            region = pl.lit(default, pl.String) if country is None else pl.coalesce(
                country, pl.lit(default, pl.String))
            asked = stage[missed].select(raw.alias("t"), region.alias("r"))
            read = phones_by_library(asked["t"], asked["r"])
            hits = read.is_not_null()
            fast = fast.scatter(missed.filter(hits), read.filter(hits))
        found[name] = fast
    return found


def _unmasked(mapped: set[str]) -> list[pl.Expr]:
    """Contact fields the platform masked or encrypted are left empty (the value as read
    goes to warnings.csv, ``masked-contact``)."""
    return [pl.when(pl.col(RAW + name).str.contains(pattern)).then(None)
            .otherwise(pl.col(name)).alias(name)
            for name, pattern in MASKABLE.items() if name in mapped]


def _less_lines(mapping: Mapping, together: bool) -> list[pl.Expr]:
    """``minus_lines``: an order-level amount less the sum of a line field over the
    order's lines (Shopify: Discount Amount − Σ Lineitem discount is the order's own
    discount), exact in Decimal."""
    exprs = []
    for name, rule in mapping.fields.items():
        if rule.minus_lines:
            lines = pl.col(rule.minus_lines).sum().over(order_group(together))
            exprs.append((pl.col(name) - lines).cast(MONEY, strict=False).alias(name))
    return exprs


def _arithmetic(value: pl.Expr, rule: FieldRule | None) -> pl.Expr:
    """``per``: an amount for the whole line divided by its quantity, exact to the cent (an
    amount that does not divide evenly has no unit price: null, so the row is rejected);
    left whole when the divisor is itself unusable (that field gets its own reject).
    ``times``: multiplied by a whole number of the line (a unit price by its quantity: the
    line's amount before discounts), left whole when that number is unusable (0 or less, or
    not a number: that field gets its own reject).
    ``minus``: less another amount of the line. All in integer cents: exact."""
    if rule is None:
        return value
    if rule.per:
        divisor = parse_integer(pl.col(RAW + rule.per))
        cents = (value * 100).cast(pl.Int64, strict=False)
        unit = (cents // divisor).cast(pl.Decimal(18, 0)) * pl.lit(Decimal("0.01"))
        value = (pl.when(divisor.is_null() | (divisor <= 0)).then(value)
                 .when(cents % divisor == 0).then(unit.cast(MONEY)))
    if rule.times:
        factor = parse_integer(pl.col(RAW + rule.times))
        cents = (value * 100).cast(pl.Int64, strict=False) * factor
        product = cents.cast(pl.Decimal(18, 0)) * pl.lit(Decimal("0.01"))
        value = (pl.when(factor.is_null() | (factor <= 0)).then(value)
                 .otherwise(product.cast(MONEY)))
    if rule.minus:
        value = value - parse_money(pl.col(RAW + rule.minus))
    return value


def _row_country(mapping: Mapping, mapped: set[str]) -> pl.Expr | None:
    """The row's ISO country, for phone numbers in national form (when the mapping asks)."""
    if mapping.parse.phone_region_from_country and "ship_country" in mapped:
        return parse_country(pl.col(RAW + "ship_country"))
    return None


def _parsed(text: pl.Expr, name: str, formats: tuple[str, ...], timezone: str) -> pl.Expr:
    return parser_for(name, formats=formats, timezone=timezone, phone_region=None)(text)


def _parse_by_formats(text: pl.Series, first: pl.Series, name: str, formats: tuple[str, ...],
                      timezone: str, spreadsheet: bool = False) -> pl.Series:
    """Dates and times (``first``: ``text`` read with the first of ``formats``), trying the
    other formats in order but each one only on the values the ones before it could not
    read: exports use one format, so one pass is the usual cost."""
    result = first
    for fmt in formats[1:]:
        failed = (result.is_null() & text.is_not_null()).arg_true()
        if not len(failed):
            break
        retry = text.gather(failed).to_frame("t").select(
            _parsed(pl.col("t"), name, (fmt,), timezone)).to_series()
        hits = retry.is_not_null()
        result = result.scatter(failed.filter(hits), retry.filter(hits))
    # Spreadsheets: a date cell comes as ISO text, a date stored as a number as its serial.
    # (Not text exports: there a 5-digit number or a bare date is not the channel's format.)
    failed = (result.is_null() & text.is_not_null() & spreadsheet).arg_true()
    if len(failed):
        retry = text.gather(failed).to_frame("t").select(
            parse_spreadsheet_date(pl.col("t"), field_kind(name), timezone)).to_series()
        hits = retry.is_not_null()
        result = result.scatter(failed.filter(hits), retry.filter(hits).cast(result.dtype))
    return result.alias(name)


def _default_formats(mapping: Mapping, name: str) -> tuple[str, ...]:
    if name == "requested_delivery_date":
        return mapping.parse.date_formats
    return mapping.parse.datetime_formats


def _split_key(rule: FieldRule) -> str:
    return SPLIT + "|".join([*rule.columns, rule.combine, rule.separator, rule.split or ""])


def _split_plan(mapping: Mapping) -> dict[str, tuple[FieldRule, int]]:
    """Shared splits: per split source, a rule reading it and how many pieces ``splitn``
    must make so that every part the rules take is a whole piece (``N``) or the rest of
    the text (``N:``). A rest-part that does not fit the shared count is split on its own."""
    plan: dict[str, tuple[FieldRule, int]] = {}
    for rule in mapping.fields.values():
        if rule.split is None or rule.cases or rule.form is not None:
            continue
        key = _split_key(rule)
        need = _pieces(rule.part)
        _, pieces = plan.get(key, (rule, 0))
        plan[key] = (rule, max(pieces, need))
    return plan


def _split_part(rule: FieldRule, text: pl.Expr,
                splits: dict[str, tuple[FieldRule, int]]) -> pl.Expr:
    """Part ``rule.part`` of ``text`` split on ``rule.split``: from the shared split when
    there is one that fits, else split here."""
    index = int(rule.part.rstrip(":")) if isinstance(rule.part, str) else rule.part
    shared = splits.get(_split_key(rule)) if not rule.cases else None
    if shared is not None and (not isinstance(rule.part, str)
                               or _pieces(rule.part) == shared[1]):
        return pl.col(_split_key(rule)).struct.field(f"field_{index}")
    return text.str.splitn(rule.split or "", _pieces(rule.part)).struct.field(f"field_{index}")


def _pieces(part: int | str) -> int:
    """How many pieces ``splitn`` makes so that part ``N`` is a whole piece and part
    ``N:`` the rest of the text."""
    return int(part.rstrip(":")) + 1 if isinstance(part, str) else part + 2


def missing_columns(mapping: Mapping, present: set[str]) -> tuple[str, ...]:
    """The mapping's columns the table lacks (``present``: its normalised names). The other
    labels of a ``first`` rule that found one of its columns are not missing: they are the
    names the column goes by elsewhere (``first = ["物料编码/SKU", "料号/Part No."]``)."""
    found_by_another: set[str] = set()
    needed: set[str] = set()
    for rule in mapping.fields.values():
        if rule.combine == "first" and len(rule.columns) > 1 and any(
                normalise_name(c) in present for c in rule.columns):
            found_by_another.update(rule.columns)
            needed.update(case.column for case in rule.cases)
        else:
            needed.update(rule.source_columns)
    return tuple(c for c in sorted(mapping.used_columns) if normalise_name(c) not in present
                 and (c in needed or c not in found_by_another))


def _combined(rule: FieldRule, src: Callable[[str], pl.Expr]) -> pl.Expr:
    """The text a plain rule reads: one column, the first non-empty, or several joined."""
    if rule.combine == "join":
        joined = pl.concat_str([src(c) for c in rule.columns], separator=rule.separator,
                               ignore_nulls=True)
        return pl.when(joined != "").then(joined)
    return pl.coalesce([src(c) for c in rule.columns])


def _raw_value(rule: FieldRule, src: Callable[[str], pl.Expr], values: dict[str, str] | None,
               splits: dict[str, tuple[FieldRule, int]], form: pl.Expr) -> pl.Expr:
    """The cleaned source text of one field; ``src(name)`` is a source column, cleaned;
    ``form`` the text a form-label rule found (one value for every line of an input)."""
    if rule.form is not None:
        expr = clean_text(form)
    elif rule.cases:
        branches: list[pl.Expr] = []
        for case in rule.cases:
            col = src(case.column)
            if case.present is not None:
                branches.append(pl.when(col.is_not_null()).then(pl.lit(case.present)))
            else:
                branches.append(col.replace_strict(case.map or {}, default=None,
                                                   return_dtype=pl.String))
        hit = pl.coalesce(branches)
        # When no case applies, keep what the columns said so the reject can show it.
        shown = pl.concat_str([src(c) for c in rule.source_columns], separator=" / ",
                              ignore_nulls=True)
        expr = pl.coalesce(hit, pl.when(shown != "").then(shown))
    else:
        expr = _combined(rule, src)
    if rule.split is not None:
        # Cheaper than a regex by far: addresses are split millions of times a night.
        expr = _split_part(rule, expr, splits)
    if rule.extract:
        expr = expr.str.extract(rule.extract, 1)
    if rule.remove:
        expr = expr.str.replace_all(rule.remove, "")
    if rule.split is not None or rule.extract or rule.remove:
        expr = clean_text(expr, guards=False, apostrophes=False, bom=False)  # trim, empty -> null
    if values:
        expr = expr.replace(values)
    return expr


def _stand_together(stage: pl.DataFrame, mapped: set[str], together: bool) -> bool:
    """Whether each order's rows stand together (as exports write them), told from the
    order numbers' text (which order_id, a text field, is): as many runs as numbers."""
    if "order_id" not in mapped or not stage.height:
        return False
    order = pl.col(RAW + "order_id")
    if together:  # (each input's own orders)
        order = pl.struct(input_of_row(), order)
    runs, distinct = stage.select(order.rle_id().max().alias("runs") + 1,
                                  order.n_unique().alias("distinct")).row(0)
    return bool(runs == distinct)


def _derived(mapped: set[str], stage: pl.DataFrame, together: bool) -> list[pl.Expr]:
    """The fields computed from others (``stage``: the cleaned source texts, ``RAW``)."""
    exprs = []
    if "line_no" not in mapped:
        if _stand_together(stage, mapped, together):
            # The place in the order's run of rows: a scan, 5x cheaper than the window
            # over order numbers below, and the same numbers when an order's rows touch.
            row = pl.int_range(pl.len(), dtype=pl.Int64)
            starts = (row == 0) | pl.col("order_id").ne_missing(pl.col("order_id").shift())
            if together:
                starts = starts | input_of_row().ne(input_of_row().shift())
            first = pl.when(starts).then(row).forward_fill()
            exprs.append((row - first + 1).alias("line_no"))
        else:
            exprs.append(pl.int_range(1, pl.len() + 1, dtype=pl.Int64)
                         .over(order_group(together)).alias("line_no"))
    zero = pl.lit(0).cast(MONEY)
    if "discount_amount" in mapped:
        # No discount in the source is 0; a discount that does not read stays empty, so
        # the row is rejected (invalid-money) instead of losing its discount.
        exprs.append(pl.when(pl.col(RAW + "discount_amount").is_null()).then(zero)
                     .otherwise(pl.col("discount_amount")).alias("discount_amount"))
    else:
        exprs.append(zero.alias("discount_amount"))
    computed = expected_line_total()
    if "line_total" in mapped:
        exprs.append(pl.coalesce(pl.col("line_total"), pl.when(
            pl.col(RAW + "line_total").is_null()).then(computed)).alias("line_total"))
    else:
        exprs.append(computed.alias("line_total"))
    return exprs


def input_of_row() -> pl.Expr:
    """The input a row belongs to among small inputs mapped together (its identity's high
    bits, ``INPUT_SHIFT``): 0 for every row of an input mapped alone."""
    return pl.col(ROW) // (1 << INPUT_SHIFT)


def order_group(together: bool = False) -> list[pl.Expr]:
    """An order's lines: its number, within its input when several are mapped together (two
    of them may carry the same order: each is checked on its own, as when mapped alone)."""
    return [pl.col("order_id"), input_of_row()] if together else [pl.col("order_id")]


def expected_line_total() -> pl.Expr:
    """quantity × unit_price − discount_amount, exact (Int64 × Decimal stays Decimal)."""
    discount = pl.col("discount_amount").fill_null(pl.lit(0).cast(MONEY))
    total = pl.col("quantity") * pl.col("unit_price") - discount
    return total.cast(MONEY, strict=False)

"""Mapping tools, beside the flow: a draft mapping for a file no mapping recognises.

Drafted from its header names (through the synonyms table) and the shapes of its values.
Every guess carries a confidence and the reason for it; ``ingest.tools.draft`` writes the
result as TOML for a person to review."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ingest.errors import InputError
from ingest.inputs import Input
from ingest.mapping.model import Mapping
from ingest.mapping.parsers import PHONE_REGIONS, parse_country
from ingest.readers import reader_for
from ingest.readers.base import Peek, RawTable, normalise_name
from ingest.readers.options import ReaderOptions
from ingest.schema import ORDER_STATUSES, derived_fields, field_kind, required_fields
from ingest.tools.assign import Guess as Guess  # re-exported: drafts are made of guesses
from ingest.tools.assign import addresses, assign, candidates
from ingest.tools.names import has_cjk, normalise, synonyms
from ingest.tools.shapes import SYMBOLS, Shape, measure

SAMPLE_ROWS = 2000
SIGNATURE_SIZE = 4


@dataclass
class Suggestion:
    path: str
    channel: str
    reader: str
    header_row: int
    header: list[str]
    rows_sampled: int
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | int | None = None
    footer: str | None = None
    guesses: dict[str, Guess] = field(default_factory=dict)
    constants: dict[str, tuple[str, str]] = field(default_factory=dict)  # value, why
    statuses: dict[str, str | None] = field(default_factory=dict)  # source value -> status
    datetime_formats: tuple[str, ...] = ()
    date_formats: tuple[str, ...] = ()
    timezone: tuple[str | None, str] = (None, "")  # zone, why
    phone_region: tuple[str | None, str] = (None, "")
    signature: list[str] = field(default_factory=list)
    order_key: str | None = None
    carry_forward: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    passed_over: list[str] = field(default_factory=list)  # guesses that lost to better ones
    missing: list[str] = field(default_factory=list)  # required fields nothing fills
    recognised_as: list[str] = field(default_factory=list)  # mappings that match already


def suggest(path: Path, mappings: list[Mapping], channel: str | None = None,
            encoding: str | None = None, sheet: str | int | None = None) -> Suggestion:
    """A draft mapping for the file. Raises InputError when it cannot be read."""
    if not path.is_file():
        raise InputError.of(str(path), "missing-file")
    source = Input.from_path(path)
    reader = reader_for(source)
    options = ReaderOptions(encoding=encoding or "auto", sheet=sheet)
    with reader.open(source) as document:
        peek = document.peek(options)
        header_row = find_header_row(peek)
        table = document.read(options, header_row)
    if not table.header:
        raise InputError(str(path), f"row {header_row} holds no column names")
    sample = table.frame.head(SAMPLE_ROWS)
    result = Suggestion(
        path=str(path), channel=channel or channel_name(path), reader=reader.name,
        header_row=header_row, header=table.header, rows_sampled=sample.height,
        encoding=table.encoding or peek.encoding, delimiter=table.delimiter or peek.delimiter,
        sheet=sheet if sheet is not None else (0 if reader.name == "xlsx" else None))
    shapes = measure(sample.select(table.header))
    assign(result.guesses, result.passed_over, candidates(table.header, shapes))
    addresses(result.guesses, shapes)
    _status(result, table, shapes)
    _parse_options(result, shapes)
    _constants(result, shapes)
    result.footer = _footer(table)
    result.order_key, result.carry_forward = _carry_forward(result, sample)
    result.signature = _signature(result, mappings)
    result.recognised_as = [m.name for m in mappings if _recognises(m, table.header)]
    used = {c for g in result.guesses.values() for c in g.columns}
    result.unmatched = [c for c in table.header if c not in used]
    covered = set(result.guesses) | set(result.constants)
    result.missing = [f for f in required_fields() if f not in covered
                      and f not in derived_fields()]
    return result


def channel_name(path: Path) -> str:
    """A channel name from the file name: lower case, letters, digits and hyphens."""
    stem = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    stem = re.sub(r"-?\d{6,}.*$", "", stem) or stem  # drop export dates and counters
    stem = re.sub(r"-?\d{4}-\d{2}-\d{2}.*$", "", stem)
    if stem.isdigit() or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", stem or ""):
        return "new-channel"
    return stem


def find_header_row(peek: Peek) -> int:
    """The peeked row naming the most standard fields (a listed name exactly); failing
    that, the first row about as wide as the widest (rows above a table are short)."""
    known = {normalise(n) for names in synonyms().fields.values() for n in names}
    best, best_hits = None, 1
    for offset, row in enumerate(peek.rows):
        hits = sum(1 for c in row if c.strip() and (
            normalise(c) in known or normalise(c).rstrip("0123456789") in known))
        if hits > best_hits:
            best, best_hits = offset, hits
    if best is None:
        widths = [sum(1 for c in row if c.strip()) for row in peek.rows]
        widest = max(widths, default=0)
        best = next((i for i, w in enumerate(widths) if w >= max(2, 0.6 * widest)), 0)
    return peek.first_row + best


NEGATED = re.compile(r"(?:^|[^a-z])(?:un|not|non|in)(?=[a-z\s])|[未没不无無]")


def status_of(value: str) -> str | None:
    """The standard status a source status value means, by the words in it: a listed name
    exactly, else one contained in it, unless the value negates it ("unfulfilled", "Not
    Paid", "未完成"): those are left for a person to map."""
    text = normalise(value)
    statuses = synonyms().statuses
    for status, words in statuses.items():
        if any(normalise(w) == text for w in words):
            return status
    if NEGATED.search(value.casefold()):
        return None
    for status, words in statuses.items():
        if any(normalise(w) and normalise(w) in text for w in words):
            return status
    return None


def _status(result: Suggestion, table: RawTable, shapes: dict[str, Shape]) -> None:
    guess = result.guesses.get("order_status")
    if guess is not None:
        values = table.frame[guess.columns[0]].str.strip_chars().drop_nulls().unique(
            maintain_order=True).head(50).to_list()
        result.statuses = {v: status_of(v) for v in values
                           if v and v.lower() not in ORDER_STATUSES}
        return
    # No status column: a cancelled or shipped date says it; else paid; else pending.
    cases: list[dict[str, str]] = []
    used = {c for g in result.guesses.values() for c in g.columns}
    for status in ("cancelled", "shipped"):
        for column in result.header:
            names = {normalise(n) for n in synonyms().status_dates.get(status, ())}
            if column not in used and normalise(column) in names:
                cases.append({"column": column, "present": status})
                break
    paid = result.guesses.get("paid_at")
    if paid is not None:
        cases.append({"column": paid.columns[0], "present": "paid"})
    order = result.guesses.get("order_id")
    if cases and order is not None:
        # Every line has an order number: the last case is the "otherwise".
        cases.append({"column": order.columns[0], "present": "pending_payment"})
        result.guesses["order_status"] = Guess(
            "order_status", tuple(c["column"] for c in cases), 0.6,
            "no status column: drawn from which dates are filled in (the last case, the "
            "order number, is there on every line: pending payment otherwise)",
            how="cases", options=(("cases", cases),))
    else:
        result.constants["order_status"] = ("completed", "CHECK: no status column found; "
                                             "every line gets this status")


def _parse_options(result: Suggestion, shapes: dict[str, Shape]) -> None:
    formats: list[str] = []
    for name in ("ordered_at", "paid_at"):
        guess = result.guesses.get(name)
        if guess is not None and guess.how == "column":
            formats += [f for f in shapes[guess.columns[0]].formats if f not in formats]
    result.datetime_formats = tuple(formats)
    delivery = result.guesses.get("requested_delivery_date")
    if delivery is not None:
        result.date_formats = tuple(dict.fromkeys(
            re.split(r"[ T]%[HI]", f)[0] for f in shapes[delivery.columns[0]].formats))
    chinese = sum(has_cjk(c) for c in result.header) > len(result.header) / 3
    if formats and all("%z" in f for f in formats):
        result.timezone = (None, "timestamps carry their UTC offset")
    elif chinese:
        result.timezone = ("Asia/Shanghai", "Chinese headers: China time (CHECK)")
    else:
        result.timezone = ("UTC", "CHECK: the zone the export's times are in")
    if chinese:
        result.phone_region = ("CN", "Chinese headers")
        return
    country = result.guesses.get("ship_country")
    if country is not None and shapes[country.columns[0]].examples:
        codes = pl.Series(shapes[country.columns[0]].examples).to_frame("c").select(
            parse_country(pl.col("c").str.strip_chars())).to_series().drop_nulls().to_list()
        if codes and codes[0] in PHONE_REGIONS:
            result.phone_region = (codes[0], f"ship-to countries start with {codes[0]}; "
                                   "phones with their own +code keep it")


def _constants(result: Suggestion, shapes: dict[str, Shape]) -> None:
    chinese = sum(has_cjk(c) for c in result.header) > len(result.header) / 3
    if "currency" not in result.guesses:
        signs = {shapes[g.columns[0]].symbol for g in result.guesses.values()
                 if field_kind(g.field) == "money" and g.how == "column"}
        signs.discard(None)
        if len(signs) == 1:
            sign = signs.pop()
            result.constants["currency"] = (SYMBOLS[str(sign)], f"amounts carry {sign}")
        elif chinese:
            result.constants["currency"] = ("CNY", "Chinese headers and no currency column")
        else:
            result.constants["currency"] = ("USD", "CHECK: no currency column or sign found")
    if "ship_country" not in result.guesses and chinese:
        result.constants["ship_country"] = ("CN", "Chinese headers and no country column")


def _footer(table: RawTable) -> str | None:
    """Lines under the table (totals, "12 record(s) downloaded"): rows at the end with a
    value in the first column and next to nothing else."""
    if table.frame.height < 2 or not table.header:
        return None
    tail = table.frame.tail(5).select(table.header)
    patterns: list[str] = []
    for row in tail.iter_rows():
        cells = [c for c in row if c and c.strip()]
        first = (row[0] or "").strip()
        if first and len(cells) <= max(1, len(table.header) // 8):
            prefix = re.escape(first[:12]).replace("\\ ", " ")
            pattern = re.sub(r"\d+", r"\\d+", prefix)
            if pattern not in patterns:
                patterns.append(pattern)
        elif patterns:  # a full row after a footer: that was not a footer
            patterns = []
    return f"^({'|'.join(patterns)})" if patterns else None


def _carry_forward(result: Suggestion, sample: pl.DataFrame) -> tuple[str | None, list[str]]:
    """Multi-line orders whose order-level columns are filled on the first line only."""
    order = result.guesses.get("order_id")
    if order is None or sample.height < 2:
        return None, []
    key = order.columns[0]
    if sample[key].n_unique() == sample.height:
        return None, []
    columns = sorted({c for g in result.guesses.values() for c in g.columns} - {key})
    first = pl.int_range(pl.len()).over(key) == 0
    blank = [pl.col(c).str.strip_chars().fill_null("") == "" for c in columns]
    counts = sample.select([
        ((b & ~first & pl.col(c).first().over(key).str.strip_chars().fill_null("").ne(""))
         .sum()).alias(c) for c, b in zip(columns, blank, strict=True)]).row(0, named=True)
    carried = [c for c in columns if counts[c]]
    # One or two such columns are lines that differ (a gift on one line only); an export
    # that fills order-level columns on the first line only leaves many blank.
    return (key, carried) if len(carried) >= 3 else (None, [])


def _signature(result: Suggestion, mappings: list[Mapping]) -> list[str]:
    """Distinctive header names: mapped columns other channels do not read, the order
    number's first, then the longest names (short ones like "SKU" are everywhere)."""
    elsewhere = {normalise_name(c) for m in mappings
                 for c in (*m.header_contains, *m.used_columns)}
    order = result.guesses.get("order_id")
    mapped = [c for g in result.guesses.values() for c in g.columns]
    names = list(dict.fromkeys((order.columns if order else ()) + tuple(mapped)))
    names += [c for c in result.header if c not in names and not c.startswith("column_")]
    # A repeated header name is numbered by the reader ("Order ID (2)"): the file itself
    # never says that, so it cannot recognise the file.
    renamed = {c for c in result.header
               if (m := re.fullmatch(r"(.+) \((\d+)\)", c)) and m.group(1) in result.header}
    distinct = [c for c in names if normalise_name(c) not in elsewhere and c not in renamed]
    head, rest = distinct[:1], sorted(distinct[1:], key=lambda c: -len(normalise(c)))
    chosen = (head + rest)[:SIGNATURE_SIZE]
    return chosen or result.header[:SIGNATURE_SIZE]


def _recognises(mapping: Mapping, header: list[str]) -> bool:
    cells = {normalise_name(c) for c in header}
    return {normalise_name(s) for s in mapping.header_contains} <= cells

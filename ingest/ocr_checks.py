"""Checks, the fifth stage: routing the lines OCR read, so that no misread passes silently.

An OCR line that looks clean is not checked by anyone, so a misread quantity or SKU must
not look clean. Measured on faxed POs (shared notes): confidence routes badly (at 80 it
sends 29 % of right clean rows to review and still passes wrong ones), business checks
route well. A line read by OCR (``ocr:engine`` names an OCR engine; a PDF's text layer is
not OCR) goes to review with a reason when:

- ``ocr-amount-mismatch``: quantity × unit price ≠ its amount as read;
- ``ocr-line-sequence``: its line number is not the next one of its PO;
- ``unknown-sku``: its SKU, once snapped to the product list, is not in it; without a
  product list every OCR'd SKU is unverified and its line goes to review;
- ``ocr-total-mismatch``: no line of its PO was flagged, yet the lines do not add up to the
  printed total (``order_total``), or that total could not be read: a row shifted or lost
  whole is consistent by itself, and only the total shows it.

These are the reader's verdict on the row (``__reader_code``): a row the reading cannot
vouch for gets that reason alone, as a damaged row of a text file does, and its PO is held
back whole (``incomplete-order``). One reason per row, the first of the list above; the
message names every finding.

**The SKU snap**: a read SKU that is not in the list is replaced by the list's nearest
entry when it is clearly nearest (an edit distance in which look-alikes such as S/5, T/1,
Z/2, O/0, B/8 and ``.``/``-`` cost 0.3: at most 1.5, and 0.5 ahead of the runner-up). On
the measured faxes it fixed 59 SKUs and broke none.

The product list: ``[checks] products = "products.csv"`` in the mapping (relative to it),
else ``products`` in ordermill.toml or ``ORDERMILL_PRODUCTS``: a CSV with a ``sku`` column
(else its first column), or a text file of one SKU a line.
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from pathlib import Path

import polars as pl

from ingest.columns import RAW, READER_CODE, READER_DETAIL, ROW
from ingest.mapping.compile import expected_line_total, input_of_row
from ingest.mapping.model import Mapping
from ingest.readers.base import RawTable
from ingest.readers.scan import CONFIDENCE, ENGINE, TEXT_LAYER
from ingest.schema import MONEY

LOOK_ALIKES = ("S5", "T1", "Z2", "Z7", "O0", "B8", "I1", "L1", "G6", ".-", "D0", "Q0", "A4")
SNAP_MAX, SNAP_LEAD = 1.5, 0.5
CHECKED = ("quantity", "unit_price", "line_total", "line_no")


def products_path(mapping: Mapping) -> Path | None:
    """The mapping's product list: its own ``[checks] products``, else the configured one
    (``products`` in ordermill.toml, ``ORDERMILL_PRODUCTS``: ``ingest.api.with_products``)."""
    return Path(mapping.checks.products) if mapping.checks.products else None


@lru_cache(maxsize=8)
def _load_products(path: str, mtime: float) -> frozenset[str]:
    text = Path(path).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return frozenset()
    header = [c.strip().casefold() for c in rows[0]]
    if "sku" in header:
        column = header.index("sku")
        rows = rows[1:]
    else:
        column = 0
    return frozenset(r[column].strip() for r in rows if len(r) > column and r[column].strip())


def load_products(path: Path) -> frozenset[str]:
    return _load_products(str(path), path.stat().st_mtime)


def _cost(a: str, b: str) -> float:
    pairs = {frozenset(p) for p in LOOK_ALIKES}
    previous = [float(j) for j in range(len(b) + 1)]
    for i, x in enumerate(a, start=1):
        current = [float(i)]
        for j, y in enumerate(b, start=1):
            swap = 0.0 if x == y else 0.3 if frozenset((x, y)) in pairs else 1.0
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + swap))
        previous = current
    return previous[-1]


def snap(sku: str, products: frozenset[str]) -> str | None:
    """The product list's entry a read SKU clearly is, or None."""
    if sku in products:
        return sku
    scored = sorted((_cost(sku, p), p) for p in products if abs(len(p) - len(sku)) <= 2)
    if not scored or scored[0][0] > SNAP_MAX:
        return None
    if len(scored) > 1 and scored[1][0] - scored[0][0] < SNAP_LEAD:
        return None
    return scored[0][1]


def route(typed: pl.DataFrame, raw: RawTable, mapping: Mapping) -> pl.DataFrame:
    """``typed`` (the mapped rows, with ``__row``) with the OCR'd rows' verdicts set in
    ``__reader_code`` / ``__reader_detail`` where the reader left them empty."""
    if ENGINE not in raw.frame.columns or typed.is_empty():
        return typed
    read = raw.frame.select(ROW, ENGINE, CONFIDENCE)
    frame = typed.join(read, on=ROW, how="left", maintain_order="left")
    ocr = pl.col(ENGINE).is_not_null() & (pl.col(ENGINE) != TEXT_LAYER)
    if not frame.select(ocr.any()).item():
        return typed
    mapped = {c[len(RAW):] for c in typed.columns if c.startswith(RAW)}
    path = products_path(mapping)
    products = load_products(path) if path is not None else None
    if products and "sku" in mapped:
        read_skus = frame.filter(ocr)["sku"].drop_nulls().unique().to_list()
        snaps = {s: found for s in read_skus if (found := snap(s, products)) not in (None, s)}
        if snaps:
            frame = frame.with_columns(pl.when(ocr).then(pl.col("sku").replace(snaps))
                                       .otherwise(pl.col("sku")).alias("sku"))
    findings = [f for f in (_amount(mapped), _sequence(mapped),
                            _sku(mapped, products, path)) if f is not None]
    names = [f"__f{i}" for i in range(len(findings))]
    frame = frame.with_columns(
        *[pl.when(ocr).then(detail).alias(name)
          for name, (_, detail) in zip(names, findings, strict=True)])
    codes = [code for code, _ in findings]
    unparsed = pl.any_horizontal([pl.col(RAW + f).is_not_null() & pl.col(f).is_null()
                                  for f in CHECKED if f in mapped]
                                 or [pl.lit(False)])
    flagged = pl.any_horizontal([pl.col(n).is_not_null() for n in names] or [pl.lit(False)])
    flagged = flagged | pl.col(READER_CODE).is_not_null() | unparsed
    if "order_total" in mapped and "line_total" in mapped:
        frame = frame.with_columns(_total_by_digits(mapped, ocr))
    total = _total(mapped, flagged)
    if total is not None:
        frame = frame.with_columns(pl.when(ocr).then(total).alias("__total"))
        names.append("__total")
        codes.append("ocr-total-mismatch")
    code = pl.lit(None, pl.String)
    for name, found in reversed(list(zip(names, codes, strict=True))):
        code = pl.when(pl.col(name).is_not_null()).then(pl.lit(found)).otherwise(code)
    detail = pl.concat_str([pl.col(n) for n in names], separator=" | ", ignore_nulls=True)
    confidence = pl.concat_str([pl.lit(" (OCR: lowest cell confidence "),
                                pl.col(CONFIDENCE), pl.lit(")")])
    detail = pl.concat_str([detail, confidence.fill_null("")])
    empty = pl.col(READER_CODE).is_null()
    frame = frame.with_columns(
        pl.when(empty).then(code).otherwise(pl.col(READER_CODE)).alias(READER_CODE),
        pl.when(empty & code.is_not_null()).then(detail).otherwise(pl.col(READER_DETAIL))
        .alias(READER_DETAIL))
    return frame.select(typed.columns)


def _text(*parts: str | pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p.cast(pl.String)
                          for p in parts])


Finding = tuple[str, pl.Expr]


def _po(mapped: set[str]) -> list[pl.Expr]:
    """A PO's lines: its number within its input (small inputs are mapped together,
    ``ingest.together``: two scans may both have lost their PO number)."""
    return [pl.col("order_id"), input_of_row()] if "order_id" in mapped else [input_of_row()]


def _amount(mapped: set[str]) -> Finding | None:
    if not {"quantity", "unit_price", "line_total"} <= mapped:
        return None
    expected = expected_line_total().cast(MONEY, strict=False)
    wrong = expected.is_not_null() & pl.col("line_total").is_not_null() & (
        expected != pl.col("line_total"))
    return "ocr-amount-mismatch", pl.when(wrong).then(_text(
        "quantity ", pl.col("quantity"), " × unit price ", pl.col("unit_price"), " = ",
        expected, ", but the amount reads ", pl.col("line_total"),
        ": one of them was misread"))


def _sequence(mapped: set[str]) -> Finding | None:
    if "line_no" not in mapped:
        return None
    position = pl.int_range(1, pl.len() + 1, dtype=pl.Int64)
    expected = position.over(_po(mapped))
    line = pl.col("line_no")
    wrong = line.is_null() | (line != expected)
    return "ocr-line-sequence", pl.when(wrong).then(_text(
        "line number reads ", line.cast(pl.String).fill_null("(nothing)"), " where ",
        expected, " comes next: a row may have been lost, merged or shifted"))


def _sku(mapped: set[str], products: frozenset[str] | None, path: Path | None
         ) -> Finding | None:
    if "sku" not in mapped:
        return None
    sku = pl.col("sku")
    if products is None:
        return "unknown-sku", pl.when(sku.is_not_null()).then(_text(
            "SKU ", sku, " was read by OCR and no product list is configured ([checks] "
            "products in the mapping, products in ordermill.toml or ORDERMILL_PRODUCTS): "
            "it cannot be verified"))
    return "unknown-sku", pl.when(sku.is_not_null() & ~sku.is_in(sorted(products))).then(
        _text("SKU ", sku, f" (as read) is not in the product list {path}"))


def _total_by_digits(mapped: set[str], ocr: pl.Expr) -> pl.Expr:
    """The printed total, where OCR misread its separators (``542.509.01``,
    ``2.998,803.39`` on standard faxes) so that it did not parse, taken as the lines' sum
    when it holds the same digits in the same order: a printed total always has two
    decimals, as the sum has, so the same digits are the same amount. Otherwise as parsed
    (a total still unread sends its PO to review, ``_total``)."""
    lines = pl.col("line_total").sum().over(_po(mapped)).cast(MONEY, strict=False)
    digits = pl.col(RAW + "order_total").str.replace_all(r"\D", "")
    same = (ocr & pl.col("order_total").is_null() & (digits != "")
            & (digits == lines.cast(pl.String).str.replace_all(r"\D", "")))
    return pl.when(same).then(lines).otherwise(pl.col("order_total")).alias("order_total")


def _total(mapped: set[str], flagged: pl.Expr) -> pl.Expr | None:
    if "order_total" not in mapped or "line_total" not in mapped:
        return None
    lines = pl.col("line_total").sum().over(_po(mapped)).cast(MONEY, strict=False)
    any_flagged = flagged.any().over(_po(mapped))
    stated = pl.col("order_total")
    unread = stated.is_null()
    wrong = ~any_flagged & (unread | (lines != stated))
    return pl.when(wrong).then(pl.when(unread).then(pl.lit(
        "the PO's printed total could not be read, so its lines cannot be checked against "
        "it")).otherwise(_text("the lines add up to ", lines, " but the PO's printed total "
                               "reads ", stated, ": a row may have been lost, shifted or "
                               "misread")))

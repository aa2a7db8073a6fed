"""Mapping and checks, the fourth and fifth stages, per table: raw rows in, lines out.

One table is a whole input or a piece of a big one (``ingest.pieces``); either way it is
mapped (``ingest.mapping.compile``), checked row by row (``ingest.checks``) and its passed
lines are hashed for dedupe (``ingest.dedupe``). Every row keeps its identity, ``__row``
(the row a person sees in a spreadsheet), in everything that comes out.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ingest.checks import ID, check_rows
from ingest.columns import RAW, WAITING
from ingest.dedupe import FIELD_HASHES, LINE_HASHES, hash_lines
from ingest.mapping.compile import compile_mapping
from ingest.mapping.model import Mapping
from ingest.mapping.orders import ShapedTable
from ingest.ocr_checks import route as route_ocr
from ingest.readers.base import ROW
from ingest.rules.apply import HOLD_RULE, apply_rules
from ingest.rules.counts import count_hits
from ingest.schema import RULE_FIELDS


@dataclass(frozen=True)
class CheckedTable:
    """One table mapped and row-checked."""

    # __row, the typed standard columns, FIELD_HASHES and LINE_HASHES of the passed rows
    passed: pl.DataFrame
    hashes: pl.DataFrame  # __row and LINE_HASHES of the passed rows
    reasons: pl.DataFrame  # __row, codes, messages of the rejected rows
    rejected_orders: pl.DataFrame  # __row, order_id, customer of the rejected rows
    touched: pl.Series  # __row of every row whose order has a rejected line (incl. them)
    order_ids: pl.Series  # the distinct order numbers of the table
    # __row, order_id, field, code, value, message: one row per warning (``checks.WARNINGS``)
    warnings: pl.DataFrame
    waiting: int  # rows of orders not complete yet (``[waiting]``): neither checked nor kept
    missing_columns: tuple[str, ...]
    form: dict[str, str | None]
    waiting_rows: pl.Series  # __row of the waiting rows (``waiting`` of them)
    # The order rules' counts over the lines that can be output (``ingest.rules.counts``)
    # and how many lines an order rule holds; None and 0 without rules.
    rule_counts: pl.DataFrame | None = None
    held: int = 0


def map_and_check(table: ShapedTable, mapping: Mapping, default_timezone: str,
                  form: dict[str, pl.Expr] | None = None, together: bool = False
                  ) -> CheckedTable:
    """Map a table into typed standard columns, run the one-row checks, hash passed lines.
    ``form``, ``together``: see ``compile_mapping``."""
    compiled = compile_mapping(mapping, table, default_timezone, form, together)
    typed = compiled.frame.with_columns(pl.col(ROW).alias(ID)).collect()
    # Orders not complete yet wait for the export that carries them whole: they are counted,
    # not checked (a missing price is no fault of theirs), and not hashed, so nothing
    # remembers them.
    order_ids = typed["order_id"].unique()  # (waiting orders too: pieces hold whole orders)
    waiting = int(typed[WAITING].sum())
    waiting_rows = typed.filter(pl.col(WAITING))[ROW] if waiting else typed[ROW].clear()
    if waiting:
        typed = typed.filter(~pl.col(WAITING))
    typed = route_ocr(typed, table.table, mapping)  # (lines read by OCR only)
    outcome = check_rows(typed, compiled.labels, compiled.mapped, compiled.divided,
                         mapping.checks.errors, mapping.checks.prices_include_tax, together)
    reasons = outcome.reasons.rename({ID: ROW})
    warnings = outcome.warnings.rename({ID: ROW}).join(
        typed.select(ROW, "order_id"), on=ROW, how="left", maintain_order="left").select(
        ROW, "order_id", "field", "code", "value", "message")
    passed_mask, reasons, ruled, hits = outcome.passed, reasons, None, None
    if mapping.rules is not None and mapping.rules.rules:
        passed_mask, reasons, ruled, hits = _rules(typed, passed_mask, reasons, mapping)
    rejected_orders = typed.select(ROW, "order_id", _customer(typed)).filter(~passed_mask)
    in_touched = ~passed_mask | pl.col("order_id").is_in(
        rejected_orders["order_id"].drop_nulls().implode())
    touched = typed.filter(in_touched)[ROW]
    rule_counts, held = None, 0
    if ruled is not None and hits is not None and mapping.rules is not None:
        # Counted here, in the rules' pass, over the lines that can be output: not of an
        # order with a rejected line (held back whole), not held for approval.
        on_hold = ruled[HOLD_RULE].is_not_null()
        held = int(on_hold.sum())
        mates = typed.select(in_touched).to_series().filter(passed_mask)
        passed_orders = typed["order_id"].filter(passed_mask)
        rule_counts = count_hits(hits, passed_orders, ~(mates | on_hold),
                                 mapping.rules.rules.rules)
    missing_columns, found = compiled.missing_columns, compiled.form
    # Let go of the source texts the values were parsed from before the passed rows are
    # copied out: only the standard columns are alive at the peak.
    standard = typed.select(ROW, *_standard(typed))
    del typed, compiled
    passed = standard.filter(passed_mask)
    del standard
    passed = passed.hstack(ruled.get_columns()) if ruled is not None else passed.with_columns(
        pl.lit(None, pl.String).alias(name) for name in RULE_FIELDS)
    # Lines are hashed here, a table at a time, not batch-wide: the casts the hashes need
    # stay the size of a piece.
    scopes = {mapping.channel: mapping.key_scope} if mapping.key_scope else {}
    hashes = hash_lines(passed.with_columns(pl.lit(mapping.channel).alias("channel")), scopes)
    # The hashes travel with the lines: read back only when the lines are written (as the
    # key file's rows) or, for the few updates, to name the changed fields. The line hashes
    # are also kept in memory, small, for the batch-wide verdict.
    lines = passed.hstack(hashes.select(*FIELD_HASHES, *LINE_HASHES).get_columns())
    return CheckedTable(lines, hashes.select(passed[ROW], *LINE_HASHES), reasons,
                        rejected_orders, touched, order_ids, warnings, waiting,
                        missing_columns, found, waiting_rows, rule_counts, held)


def _customer(typed: pl.DataFrame) -> pl.Expr:
    """Whose row it is, for the daily report's customers with rejects: the buyer's account,
    else the buyer's name (a PO's customer), as mapped; null when the mapping has neither."""
    present = [pl.col(name) for name in CUSTOMER_FIELDS if name in typed.columns]
    return (pl.coalesce(present) if present else pl.lit(None, pl.String)).alias("customer")


CUSTOMER_FIELDS = ("buyer_id", "buyer_name")


def _rules(typed: pl.DataFrame, passed: pl.Series, reasons: pl.DataFrame, mapping: Mapping
           ) -> tuple[pl.Series, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The order rules over the lines that passed the row checks (``ingest.rules``): the
    lines a reject rule refuses join the rejected, with the rule's name as their code (so
    their orders are held back whole like any other); the others get the rules' columns
    (routing, flags, the order's hold) and their hits (one Boolean column per rule),
    returned in the passed lines' order."""
    assert mapping.rules is not None
    candidates = typed.filter(passed)
    applied = apply_rules(candidates, mapping.rules, mapping.channel, ROW)
    columns = applied.columns.with_columns(pl.lit(None, pl.String).alias("merge_group"))
    if not applied.rejected.any():
        return passed, reasons, columns, applied.hits
    refused = applied.rejects.select(ROW, "codes", "messages")
    reasons = pl.concat([reasons, refused.cast(reasons.schema)]).sort(ROW)
    passed = passed & ~typed[ROW].is_in(refused[ROW].implode())
    kept = ~applied.rejected
    return passed, reasons, columns.filter(kept), applied.hits.filter(kept)


def _standard(typed: pl.DataFrame) -> list[str]:
    return [c for c in typed.columns if not c.startswith((RAW, "__"))]

"""Checks, the rules run: every rule over the lines that passed the row checks, in order.

Whole-column work: the reference tables are joined once, every rule's condition is computed
in one pass, and then, rule by rule in order, which lines each hits (a rule that stops, and
every reject, leaves the lines it hits alone for the rules after it). Out come the routing
fields (``warehouse``, ``priority``), the ``flags``, the hold of each order (its first hold
rule, who approves) and the lines a reject rule refuses, with the rule's name as their code.
A hold always takes the whole order, as a reject does (the ERP never gets half an order).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from ingest.rules.compile import ORDER_KEY, ref_column
from ingest.rules.model import Rule, RuleSet, compile_condition, message_expr
from ingest.rules.reference import NO_REFERENCE, Reference

HOLD_RULE = "__hold_rule"
HOLD_APPROVER = "__hold_approver"
HOLD_MESSAGE = "__hold_message"
RULES_HIT = "__rules"  # the hold, flag and set rules that hit the line, ";"-joined
RULE_COLUMNS = ("warehouse", "priority", "flags", HOLD_RULE, HOLD_APPROVER, HOLD_MESSAGE,
                RULES_HIT)


@dataclass(eq=False)
class RuleRun:
    """The rules of one run with its reference data and its moment ("today" for
    ``days_until``): compiled once, applied to every table."""

    rules: RuleSet
    reference: Reference = NO_REFERENCE
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        self.conditions = [compile_condition(rule, self.now).expr for rule in self.rules.rules]
        self.messages = [message_expr(rule, self.now) for rule in self.rules.rules]


@dataclass(frozen=True)
class Applied:
    """The rules' outcome over a frame of lines (same rows, same order)."""

    columns: pl.DataFrame  # RULE_COLUMNS, one row per line
    rejected: pl.Series  # Boolean: rejected by a rule
    rejects: pl.DataFrame  # the key column, code, message: one row per rejected line
    hits: pl.DataFrame  # one Boolean column per rule (its name): the lines it hit


def _scoped(rule: Rule, condition: pl.Expr) -> pl.Expr:
    hit = condition.fill_null(False)
    if rule.scope == "order-any":
        return hit.any().over(ORDER_KEY)
    if rule.scope == "order-all":
        return hit.all().over(ORDER_KEY)
    return hit


def apply_rules(frame: pl.DataFrame, run: RuleRun, channel: str, key: str) -> Applied:
    """Run every rule over ``frame`` (typed standard columns and ``key``, each line's
    identity) of one channel."""
    rules = run.rules.rules
    work = frame.with_columns(pl.lit(channel).alias("channel")) \
        if "channel" not in frame.columns else frame
    work = run.reference.join(work, run.rules.tables)
    raw = work.lazy().select(
        pl.col(key), *[_scoped(rule, cond).alias(f"r{i}")
                       for i, (rule, cond) in enumerate(zip(rules, run.conditions,
                                                            strict=True))])
    # In order: a line hit by a rule that stops (or rejects) is left alone by later ones.
    alive: pl.Expr = pl.lit(True)
    hits: list[pl.Expr] = []
    for i, rule in enumerate(rules):
        one = pl.col(f"r{i}") & alive
        hits.append(one.alias(rule.name))
        if rule.stop or rule.action == "reject":
            alive = alive & ~pl.col(f"r{i}")
    hit_frame = raw.select(pl.col(key), *hits).collect()
    hit: dict[str, pl.Expr] = {rule.name: pl.col(rule.name) for rule in rules}
    columns: list[pl.Expr] = []
    for target in ("warehouse", "priority"):
        setters = [(hit[r.name], value) for r in rules if r.action == "set"
                   for name, value in r.sets if name == target]
        expr: pl.Expr = pl.lit(None, pl.String)
        for condition, value in setters:  # (the last rule that sets it wins)
            expr = pl.when(condition).then(pl.lit(value)).otherwise(expr)
        columns.append(expr.alias(target))
    flags = [pl.when(hit[r.name]).then(pl.lit(r.flag)) for r in rules if r.action == "flag"]
    columns.append(_joined(flags).alias("flags"))
    holds = [r for r in rules if r.action == "hold"]
    hold_index = {r.name: i for i, r in enumerate(rules)}
    values: list[tuple[str, Callable[[Rule, int], pl.Expr]]] = [
        (HOLD_RULE, lambda r, i: pl.lit(r.name)),
        (HOLD_APPROVER, lambda r, i: pl.lit(r.approver)),
        (HOLD_MESSAGE, lambda r, i: pl.col(f"__m{i}"))]
    for out_name, make in values:
        held: pl.Expr = pl.lit(None, pl.String)
        for rule in reversed(holds):  # (an order's first hold rule, in rule order)
            i = hold_index[rule.name]
            held = pl.when(hit[rule.name].any().over(ORDER_KEY)).then(make(rule, i)) \
                .otherwise(held)
        columns.append(held.alias(out_name))
    named = [pl.when(hit[r.name]).then(pl.lit(r.name)) for r in rules if r.action != "reject"]
    columns.append(_joined(named).alias(RULES_HIT))
    messages = [run.messages[hold_index[r.name]].alias(f"__m{hold_index[r.name]}")
                for r in holds]
    with_orders = hit_frame.with_columns(work[ORDER_KEY].alias(ORDER_KEY))
    if messages:
        # (with_columns: a message without placeholders is a literal, one per line)
        with_orders = with_orders.hstack(work.with_columns(messages).select(
            [f"__m{hold_index[r.name]}" for r in holds]).get_columns())
    applied = with_orders.lazy().select(*columns).collect()
    rejecting = [(r, hold_index[r.name]) for r in rules if r.action == "reject"]
    rejected = (hit_frame.select(pl.any_horizontal([hit[r.name] for r, _ in rejecting]))
                .to_series() if rejecting else pl.Series([False] * frame.height))
    rejects = _rejects(work, hit_frame, rejecting, run, key, rejected)
    return Applied(applied, rejected.fill_null(False), rejects, hit_frame.drop(key))


def _joined(parts: Sequence[pl.Expr]) -> pl.Expr:
    if not parts:
        return pl.lit(None, pl.String)
    text = pl.concat_str(parts, separator=";", ignore_nulls=True)
    return pl.when(text == "").then(None).otherwise(text)


def _rejects(work: pl.DataFrame, hits: pl.DataFrame, rejecting: list[tuple[Rule, int]],
             run: RuleRun, key: str, rejected: pl.Series) -> pl.DataFrame:
    """key, codes, messages of the lines a reject rule hit (built for those lines only).
    A line is hit by one reject rule at most: a reject leaves its lines to no later rule."""
    schema = {key: work.schema[key], "codes": pl.String(), "messages": pl.String()}
    if not rejecting or not rejected.any():
        return pl.DataFrame(schema=schema)
    failing = work.filter(rejected).hstack(
        hits.filter(rejected).select([r.name for r, _ in rejecting]).rename(
            {r.name: f"__hit{i}" for r, i in rejecting}).get_columns())
    code: pl.Expr = pl.lit(None, pl.String)
    text: pl.Expr = pl.lit(None, pl.String)
    for rule, i in reversed(rejecting):
        code = pl.when(pl.col(f"__hit{i}")).then(pl.lit(rule.name)).otherwise(code)
        text = pl.when(pl.col(f"__hit{i}")).then(
            pl.concat_str([run.messages[i], pl.lit(f" (rule {rule.name})")])).otherwise(text)
    return failing.select(pl.col(key), code.alias("codes"), text.alias("messages"))


def reference_columns(run: RuleRun) -> list[str]:
    """The hidden columns the reference join adds (dropped after the rules ran)."""
    from ingest.rules.compile import REFERENCE_FIELDS
    return [ref_column(t, c) for t in run.rules.tables for c in REFERENCE_FIELDS[t]]

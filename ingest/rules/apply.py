"""Checks, the rules run: every rule over the lines that passed the row checks, in order.

Whole-column work: the reference tables are joined once, every rule's condition is computed
in one pass, and then, rule by rule in order, which lines each hits (a rule that stops, and
every reject, leaves the lines it hits alone for the rules after it). Out come the routing
fields (``warehouse``, ``priority``), the ``flags``, the hold of each order (its first hold
rule, who approves) and the lines a reject rule refuses, with the rule's name as their code.
A hold always takes the whole order, as a reject does (the ERP never gets half an order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

import polars as pl

from ingest.rules.compile import ORDER_KEY, ref_column
from ingest.rules.model import Rule, RuleSet, compile_condition, message_expr
from ingest.rules.reference import NO_REFERENCE, Reference

HOLD_RULE = "__hold_rule"
HOLD_APPROVER = "__hold_approver"
HOLD_MESSAGE = "__hold_message"
RULES_HIT = "__rules"  # the hold, flag and set rules that hit the line, ";"-joined
# The rules' pass runs on polars' in-memory engine: the table is in memory already, and the
# streaming engine (the default of ``collect``) computes the order windows (``over``) 3-4
# times slower (measured: bench/README.md, "Order rules").
ENGINE: Final = "in-memory"
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


def _scoped(rule: Rule, name: str) -> pl.Expr:
    """A rule's hit on each line from its condition's column: an order scope is one window
    over materialised booleans (a window over a condition that holds an order function
    itself, ``sum(quantity)``, would nest windows: 15 times slower)."""
    if rule.scope == "order-any":
        return pl.col(name).any().over(ORDER_KEY)
    if rule.scope == "order-all":
        return pl.col(name).all().over(ORDER_KEY)
    return pl.col(name)


def apply_rules(frame: pl.DataFrame, run: RuleRun, channel: str, key: str) -> Applied:
    """Run every rule over ``frame`` (typed standard columns and ``key``, each line's
    identity) of one channel.

    One lazy plan, collected once, in four projections, each over the columns the one
    before made: every rule's condition; the scopes (one window per order-scope rule); the
    hits in rule order (a rule that stops, and every reject, leaves its lines to no later
    rule); then what the hits make: routing fields, flags, the order's hold, the rules that
    hit the line. Messages are built afterwards for the lines that need one only (held or
    rejected lines)."""
    rules = run.rules.rules
    lazy = frame.lazy()
    if "channel" not in frame.columns:
        lazy = lazy.with_columns(pl.lit(channel).alias("channel"))
    lazy = run.reference.join(lazy, run.rules.tables)
    conditions = lazy.select(
        pl.col(key), pl.col(ORDER_KEY),
        *[cond.fill_null(False).alias(f"__c{i}") for i, cond in enumerate(run.conditions)])
    scoped = conditions.select(
        pl.col(key), pl.col(ORDER_KEY),
        *[_scoped(rule, f"__c{i}").alias(f"__s{i}") for i, rule in enumerate(rules)])
    # In order: a line hit by a rule that stops (or rejects) is left alone by later ones.
    alive: pl.Expr | None = None
    hits: list[pl.Expr] = []
    for i, rule in enumerate(rules):
        mine = pl.col(f"__s{i}")
        hits.append((mine if alive is None else mine & alive).alias(rule.name))
        if rule.stop or rule.action == "reject":
            alive = ~mine if alive is None else alive & ~mine
    hit_lazy = scoped.select(pl.col(key), pl.col(ORDER_KEY), *hits)
    hit: dict[str, pl.Expr] = {rule.name: pl.col(rule.name) for rule in rules}
    holds = [r for r in rules if r.action == "hold"]
    outcome = hit_lazy.with_columns(
        *_routing(rules, hit), _joined([pl.when(hit[r.name]).then(pl.lit(r.flag))
                                        for r in rules if r.action == "flag"]).alias("flags"),
        *_holds(holds, hit),
        _joined([pl.when(hit[r.name]).then(pl.lit(r.name)) for r in rules
                 if r.action != "reject"]).alias(RULES_HIT)).with_columns(
        _approver(holds)).collect(engine=ENGINE)
    hit_frame = outcome.select(key, *[r.name for r in rules])
    rejecting = [(r, i) for i, r in enumerate(rules) if r.action == "reject"]
    rejected = (outcome.select(pl.any_horizontal([hit[r.name] for r, _ in rejecting]))
                .to_series() if rejecting else pl.Series([False] * frame.height))
    applied = outcome.select(*[c for c in RULE_COLUMNS if c != HOLD_MESSAGE])
    applied = applied.with_columns(_hold_messages(frame, outcome, run, holds, key)
                                   .alias(HOLD_MESSAGE)).select(RULE_COLUMNS)
    rejects = _rejects(frame, hit_frame, rejecting, run, key, rejected, channel)
    return Applied(applied, rejected.fill_null(False), rejects, hit_frame.drop(key))


def _routing(rules: Sequence[Rule], hit: dict[str, pl.Expr]) -> list[pl.Expr]:
    """``warehouse`` and ``priority``: the value of the last set rule that hit the line."""
    columns: list[pl.Expr] = []
    for target in ("warehouse", "priority"):
        setters = [(hit[r.name], value) for r in rules if r.action == "set"
                   for name, value in r.sets if name == target]
        expr: pl.Expr = pl.lit(None, pl.String)
        for condition, value in setters:  # (the last rule that sets it wins)
            expr = pl.when(condition).then(pl.lit(value)).otherwise(expr)
        columns.append(expr.alias(target))
    return columns


def _holds(holds: Sequence[Rule], hit: dict[str, pl.Expr]) -> list[pl.Expr]:
    """The order's first hold rule (in rule order): one window per hold rule (who approves
    follows from it; the message is built afterwards, for held lines only)."""
    rule: pl.Expr = pl.lit(None, pl.String)
    for r in reversed(holds):
        rule = pl.when(hit[r.name].any().over(ORDER_KEY)).then(pl.lit(r.name)).otherwise(rule)
    return [rule.alias(HOLD_RULE)]


def _approver(holds: Sequence[Rule]) -> pl.Expr:
    if not holds:
        return pl.lit(None, pl.String).alias(HOLD_APPROVER)
    return pl.col(HOLD_RULE).replace_strict(
        [r.name for r in holds], [r.approver for r in holds], default=None,
        return_dtype=pl.String).alias(HOLD_APPROVER)


def _hold_messages(frame: pl.DataFrame, outcome: pl.DataFrame, run: RuleRun,
                   holds: Sequence[Rule], key: str) -> pl.Series:
    """Each held line's message (its hold rule's, placeholders filled), null elsewhere:
    built for the held lines only."""
    held = outcome[HOLD_RULE].is_not_null() if holds else None
    if held is None or not held.any():
        return pl.Series(HOLD_MESSAGE, [None] * frame.height, pl.String)
    index = {r.name: i for i, r in enumerate(run.rules.rules)}
    lines = run.reference.join(frame.filter(held).lazy(), run.rules.tables).with_columns(
        outcome.filter(held)[HOLD_RULE].alias(HOLD_RULE))
    text: pl.Expr = pl.lit(None, pl.String)
    for r in reversed(holds):
        text = pl.when(pl.col(HOLD_RULE) == r.name).then(run.messages[index[r.name]]) \
            .otherwise(text)
    messages = lines.select(text.alias(HOLD_MESSAGE)).collect(engine=ENGINE).to_series()
    out = pl.Series(HOLD_MESSAGE, [None] * frame.height, pl.String)
    return out.scatter(held.arg_true(), messages)


def _joined(parts: Sequence[pl.Expr]) -> pl.Expr:
    if not parts:
        return pl.lit(None, pl.String)
    text = pl.concat_str(parts, separator=";", ignore_nulls=True)
    return pl.when(text == "").then(None).otherwise(text)


def _rejects(frame: pl.DataFrame, hits: pl.DataFrame, rejecting: list[tuple[Rule, int]],
             run: RuleRun, key: str, rejected: pl.Series, channel: str) -> pl.DataFrame:
    """key, codes, messages of the lines a reject rule hit (built for those lines only,
    their reference data joined again for them alone). A line is hit by one reject rule at
    most: a reject leaves its lines to no later rule."""
    schema = {key: frame.schema[key], "codes": pl.String(), "messages": pl.String()}
    if not rejecting or not rejected.any():
        return pl.DataFrame(schema=schema)
    failing = frame.filter(rejected)
    if "channel" not in failing.columns:
        failing = failing.with_columns(pl.lit(channel).alias("channel"))
    failing = run.reference.join(failing.lazy(), run.rules.tables).collect(engine=ENGINE).hstack(
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

"""Checks, the rules' compiler: a parsed condition turned into one polars expression.

Every name must be a field of the standard schema or of a reference table, every function
one of ``FUNCTIONS``; anything else is a ``RuleSyntaxError`` with its position and the
nearest name. What comes out is a whole-column expression: no Python runs per row, and a
rule can name only columns of the lines being checked, so it cannot read a file, run code
or reach the network. Text patterns (``matches``) run on Rust's regex engine, which has no
backtracking: a pattern cannot take exponential time.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl

from ingest.rules.lang import (
    MAX_LITERAL,
    Binary,
    Call,
    ListOf,
    Literal,
    Name,
    Node,
    RuleSyntaxError,
    Unary,
)
from ingest.schema import CHANGE_FIELDS, RULE_FIELDS, polars_schema

Kind = str  # text, number, bool, date, instant, list, null

# The reference tables a condition may name (``stock.available``): their fields and kinds.
REFERENCE_FIELDS: dict[str, dict[str, Kind]] = {
    "product": {"hs_code": "text", "origin": "text", "active": "bool", "name": "text"},
    "stock": {"available": "number"},
    "credit": {"limit": "number", "used": "number"},
}
ORDER_KEY = "order_id"  # the lines of one order (one channel per table)


def ref_column(table: str, name: str) -> str:
    """The hidden column a reference field is joined into."""
    return f"__ref_{table}_{name}"


def _kind_of(dtype: pl.DataType) -> Kind:
    if dtype == pl.String:
        return "text"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "instant"
    if dtype == pl.Boolean:
        return "bool"
    return "number"


# What a condition may read: the line's fields as mapped (and its channel and source); not
# what rules themselves fill or what is known only when the batch is written.
UNREADABLE = (*RULE_FIELDS, *CHANGE_FIELDS, "batch_id", "source_row")
FIELD_KINDS: dict[str, Kind] = {name: _kind_of(dtype) for name, dtype in polars_schema().items()
                                if name not in UNREADABLE}


@dataclass(frozen=True)
class Compiled:
    expr: pl.Expr
    kind: Kind
    tables: frozenset[str] = frozenset()  # reference tables named
    aggregate: bool = False  # uses a function over the order's lines


@dataclass(frozen=True)
class Context:
    """What a condition is compiled against: the moment "today" is, and the text it came
    from (for errors)."""

    text: str
    now: datetime

    @property
    def today(self) -> date:
        return self.now.astimezone(UTC).date()

    def error(self, problem: str, node: Node) -> RuleSyntaxError:
        return RuleSyntaxError(problem, node.pos, self.text)


def _need(ctx: Context, got: Compiled, kinds: tuple[Kind, ...], node: Node, what: str
          ) -> None:
    if got.kind not in (*kinds, "null"):
        raise ctx.error(f"{what} needs {' or '.join(kinds)}, not {got.kind}", node)


def _literal_text(ctx: Context, node: Node, what: str) -> str:
    if not isinstance(node, Literal) or not isinstance(node.value, str):
        raise ctx.error(f"{what} takes a text in quotes", node)
    return node.value


Fn = Callable[[Context, Call, list[Compiled]], Compiled]


def _text_test(method: str) -> Fn:
    def build(ctx: Context, call: Call, args: list[Compiled]) -> Compiled:
        _arity(ctx, call, 2)
        _need(ctx, args[0], ("text",), call.args[0], call.function)
        literal = _literal_text(ctx, call.args[1], f"{call.function}'s second argument")
        column = args[0].expr.str
        expr = {"starts_with": column.starts_with(literal),
                "ends_with": column.ends_with(literal),
                "contains": column.contains(literal, literal=True)}[method]
        return Compiled(expr, "bool", args[0].tables, args[0].aggregate)
    return build


def _matches(ctx: Context, call: Call, args: list[Compiled]) -> Compiled:
    _arity(ctx, call, 2)
    _need(ctx, args[0], ("text",), call.args[0], "matches")
    pattern = _literal_text(ctx, call.args[1], "matches' pattern")
    try:  # the pattern is compiled once here: a bad or oversized one is refused now
        pl.select(pl.lit("x").str.contains(pattern)).item()
    except Exception as exc:
        first = (str(exc).strip().splitlines() or ["invalid"])[0][:200]
        raise ctx.error(f"not a pattern ordermill can use: {first}", call.args[1]) from None
    return Compiled(args[0].expr.str.contains(pattern), "bool", args[0].tables,
                    args[0].aggregate)


def _one_text(transform: Callable[[pl.Expr], pl.Expr], kind: Kind = "text") -> Fn:
    def build(ctx: Context, call: Call, args: list[Compiled]) -> Compiled:
        _arity(ctx, call, 1)
        _need(ctx, args[0], ("text",), call.args[0], call.function)
        return Compiled(transform(args[0].expr), kind, args[0].tables, args[0].aggregate)
    return build


def _is_empty(ctx: Context, call: Call, args: list[Compiled]) -> Compiled:
    _arity(ctx, call, 1)
    value = args[0].expr
    expr = (value.str.strip_chars().fill_null("") == "") if args[0].kind == "text" \
        else value.is_null()
    return Compiled(expr, "bool", args[0].tables, args[0].aggregate)


def _days_until(ctx: Context, call: Call, args: list[Compiled]) -> Compiled:
    _arity(ctx, call, 1)
    _need(ctx, args[0], ("date", "instant"), call.args[0], "days_until")
    day = args[0].expr if args[0].kind == "date" else args[0].expr.dt.date()
    expr = (day - pl.lit(ctx.today)).dt.total_days()
    return Compiled(expr, "number", args[0].tables, args[0].aggregate)


def _hours_since(ctx: Context, call: Call, args: list[Compiled]) -> Compiled:
    _arity(ctx, call, 1)
    _need(ctx, args[0], ("instant",), call.args[0], "hours_since")
    expr = (pl.lit(ctx.now.astimezone(UTC)).cast(pl.Datetime("us", "UTC"))
            - args[0].expr).dt.total_hours()
    return Compiled(expr, "number", args[0].tables, args[0].aggregate)


def _coalesce(ctx: Context, call: Call, args: list[Compiled]) -> Compiled:
    if len(args) < 2:
        raise ctx.error("coalesce takes two or more values", call)
    kinds = {a.kind for a in args} - {"null"}
    if len(kinds) > 1:
        raise ctx.error(f"coalesce's values are of different kinds: {sorted(kinds)}", call)
    return Compiled(pl.coalesce([a.expr for a in args]), kinds.pop() if kinds else "null",
                    frozenset().union(*(a.tables for a in args)),
                    any(a.aggregate for a in args))


def _abs(ctx: Context, call: Call, args: list[Compiled]) -> Compiled:
    _arity(ctx, call, 1)
    _need(ctx, args[0], ("number",), call.args[0], "abs")
    return Compiled(args[0].expr.abs(), "number", args[0].tables, args[0].aggregate)


def _over_order(method: str, kinds: tuple[Kind, ...], result: Kind | None) -> Fn:
    """A function over every line of the order (``n_distinct(variant)``): evaluated per
    order, the same on each of its lines."""
    def build(ctx: Context, call: Call, args: list[Compiled]) -> Compiled:
        if method == "len":
            _arity(ctx, call, 0)
            return Compiled(pl.len().over(ORDER_KEY), "number", aggregate=True)
        _arity(ctx, call, 1)
        if args[0].aggregate:
            raise ctx.error(f"{call.function} of a value that is already over the order",
                            call)
        _need(ctx, args[0], kinds, call.args[0], call.function)
        expr = getattr(args[0].expr, method)()
        return Compiled(expr.over(ORDER_KEY), result or args[0].kind, args[0].tables, True)
    return build


FUNCTIONS: dict[str, tuple[Fn, str]] = {
    "starts_with": (_text_test("starts_with"), "starts_with(sku, \"FJ\"): the text begins so"),
    "ends_with": (_text_test("ends_with"), "ends_with(sku, \"-XL\")"),
    "contains": (_text_test("contains"), "contains(buyer_message, \"GSP\"): the text holds "
                 "these characters (as they are, case counts)"),
    "matches": (_matches, "matches(hs_code, \"^[0-9]{6,10}$\"): a regular expression "
                "(Rust syntax, no backtracking) is found in the text"),
    "lower": (_one_text(lambda e: e.str.to_lowercase()), "lower(text)"),
    "upper": (_one_text(lambda e: e.str.to_uppercase()), "upper(text)"),
    "trim": (_one_text(lambda e: e.str.strip_chars()), "trim(text): without spaces around"),
    "len": (_one_text(lambda e: e.str.len_chars(), "number"), "len(text): characters"),
    "is_digits": (_one_text(lambda e: e.str.contains(r"^[0-9]+$"), "bool"),
                  "is_digits(text): digits only, at least one"),
    "is_empty": (_is_empty, "is_empty(x): null, or text that is blank"),
    "days_until": (_days_until, "days_until(requested_delivery_date): whole days from the "
                   "run's date (UTC) to the date; negative when past"),
    "hours_since": (_hours_since, "hours_since(ordered_at): hours from the instant to now"),
    "coalesce": (_coalesce, "coalesce(hs_code, product.hs_code): the first non-empty"),
    "abs": (_abs, "abs(number)"),
    "n_distinct": (_over_order("n_unique", ("text", "number", "date", "instant"), "number"),
                   "n_distinct(variant): distinct values over the order's lines"),
    "lines": (_over_order("len", (), "number"), "lines(): the order's number of lines"),
    "sum": (_over_order("sum", ("number",), None), "sum(quantity): over the order's lines"),
    "min": (_over_order("min", ("number", "date", "instant"), None), "min(x) over the order"),
    "max": (_over_order("max", ("number", "date", "instant"), None), "max(x) over the order"),
    "any": (_over_order("any", ("bool",), "bool"), "any(condition): some line of the order"),
    "all": (_over_order("all", ("bool",), "bool"), "all(condition): every line of the order"),
}


def _arity(ctx: Context, call: Call, count: int) -> None:
    if len(call.args) != count:
        raise ctx.error(f"{call.function} takes {count} argument{'s' * (count != 1)}, "
                        f"not {len(call.args)}", call)


def nearest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def compile_node(node: Node, ctx: Context) -> Compiled:
    if isinstance(node, Literal):
        value = node.value
        if value is None:
            return Compiled(pl.lit(None), "null")
        if isinstance(value, bool):
            return Compiled(pl.lit(value), "bool")
        if isinstance(value, Decimal):
            number = int(value) if value == value.to_integral_value() else value
            return Compiled(pl.lit(number), "number")
        if len(value) > MAX_LITERAL:  # pragma: no cover (the tokenizer refuses it first)
            raise ctx.error("a text too long", node)
        return Compiled(pl.lit(value), "text")
    if isinstance(node, Name):
        return _name(node, ctx)
    if isinstance(node, ListOf):
        items = [compile_node(item, ctx) for item in node.items]
        if not all(isinstance(item, Literal) for item in node.items):
            raise ctx.error("a list holds literal values only", node)
        kinds = {i.kind for i in items} - {"null"}
        if len(kinds) > 1:
            raise ctx.error(f"a list of values of different kinds: {sorted(kinds)}", node)
        values = [item.value for item in node.items if isinstance(item, Literal)]
        return Compiled(pl.lit(pl.Series(values, strict=False)), "list:" + (
            kinds.pop() if kinds else "null"))
    if isinstance(node, Unary):
        operand = compile_node(node.operand, ctx)
        if node.op == "not":
            _need(ctx, operand, ("bool",), node.operand, "not")
            return Compiled(~operand.expr, "bool", operand.tables, operand.aggregate)
        _need(ctx, operand, ("number",), node.operand, "-")
        return Compiled(-operand.expr, "number", operand.tables, operand.aggregate)
    if isinstance(node, Binary):
        return _binary(node, ctx)
    if isinstance(node, Call):
        entry = FUNCTIONS.get(node.function)
        if entry is None:
            raise ctx.error(f"unknown function {node.function!r}"
                            f"{nearest(node.function, list(FUNCTIONS))}", node)
        args = [compile_node(arg, ctx) for arg in node.args]
        return entry[0](ctx, node, args)
    raise ctx.error("not a value", node)  # pragma: no cover


def _name(node: Name, ctx: Context) -> Compiled:
    if node.scope is None:
        kind = FIELD_KINDS.get(node.name)
        if kind is None:
            hint = nearest(node.name, list(FIELD_KINDS))
            if not hint and node.name in REFERENCE_FIELDS:
                hint = f" (a reference table: name a field, e.g. {node.name}." \
                       f"{next(iter(REFERENCE_FIELDS[node.name]))})"
            raise ctx.error(f"unknown field {node.name!r}{hint}", node)
        return Compiled(pl.col(node.name), kind)
    fields = REFERENCE_FIELDS.get(node.scope)
    if fields is None:
        raise ctx.error(f"unknown reference table {node.scope!r}"
                        f"{nearest(node.scope, list(REFERENCE_FIELDS))}", node)
    kind = fields.get(node.name)
    if kind is None:
        raise ctx.error(f"{node.scope} has no field {node.name!r}"
                        f"{nearest(node.name, list(fields))}; it has: {', '.join(fields)}",
                        node)
    return Compiled(pl.col(ref_column(node.scope, node.name)), kind, frozenset({node.scope}))


_COMPARE = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


def _binary(node: Binary, ctx: Context) -> Compiled:
    left = compile_node(node.left, ctx)
    right = compile_node(node.right, ctx)
    tables = left.tables | right.tables
    aggregate = left.aggregate or right.aggregate
    if node.op in ("and", "or"):
        _need(ctx, left, ("bool",), node.left, node.op)
        _need(ctx, right, ("bool",), node.right, node.op)
        expr = left.expr & right.expr if node.op == "and" else left.expr | right.expr
        return Compiled(expr, "bool", tables, aggregate)
    if node.op in ("in", "notin"):
        if not right.kind.startswith("list:"):
            raise ctx.error("in needs a list: [\"a\", \"b\"]", node.right)
        item = right.kind.split(":", 1)[1]
        if item not in (left.kind, "null") and left.kind != "null":
            raise ctx.error(f"cannot look for {left.kind} in a list of {item}", node)
        expr = left.expr.is_in(right.expr.implode())
        return Compiled(expr if node.op == "in" else ~expr, "bool", tables, aggregate)
    if node.op in _COMPARE:
        if "null" in (left.kind, right.kind) and node.op in ("==", "!="):
            other = right if left.kind == "null" else left
            expr = other.expr.is_null() if node.op == "==" else other.expr.is_not_null()
            return Compiled(expr, "bool", tables, aggregate)
        if left.kind != right.kind and "null" not in (left.kind, right.kind):
            raise ctx.error(f"cannot compare {left.kind} with {right.kind}", node)
        if left.kind == "date" and isinstance(node.right, Literal):
            raise ctx.error("compare dates with days_until(...), not with a literal", node)
        expr = getattr(left.expr, _COMPARE[node.op])(right.expr)
        return Compiled(expr, "bool", tables, aggregate)
    # arithmetic
    _need(ctx, left, ("number",), node.left, node.op)
    _need(ctx, right, ("number",), node.right, node.op)
    if node.op == "/":  # (approximate: a ratio, not money)
        expr = left.expr.cast(pl.Float64) / right.expr.cast(pl.Float64)
    else:
        expr = {"+": left.expr + right.expr, "-": left.expr - right.expr,
                "*": left.expr * right.expr}[node.op]
    return Compiled(expr, "number", tables, aggregate)

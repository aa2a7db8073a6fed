"""Checks, the rules' files: ``rules/*.toml`` loaded, checked and compiled, in order.

A rule file holds ``[[rule]]`` tables, run in the order written (files in the order the
config names them). Each rule::

    [[rule]]
    name = "out-of-stock"            # kebab-case: the reason code of its rejects
    when = "stock.available <= 0"    # a condition (``ingest.rules.lang``)
    scope = "line"                   # line | order-any | order-all
    action = "reject"                # reject | hold | flag | set
    message = "no stock for {sku}"   # what a person reads; {field} shows a value
    approver = "sales-manager"       # hold: who approves
    flag = "urgent"                  # flag: the tag added to the line's flags
    set = { warehouse = "WH-SOUTH" } # set: routing fields and their values
    stop = true                      # later rules leave the lines it hits alone

Everything is checked when loaded: a bad rule is a ``RuleError`` naming the file, the rule,
the position in its condition and the nearest name for a typo (exit 2).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from ingest.bundled import bundled_dir
from ingest.codes import CODES
from ingest.errors import OrdermillError
from ingest.rules.compile import FIELD_KINDS, REFERENCE_FIELDS, Compiled, Context, compile_node
from ingest.rules.lang import MAX_LITERAL, Name, RuleSyntaxError, parse

ACTIONS = ("reject", "hold", "flag", "set")
SCOPES = ("line", "order-any", "order-all")
SETTABLE = ("warehouse", "priority")  # the routing fields a rule may set
RULE_KEYS = ("name", "when", "scope", "action", "message", "approver", "flag", "set", "stop",
             "description")
MAX_RULES = 500
MAX_FILE_BYTES = 1 << 20
NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
FLAG = re.compile(r"[a-z0-9]+([-_][a-z0-9]+)*")
_PLACE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\}")


class RuleError(OrdermillError):
    """A rule file that cannot be used: the file, the rule, what is wrong and where (exit 2)."""

    def __init__(self, path: str, rule: str | None, problem: str,
                 syntax: RuleSyntaxError | None = None) -> None:
        self.path, self.rule, self.problem, self.syntax = path, rule, problem, syntax
        where = f"{path}: rule {rule!r}" if rule else path
        text = f"{where}: {problem}"
        if syntax is not None:
            text += f" (at character {syntax.position + 1} of `when`)\n{syntax.pointer()}"
        super().__init__(text)


@dataclass(frozen=True)
class Rule:
    name: str
    when: str
    scope: str
    action: str
    message: str
    path: str
    approver: str | None = None
    flag: str | None = None
    sets: tuple[tuple[str, str], ...] = ()
    stop: bool = False
    description: str = ""
    tables: frozenset[str] = frozenset()  # reference tables its condition names

    @property
    def code(self) -> str:
        return self.name


@dataclass(frozen=True)
class RuleSet:
    """The rules of a run, in order, with the files they came from."""

    rules: tuple[Rule, ...] = ()
    files: tuple[str, ...] = ()

    @property
    def tables(self) -> frozenset[str]:
        return frozenset().union(*(r.tables for r in self.rules))

    def __bool__(self) -> bool:
        return bool(self.rules)


def compile_condition(rule: Rule, now: datetime) -> Compiled:
    """A rule's condition as one boolean expression (its text was checked when loaded)."""
    return compile_node(parse(rule.when), Context(rule.when, now))


def message_expr(rule: Rule, now: datetime) -> pl.Expr:
    """The rule's message with its ``{field}`` placeholders filled from each line."""
    parts: list[pl.Expr] = []
    end = 0
    for match in _PLACE.finditer(rule.message):
        if match.start() > end:
            parts.append(pl.lit(rule.message[end:match.start()]))
        name = match.group(1)
        scope, _, field_name = name.rpartition(".")
        node = Name(0, field_name, scope or None)
        value = compile_node(node, Context(name, now)).expr
        parts.append(value.cast(pl.String).fill_null("(empty)"))
        end = match.end()
    if end < len(rule.message):
        parts.append(pl.lit(rule.message[end:]))
    return pl.concat_str(parts) if parts else pl.lit("")


def load_rules(paths: list[Path]) -> RuleSet:
    """The rules of these files (or folders of ``*.toml``), in order; ``RuleError`` for
    the first problem found."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.toml")))
        elif path.is_file():
            files.append(path)
        else:
            raise RuleError(str(path), None, "no such rule file or folder")
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in files:
        for rule in load_file(path):
            if rule.name in seen:
                raise RuleError(str(path), rule.name, f"the name is already taken by a rule "
                                f"in {seen[rule.name]}: names are reason codes, one each")
            seen[rule.name] = str(path)
            rules.append(rule)
    if len(rules) > MAX_RULES:
        raise RuleError(str(files[-1]), None, f"{len(rules)} rules; at most {MAX_RULES}")
    return RuleSet(tuple(rules), tuple(str(f) for f in files))


def load_file(path: Path) -> list[Rule]:
    """The rules of one file, each checked and its condition compiled once."""
    shown = str(path)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise RuleError(shown, None, f"the file is over {MAX_FILE_BYTES} bytes")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RuleError(shown, None, f"not a TOML file: {exc}") from None
    return parse_rules(data, shown)


def parse_rules(data: dict[str, Any], shown: str) -> list[Rule]:
    unknown = set(data) - {"rule"}
    if unknown:
        raise RuleError(shown, None, f"unknown table or key {sorted(unknown)[0]!r}: a rule "
                        "file holds [[rule]] tables")
    raw = data.get("rule", [])
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise RuleError(shown, None, "`rule` must be [[rule]] tables")
    return [_rule(entry, shown, index) for index, entry in enumerate(raw, 1)]


def _rule(entry: dict[str, Any], shown: str, index: int) -> Rule:
    name = entry.get("name")
    label = name if isinstance(name, str) else f"#{index}"

    def fail(problem: str, syntax: RuleSyntaxError | None = None) -> RuleError:
        return RuleError(shown, label, problem, syntax)

    for key in entry:
        if key not in RULE_KEYS:
            from ingest.rules.compile import nearest
            raise fail(f"unknown key {key!r}{nearest(key, list(RULE_KEYS))}")
    if not isinstance(name, str) or not NAME.fullmatch(name) or len(name) > 60:
        raise fail("`name` must be kebab-case (out-of-stock), at most 60 characters")
    if name in CODES:
        raise fail(f"{name!r} is a code of ordermill's own: name the rule otherwise")
    action = entry.get("action")
    if action not in ACTIONS:
        raise fail(f"`action` must be one of {', '.join(ACTIONS)}")
    scope = entry.get("scope", "line")
    if scope not in SCOPES:
        raise fail(f"`scope` must be one of {', '.join(SCOPES)}")
    when = entry.get("when")
    if not isinstance(when, str):
        raise fail("`when` (the condition, a text) is missing")
    message = entry.get("message", "")
    if not isinstance(message, str) or len(message) > 500:
        raise fail("`message` must be a text of at most 500 characters")
    message = message or f"{entry.get('description') or name}"
    approver = entry.get("approver")
    if action == "hold" and (not isinstance(approver, str) or not approver.strip()):
        raise fail("a hold names who approves it: `approver = \"sales-manager\"`")
    flag = entry.get("flag")
    if action == "flag" and (not isinstance(flag, str) or not FLAG.fullmatch(flag)):
        raise fail("a flag rule names its tag: `flag = \"urgent\"` (letters, digits, - or _)")
    sets: tuple[tuple[str, str], ...] = ()
    if action == "set":
        raw = entry.get("set")
        if not isinstance(raw, dict) or not raw:
            raise fail("a set rule names fields and values: `set = { warehouse = \"WH-1\" }`")
        for key, value in raw.items():
            if key not in SETTABLE:
                from ingest.rules.compile import nearest
                raise fail(f"cannot set {key!r}{nearest(key, list(SETTABLE))}: rules set "
                           f"{', '.join(SETTABLE)}")
            if not isinstance(value, str) or len(value) > MAX_LITERAL:
                raise fail(f"set {key}: a text of at most {MAX_LITERAL} characters")
        sets = tuple((k, v) for k, v in raw.items())
    stop = entry.get("stop", False)
    if not isinstance(stop, bool):
        raise fail("`stop` is true or false")
    rule = Rule(name, when, scope, action, message, shown, approver, flag, sets, stop,
                str(entry.get("description", "")))
    now = datetime.now(UTC)
    try:
        compiled = compile_condition(rule, now)
    except RuleSyntaxError as exc:
        raise fail(exc.problem, exc) from None
    if compiled.kind != "bool":
        raise fail(f"`when` must be a condition (true or false), not a {compiled.kind}")
    try:
        message_expr(rule, now)
    except RuleSyntaxError as exc:
        raise fail(f"`message`: {{{exc.text}}}: {exc.problem}") from None
    tables = compiled.tables | {m.group(1).split(".")[0] for m in _PLACE.finditer(message)
                                if "." in m.group(1)}
    return Rule(**{**rule.__dict__, "tables": frozenset(tables & set(REFERENCE_FIELDS))})


def bundled_rules_dir() -> Path:
    """The example rules that ship with ordermill: the checkout's ``rules/`` (``bundled_dir``)."""
    return bundled_dir("rules")


def readable_fields() -> list[str]:
    """The fields a condition may name (``FIELD_KINDS``), for the docs."""
    return sorted(FIELD_KINDS)

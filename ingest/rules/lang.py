"""Checks, the rules' language: a condition's text tokenized and parsed into a small tree.

A rule's condition is text written by operations, never Python: a tokenizer and a
recursive-descent parser turn it into ``Node`` values, which ``ingest.rules.compile`` turns
into polars expressions. Nothing here evaluates anything. Grammar (lowest precedence first)::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") sum)?
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary)*
    unary   := "-" unary | primary
    primary := NUMBER | STRING | "true" | "false" | "null" | NAME ("." NAME)?
             | NAME "(" [expr ("," expr)*] ")" | "(" expr ")" | "[" [expr ("," expr)*] "]"

Limits keep a hostile file cheap to refuse: the text's length, a literal's length, the
number of tokens and the depth of nesting are bounded, and exceeding one is a
``RuleSyntaxError`` naming the position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

MAX_TEXT = 4_000  # characters of one condition
MAX_LITERAL = 200  # characters of one string literal
MAX_TOKENS = 400
MAX_DEPTH = 24  # nested parentheses, calls, lists and operators
MAX_LIST = 200  # items of an `in [...]` list


class RuleSyntaxError(ValueError):
    """A condition that does not parse: what is wrong and where (0-based offset)."""

    def __init__(self, problem: str, position: int, text: str) -> None:
        self.problem = problem
        self.position = position
        self.text = text
        super().__init__(problem)

    def pointer(self) -> str:
        """The condition with a caret under the position (for a person's terminal)."""
        shown = self.text if len(self.text) <= 200 else self.text[:200] + "…"
        return f"  {shown}\n  {' ' * min(self.position, 201)}^"


@dataclass(frozen=True)
class Token:
    kind: str  # num, str, name, op, end
    text: str
    pos: int
    value: object = None


@dataclass(frozen=True)
class Node:
    """A node of a parsed condition; ``pos`` is where it starts in the text."""

    pos: int


@dataclass(frozen=True)
class Literal(Node):
    value: str | Decimal | bool | None


@dataclass(frozen=True)
class Name(Node):
    """A field of the standard schema (``sku``) or of reference data (``stock.available``)."""

    name: str
    scope: str | None = None  # product, stock, credit: a reference table


@dataclass(frozen=True)
class ListOf(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Unary(Node):
    op: str  # not, -
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # or and == != < <= > >= in notin + - * /
    left: Node
    right: Node


@dataclass(frozen=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|<|>|\+|-|\*|/|\(|\)|\[|\]|,|\.)
""", re.VERBOSE)
KEYWORDS = {"and", "or", "not", "in", "true", "false", "null"}
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_TEXT:
        raise RuleSyntaxError(f"the condition is {len(text)} characters long; at most "
                              f"{MAX_TEXT}", MAX_TEXT, text)
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos] in "\"'":
                raise RuleSyntaxError("a text that is not closed", pos, text)
            raise RuleSyntaxError(f"unexpected character {text[pos]!r}", pos, text)
        kind = match.lastgroup or ""
        part = match.group()
        if kind != "ws":
            value: object = None
            if kind == "str":
                body = part[1:-1]
                if len(body) > MAX_LITERAL:
                    raise RuleSyntaxError(f"a text of {len(body)} characters; at most "
                                          f"{MAX_LITERAL}", pos, text)
                value = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)
            elif kind == "num":
                if len(part) > 30:
                    raise RuleSyntaxError("a number of more than 30 digits", pos, text)
                try:
                    value = Decimal(part)
                except InvalidOperation:  # pragma: no cover (the pattern allows digits only)
                    raise RuleSyntaxError(f"not a number: {part}", pos, text) from None
            tokens.append(Token(kind, part, pos, value))
            if len(tokens) > MAX_TOKENS:
                raise RuleSyntaxError(f"more than {MAX_TOKENS} tokens", pos, text)
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.at = 0
        self.depth = 0

    # helpers ------------------------------------------------------------------------------
    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def _is(self, *texts: str) -> bool:
        token = self.token
        return token.kind in ("op", "name") and token.text in texts

    def _take(self) -> Token:
        token = self.token
        self.at += 1
        return token

    def _expect(self, text: str) -> Token:
        if not self._is(text):
            raise self._error(f"expected {text!r}")
        return self._take()

    def _error(self, problem: str) -> RuleSyntaxError:
        token = self.token
        found = "the end" if token.kind == "end" else repr(token.text)
        return RuleSyntaxError(f"{problem}, found {found}", token.pos, self.text)

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise RuleSyntaxError(f"nested more than {MAX_DEPTH} deep", self.token.pos,
                                  self.text)

    # grammar ------------------------------------------------------------------------------
    def parse(self) -> Node:
        node = self._or()
        if self.token.kind != "end":
            raise self._error("expected an operator or the end")
        return node

    def _or(self) -> Node:
        node = self._and()
        while self._is("or"):
            pos = self._take().pos
            node = Binary(pos, "or", node, self._and())
        return node

    def _and(self) -> Node:
        node = self._not()
        while self._is("and"):
            pos = self._take().pos
            node = Binary(pos, "and", node, self._not())
        return node

    def _not(self) -> Node:
        if self._is("not"):
            pos = self._take().pos
            self._enter()
            node = Unary(pos, "not", self._not())
            self.depth -= 1
            return node
        return self._compare()

    def _compare(self) -> Node:
        node = self._sum()
        if self._is("==", "!=", "<", "<=", ">", ">=", "in"):
            token = self._take()
            return Binary(token.pos, token.text, node, self._sum())
        if self._is("not") and self.tokens[self.at + 1].text == "in":
            pos = self._take().pos
            self._take()
            return Binary(pos, "notin", node, self._sum())
        return node

    def _sum(self) -> Node:
        node = self._product()
        while self._is("+", "-"):
            token = self._take()
            node = Binary(token.pos, token.text, node, self._product())
        return node

    def _product(self) -> Node:
        node = self._unary()
        while self._is("*", "/"):
            token = self._take()
            node = Binary(token.pos, token.text, node, self._unary())
        return node

    def _unary(self) -> Node:
        if self._is("-"):
            pos = self._take().pos
            self._enter()
            node = Unary(pos, "-", self._unary())
            self.depth -= 1
            return node
        return self._primary()

    def _primary(self) -> Node:
        token = self.token
        if token.kind == "num":
            self._take()
            assert isinstance(token.value, Decimal)
            return Literal(token.pos, token.value)
        if token.kind == "str":
            self._take()
            assert isinstance(token.value, str)
            return Literal(token.pos, token.value)
        if self._is("("):
            self._take()
            self._enter()
            node = self._or()
            self._expect(")")
            self.depth -= 1
            return node
        if self._is("["):
            self._take()
            self._enter()
            items = self._items("]")
            if len(items) > MAX_LIST:
                raise RuleSyntaxError(f"a list of {len(items)} items; at most {MAX_LIST}",
                                      token.pos, self.text)
            self.depth -= 1
            return ListOf(token.pos, tuple(items))
        if token.kind == "name":
            if token.text in ("true", "false"):
                self._take()
                return Literal(token.pos, token.text == "true")
            if token.text == "null":
                self._take()
                return Literal(token.pos, None)
            if token.text in KEYWORDS:
                raise self._error("expected a value")
            self._take()
            if self._is("("):
                self._take()
                self._enter()
                args = self._items(")")
                self.depth -= 1
                return Call(token.pos, token.text, tuple(args))
            if self._is("."):
                self._take()
                field = self.token
                if field.kind != "name":
                    raise self._error(f"expected a field of {token.text}")
                self._take()
                return Name(token.pos, field.text, token.text)
            return Name(token.pos, token.text)
        raise self._error("expected a value")

    def _items(self, close: str) -> list[Node]:
        items: list[Node] = []
        if self._is(close):
            self._take()
            return items
        while True:
            items.append(self._or())
            if self._is(close):
                self._take()
                return items
            self._expect(",")


def parse(text: str) -> Node:
    """The condition's tree; ``RuleSyntaxError`` with the position when it does not parse."""
    if not text.strip():
        raise RuleSyntaxError("the condition is empty", 0, text)
    return _Parser(text).parse()

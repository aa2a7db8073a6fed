"""Mapping, the fourth stage: load mapping files (TOML) and check them against the schema.

Every problem is a ``MappingError`` naming the file, the key and what is wrong, with the
nearest valid name when the key looks like a typo.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ingest.codes import CODES, codes_of
from ingest.errors import MappingError
from ingest.mapping.detect import DETECTORS
from ingest.mapping.model import (
    Case,
    Checks,
    FieldRule,
    FormLabel,
    Mapping,
    PackedItems,
    Pair,
    ParseOptions,
    Waiting,
)
from ingest.mapping.parsers import PHONE_REGIONS
from ingest.readers.encoding import ENCODINGS
from ingest.readers.options import ReaderOptions
from ingest.schema import (
    ORDER_STATUSES,
    derived_fields,
    field_kind,
    mappable_fields,
    order_amounts,
    required_fields,
)

TOP_KEYS = ("channel", "layout", "description", "detect", "reader", "parse", "orders",
            "constants", "fields", "values", "checks", "waiting", "pair")
RULE_KEYS = ("column", "first", "join", "separator", "extract", "split", "part", "remove",
             "formats", "timezone", "cases", "per", "times", "minus", "minus_lines", "label",
             "label_regex", "take")
SOURCE_KEYS = ("column", "first", "join", "cases", "label", "label_regex")
TAKES = ("right", "below")
UNPRICED = ("currency", "unit_price")  # a [waiting] always layout may leave these out
CASE_KEYS = ("column", "present", "map")
READER_KEYS = ("encoding", "delimiter", "header_row", "footer", "sheet")
PARSE_KEYS = ("timezone", "phone_region", "phone_region_from_country", "datetime_formats",
              "date_formats")
ORDER_KEYS = ("key", "carry_forward", "key_scope", "summary_when_empty", "sum",
              "packed_items")
PACKED_KEYS = ("columns", "separator", "pair", "keys")
DELIMITERS = ("auto", ",", "\t", ";", "|")
DETECT_KEYS = ("by", "header_contains")
PAIR_KEYS = ("role", "partner", "key")
PAIR_ROLES = ("orders", "items")


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The valid name ``word`` is likely a typo of, if any."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(name: str | None) -> str:
    return f" (did you mean {name!r}?)" if name else ""


def nearest(word: str, choices: Iterable[str]) -> str:
    """' (did you mean X?)' for a likely typo, else ''."""
    return did_you_mean(closest(word, choices))


Key = tuple[str | int, ...]


def key_text(keys: Key) -> str:
    """A key as messages show it: ('fields', 'price', 'cases', 0) -> fields.price.cases[0]."""
    text = ""
    for part in keys:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


class _Reader:
    """Typed access to one TOML table, raising MappingError with the full key path."""

    def __init__(self, path: str, keys: Key, table: dict[str, Any]) -> None:
        self.path, self.keys, self.table = path, keys, table

    def fail(self, name: str | Key, problem: str, *, suggestion: str | None = None,
             missing: str | None = None) -> MappingError:
        keys = (*self.keys, *((name,) if isinstance(name, str) else name))
        return MappingError(self.path, key_text(keys), problem, keys=keys,
                            suggestion=suggestion, missing=missing)

    def only(self, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for name in self.table:
            if name not in allowed:
                close = closest(name, allowed)
                raise self.fail(name, "unknown key" + did_you_mean(close) + "; allowed: "
                                + ", ".join(allowed), suggestion=close)

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.table.get(name, default)
        if value is not None and not isinstance(value, str):
            raise self.fail(name, f"must be a string, not {value!r}")
        return value

    def texts(self, name: str) -> tuple[str, ...]:
        value = self.table.get(name, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(name, f"must be a list of strings, not {value!r}")
        return tuple(value)

    def sub(self, name: str) -> _Reader:
        value = self.table.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, f"must be a table, not {value!r}")
        return _Reader(self.path, (*self.keys, name), value)

    def regex(self, name: str) -> str | None:
        pattern = self.text(name)
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise self.fail(name, f"is not a valid regular expression: {exc}") from None
        return pattern

    def timezone(self, name: str) -> str | None:
        zone = self.text(name)
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise self.fail(name, f"unknown time zone {zone!r} (use an IANA name such as "
                                "'Asia/Shanghai' or 'UTC')") from None
        return zone


def load_mapping(path: str | Path) -> Mapping:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(str(path), "", f"is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(str(path), "", f"cannot be read: {exc}") from None
    return parse_mapping(data, str(path))


def parse_mapping(data: dict[str, Any], path: str) -> Mapping:
    top = _Reader(path, (), data)
    top.only(TOP_KEYS)
    channel = top.text("channel")
    if not channel or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", channel):
        raise top.fail("channel", "is required: a short lower-case name such as 'tmall'")
    layout = top.text("layout", "default") or ""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", layout):
        raise top.fail("layout", "must be a short lower-case name such as 'order-report' "
                       "(the export layout this file reads; default 'default')")

    detect = top.sub("detect")
    detect.only(DETECT_KEYS)
    detect_by = _detector(detect)
    signature = detect.texts("header_contains")
    if detect_by == "header" and not signature:
        raise detect.fail("header_contains", "is required: header names that identify the files",
                          missing="header_contains")

    reader = _reader_options(top.sub("reader"))
    parse = _parse_options(top.sub("parse"))
    orders = top.sub("orders")
    orders.only(ORDER_KEYS)
    for needs_key in ("carry_forward", "summary_when_empty", "sum"):
        if needs_key in orders.table and "key" not in orders.table:
            raise orders.fail(needs_key, "needs key = \"<order number column>\" beside it")
    packed = _packed_items(orders)

    constants_table = top.sub("constants")
    constants: dict[str, str] = {}
    for name in constants_table.table:
        _check_field_name(constants_table, name)
        constants[name] = str(constants_table.text(name))

    fields_table = top.sub("fields")
    fields = {name: _field_rule(fields_table, name) for name in fields_table.table}
    for name in fields:
        _check_field_name(fields_table, name)
        if name in constants:
            raise fields_table.fail(name, "is set both here and in [constants]; keep one")

    values_table = top.sub("values")
    values: dict[str, dict[str, str]] = {}
    for name in values_table.table:
        _check_field_name(values_table, name)
        table = values_table.sub(name)
        values[name] = {str(k): str(table.text(k)) for k in table.table}
    for raw, status in values.get("order_status", {}).items():
        if status not in ORDER_STATUSES:
            close = closest(status, ORDER_STATUSES)
            raise MappingError(path, f"values.order_status.{raw!r}",
                               f"{status!r} is not a status{did_you_mean(close)}; "
                               f"use one of: {', '.join(ORDER_STATUSES)}",
                               keys=("values", "order_status", raw), suggestion=close)

    for name, rule in fields.items():
        _check_arithmetic(fields_table, name, rule, set(fields))

    pair = _pair(top)
    if pair is not None and packed is not None:
        raise orders.fail("packed_items", "is not for a half of a two-file export ([pair])")
    covered = set(fields) | set(constants) | set(derived_fields())
    if pair is not None and pair.role == "orders":
        if fields or constants:
            raise top.sub("fields").fail((), "the orders half of a pair maps nothing: its "
                                         "columns are mapped by the items half's [fields]")
        covered = set(required_fields())
    waiting = _waiting(top.sub("waiting"))
    if waiting is not None and waiting.always:
        # A layout without prices (Amazon's Unshipped orders): its rows all wait and are
        # never checked, so it need not name what it does not carry.
        covered |= set(UNPRICED)
    for name in required_fields():
        if name not in covered:
            raise MappingError(path, "fields", f"required field {name!r} is not mapped: add "
                               f"{name} = \"<source column>\" under [fields] or [constants]",
                               keys=("fields",), missing=name)

    if any(rule.form is not None for rule in fields.values()):
        reader = replace(reader, form=True)  # (its values are read around the table)
    return Mapping(
        channel=channel,
        path=path,
        description=top.text("description", "") or "",
        header_contains=signature,
        reader=reader,
        parse=parse,
        fields=fields,
        constants=constants,
        values=values,
        order_key=orders.text("key"),
        carry_forward=orders.texts("carry_forward"),
        key_scope=orders.text("key_scope"),
        summary_when_empty=orders.text("summary_when_empty"),
        order_sums=orders.texts("sum"),
        packed_items=packed,
        detect_by=detect_by,
        layout=layout,
        checks=_checks(top.sub("checks")),
        waiting=waiting,
        pair=pair,
    )


def _packed_items(orders: _Reader) -> PackedItems | None:
    """``[orders] packed_items = { columns = "line_item_*", separator = "|", pair = ":",
    keys = [...] }``: items packed into cells of their order's row."""
    if "packed_items" not in orders.table:
        return None
    table = orders.sub("packed_items")
    table.only(PACKED_KEYS)
    columns = table.text("columns")
    if not columns or "*" not in columns:
        raise table.fail("columns", "is required: a glob naming the packed columns, such "
                         "as \"line_item_*\"", missing="columns")
    separator, pair = table.text("separator", "|") or "", table.text("pair", ":") or ""
    if not separator or not pair or separator == pair:
        raise table.fail("pair", "separator and pair must be two different, non-empty texts")
    keys = table.texts("keys")
    if len(set(keys)) != len(keys) or "column" in keys:
        raise table.fail("keys", "must name each key once (and not \"column\": "
                         "<prefix>.column names the cell's column)")
    return PackedItems(columns, separator, pair, keys)


def _checks(table: _Reader) -> Checks:
    """``[checks] errors = ["masked-contact"]``: warnings this channel treats as errors;
    ``prices_include_tax = true | false``: how its order totals hold tax."""
    table.only(("errors", "prices_include_tax", "products"))
    warnings = [c.code for c in codes_of("warning")]
    for name in table.texts("errors"):
        if name not in warnings:
            close = closest(name, warnings)
            what = (f"is a {CODES[name].kind} code" if name in CODES else "is not a code")
            raise table.fail("errors", f"{name!r} {what}; only warnings can be made errors: "
                             + ", ".join(warnings) + did_you_mean(close), suggestion=close)
    included = table.table.get("prices_include_tax")
    if included is not None and not isinstance(included, bool):
        raise table.fail("prices_include_tax", "must be true or false")
    products = table.text("products")
    if products is not None:
        products = str(Path(table.path).parent / products)
    return Checks(frozenset(table.texts("errors")), included, products)


def _waiting(table: _Reader) -> Waiting | None:
    """``[waiting] when = { column = "order-status", equals = ["Pending"] }``, or
    ``[waiting] always = true`` for a layout whose rows never carry a price."""
    if not table.table:
        return None
    table.only(("when", "always"))
    always = table.table.get("always", False)
    if not isinstance(always, bool):
        raise table.fail("always", "must be true or false")
    if always:
        if "when" in table.table:
            raise table.fail("always", "and when exclude each other: give one of them")
        return Waiting(None, (), always=True)
    when = table.sub("when")
    when.only(("column", "equals"))
    column = when.text("column")
    equals = when.texts("equals")
    if not column or not equals:
        raise table.fail("when", "needs column = \"<source column>\" and equals = "
                         "[\"<value>\", ...] (or always = true: every row waits)")
    return Waiting(column, equals)


def _pair(top: _Reader) -> Pair | None:
    """``[pair]``: one half of a two-file export (role, partner, key); None without it."""
    if "pair" not in top.table:
        return None
    table = top.sub("pair")
    table.only(PAIR_KEYS)
    for name in PAIR_KEYS:
        if not table.text(name):
            raise table.fail(name, "is required", missing=name)
    role = str(table.text("role"))
    if role not in PAIR_ROLES:
        close = closest(role, PAIR_ROLES)
        raise table.fail("role", f"must be one of: {', '.join(PAIR_ROLES)}, not {role!r}"
                         + did_you_mean(close), suggestion=close)
    return Pair(role, str(table.text("partner")), str(table.text("key")))


def _detector(detect: _Reader) -> str:
    """``[detect] by``: the strategy recognising the mapping's files (default "header")."""
    by = detect.text("by", "header") or "header"
    if by not in DETECTORS:
        raise detect.fail("by", f"unknown detection strategy {by!r}" + nearest(by, DETECTORS)
                          + "; known: " + ", ".join(DETECTORS))
    return by


def _check_arithmetic(fields: _Reader, name: str, rule: FieldRule, mapped: set[str]) -> None:
    """``per``, ``times`` and ``minus`` work on amounts of money, with another field of the line;
    ``minus_lines`` on an order-level amount, with a money field of the lines."""
    if rule.minus_lines is not None:
        where = (name, "minus_lines")
        lines = {f for f in mapped | set(derived_fields())
                 if field_kind(f) == "money" and f not in order_amounts()}
        if name not in order_amounts():
            raise fields.fail(where, f"works on order-level amounts ({', '.join(order_amounts())})"
                              f"; {name} is not one")
        if rule.minus_lines not in lines:
            close = closest(rule.minus_lines, lines)
            raise fields.fail(where, f"must name a money field of the lines, not "
                              f"{rule.minus_lines!r}" + did_you_mean(close), suggestion=close)
    for key, operand, kind in (("per", rule.per, "integer"), ("times", rule.times, "integer"),
                               ("minus", rule.minus, "money")):
        if operand is None:
            continue
        where = (name, key)
        if field_kind(name) != "money":
            raise fields.fail(where, f"works on amounts of money; {name} is not one")
        if field_kind(operand) != kind or operand not in mapped or operand == name:
            choices = [f for f in mapped if field_kind(f) == kind and f != name]
            close = closest(operand, choices)
            raise fields.fail(where, f"must name another {kind} field mapped under [fields], "
                              f"not {operand!r}" + did_you_mean(close), suggestion=close)


def _check_field_name(table: _Reader, name: str) -> None:
    allowed = mappable_fields()
    if name not in allowed:
        close = closest(name, allowed)
        raise table.fail(name, "is not a field of the standard schema" + did_you_mean(close),
                         suggestion=close)


def _reader_options(table: _Reader) -> ReaderOptions:
    table.only(READER_KEYS)
    encoding = table.text("encoding", "auto") or "auto"
    if encoding.lower() not in ENCODINGS:
        close = closest(encoding.lower(), ENCODINGS)
        raise table.fail("encoding", f"unknown encoding {encoding!r}" + did_you_mean(close),
                         suggestion=close)
    delimiter = table.text("delimiter", "auto") or "auto"
    if delimiter not in DELIMITERS:
        raise table.fail("delimiter", f"must be one of {DELIMITERS!r}")
    header_row = table.table.get("header_row")
    if header_row is not None and (not isinstance(header_row, int) or header_row < 1):
        raise table.fail("header_row", "must be a row number ≥ 1")
    sheet = table.table.get("sheet")
    if sheet is not None and not isinstance(sheet, str | int):
        raise table.fail("sheet", "must be a sheet name or a 0-based index")
    return ReaderOptions(encoding=encoding.lower(), delimiter=delimiter, header_row=header_row,
                         footer=table.regex("footer"), sheet=sheet)


def _parse_options(table: _Reader) -> ParseOptions:
    table.only(PARSE_KEYS)
    region = table.text("phone_region")
    if region is not None and region not in PHONE_REGIONS:
        raise table.fail("phone_region", f"unknown region {region!r}; known: "
                         + ", ".join(sorted(PHONE_REGIONS)))
    from_country = table.table.get("phone_region_from_country", True)
    if not isinstance(from_country, bool):
        raise table.fail("phone_region_from_country", "must be true or false")
    return ParseOptions(
        timezone=table.timezone("timezone"),
        phone_region=region,
        phone_region_from_country=from_country,
        datetime_formats=table.texts("datetime_formats"),
        date_formats=table.texts("date_formats"),
    )


def _field_rule(fields: _Reader, name: str) -> FieldRule:
    spec = fields.table[name]
    if isinstance(spec, str):
        return FieldRule(field=name, columns=(spec,))
    if not isinstance(spec, dict):
        raise fields.fail(name, "must be a column name or a table such as "
                          "{ column = \"...\" }")
    rule = fields.sub(name)
    rule.only(RULE_KEYS)
    sources = [key for key in SOURCE_KEYS if key in spec]
    if len(sources) != 1:
        raise fields.fail(name, "needs exactly one of: " + ", ".join(SOURCE_KEYS)
                          + (f" (it has {' and '.join(sources)})" if sources else ""))
    columns: tuple[str, ...] = ()
    combine = "first"
    if "column" in spec:
        columns = (str(rule.text("column")),)
    elif "first" in spec:
        columns = rule.texts("first")
    elif "join" in spec:
        columns, combine = rule.texts("join"), "join"
    cases = tuple(_case(rule, i) for i in range(len(spec.get("cases", []))))
    part = spec.get("part", 0)
    if not (isinstance(part, int) and part >= 0) and not (
            isinstance(part, str) and re.fullmatch(r"\d+:", part)):
        raise rule.fail("part", f"must be a 0-based part number or \"N:\" (part N and all "
                        f"after it), not {part!r}")
    if "part" in spec and "split" not in spec:
        raise rule.fail("part", "needs split = \"<separator>\" beside it")
    return FieldRule(
        field=name,
        columns=columns,
        combine=combine,
        separator=rule.text("separator", " ") or " ",
        extract=rule.regex("extract"),
        split=rule.text("split"),
        part=part,
        remove=rule.regex("remove"),
        formats=rule.texts("formats"),
        timezone=rule.timezone("timezone"),
        cases=cases,
        per=rule.text("per"),
        times=rule.text("times"),
        minus=rule.text("minus"),
        minus_lines=rule.text("minus_lines"),
        form=_form_label(rule, spec),
    )


def _form_label(rule: _Reader, spec: dict[str, Any]) -> FormLabel | None:
    """``label = ["PO#", "订单号"]`` or ``label_regex = '...'``, with ``take``."""
    if "label" not in spec and "label_regex" not in spec:
        if "take" in spec:
            raise rule.fail("take", "only goes with label or label_regex (a form value)")
        return None
    labels = rule.texts("label")
    if "label" in spec and not [label for label in labels if label.strip()]:
        raise rule.fail("label", "must name at least one non-empty label text, such as "
                        "[\"PO#\", \"订单号\"]")
    pattern = rule.regex("label_regex")
    if pattern is not None and not pattern:
        raise rule.fail("label_regex", "must not be empty")
    take = rule.text("take", "right") or "right"
    if take not in TAKES:
        close = closest(take, TAKES)
        raise rule.fail("take", f"must be one of: {', '.join(TAKES)} (the side of the label "
                        f"where the value is), not {take!r}" + did_you_mean(close),
                        suggestion=close)
    return FormLabel(labels=labels, pattern=pattern, take=take)


def _case(rule: _Reader, index: int) -> Case:
    raw = rule.table["cases"][index]
    key = ("cases", index)
    if not isinstance(raw, dict):
        raise rule.fail(key, "must be a table such as { column = \"...\", present = \"...\" }")
    case = _Reader(rule.path, (*rule.keys, *key), raw)
    case.only(CASE_KEYS)
    column = case.text("column")
    if not column:
        raise case.fail("column", "is required")
    present = case.text("present")
    table = raw.get("map")
    if (present is None) == (table is None):
        raise rule.fail(key, "needs exactly one of: present, map")
    if table is not None and not isinstance(table, dict):
        raise case.fail("map", "must be a table of source value = standard value")
    mapped = {str(k): str(v) for k, v in table.items()} if table is not None else None
    return Case(column=column, present=present, map=mapped)


def load_mappings(directory: str | Path) -> list[Mapping]:
    """Every ``*.toml`` in the directory, sorted by file name. A mapping is known by its
    file's stem (``Mapping.name``); a channel may have several, one per layout, but one
    layout of a channel is read by one file only."""
    directory = Path(directory)
    if not directory.is_dir():
        raise MappingError(str(directory), "", "mappings directory not found")
    mappings = [load_mapping(p) for p in sorted(directory.glob("*.toml"))]
    check_pairs(mappings)
    problem = duplicate_layout(mappings)
    if problem is not None:
        mapping, other = problem
        raise MappingError(mapping.path, "layout", layout_clash(mapping, other),
                           keys=("layout",))
    if not mappings:
        raise MappingError(str(directory), "", "holds no mapping files (*.toml)")
    return mappings


def duplicate_layout(mappings: list[Mapping]) -> tuple[Mapping, Mapping] | None:
    """The first mapping that repeats an earlier one's (channel, layout) or name, with it.
    The two halves of a two-file export (``[pair]``) are one layout, one file each."""
    seen: dict[tuple[str, str, str], Mapping] = {}
    names: dict[str, Mapping] = {}
    for mapping in mappings:
        key = (mapping.channel, mapping.layout, mapping.pair.role if mapping.pair else "")
        other = seen.get(key) or names.get(mapping.name)
        if other is not None:
            return mapping, other
        seen[key] = mapping
        names[mapping.name] = mapping
    return None


def layout_clash(mapping: Mapping, other: Mapping) -> str:
    if mapping.name == other.name and (mapping.channel, mapping.layout) != (
            other.channel, other.layout):
        return f"the mapping name {mapping.name!r} (its file name) is also {other.path}'s"
    return (f"channel {mapping.channel!r}, layout {mapping.layout!r} is also read by "
            f"{other.path}; give each of a channel's mapping files its own layout = "
            "\"<name>\" (such as \"order-report\")")


def check_pairs(mappings: list[Mapping]) -> None:
    """Each half's partner is a mapping of the set, of the other role, naming it back."""
    by_stem = {Path(m.path).stem: m for m in mappings}
    for mapping in mappings:
        if mapping.pair is None:
            continue
        partner = by_stem.get(mapping.pair.partner)
        stem = Path(mapping.path).stem
        problem = None
        if partner is None:
            problem = (f"names {mapping.pair.partner!r}, but no mapping file has that name"
                       + nearest(mapping.pair.partner, by_stem))
        elif partner.pair is None or partner.pair.partner != stem:
            problem = f"{partner.path} must name {stem!r} back as its [pair] partner"
        elif partner.pair.role == mapping.pair.role:
            problem = f"{partner.path} has the same role ({mapping.pair.role!r}); one half " \
                      "is \"orders\", the other \"items\""
        elif partner.channel != mapping.channel:
            problem = f"{partner.path} is of channel {partner.channel!r}: both halves share one"
        if problem:
            raise MappingError(mapping.path, "pair.partner", problem, keys=("pair", "partner"))

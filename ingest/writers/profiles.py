"""Writing, the last stage: ERP import profiles as data, loaded and checked (``profiles/*.toml``).

A profile says how one ERP imports sales orders: the documentation it follows
(``template``), the file kind (csv, xlsx or json), encoding, date format, the files of the
layout (one row per order or per line; order columns on the first line only or repeated),
their header rows, and each column's value: a standard field, a code looked up in the
user's tables, a constant, or one of a small fixed set of expressions (``EXPRESSIONS``).
How the batch's lines become those files is ``ingest.writers.erp``.

The loader checks every name against the vocabulary and suggests the nearest for a typo,
as the mapping loader does: a bad profile is a usage error before anything is read.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from ingest.bundled import bundled_dir
from ingest.errors import UsageError
from ingest.mapping.loader import nearest
from ingest.schema import output_columns

Kind = Literal["csv", "xlsx", "json"]
KINDS = ("csv", "xlsx", "json")
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")  # gb18030: GBK's superset, every character
UPDATES = ("in-place", "update-files", "review")
ROWS = ("lines", "orders")
CONTINUATIONS = ("blank", "repeat")
BLOCKS = ("order", "line")

# What a code is looked up by, in the order tried (the first non-empty), and what it is.
CODE_KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "item": (("sku",), "the ERP's item (product, material) code, from the line's sku"),
    "customer": (("buyer_id", "channel"), "the ERP's customer code, from the buyer's "
                 "account on the channel, or the channel itself (a platform account)"),
    "sales_org": (("channel",), "the ERP's sales organisation, from the channel"),
    "warehouse": (("channel",), "the ERP's warehouse (location), from the channel"),
}

# The fixed set of computed values a column may take (``expr = "..."``).
EXPRESSIONS: dict[str, str] = {
    "order_seq": "1, 2, 3 ...: the order's place in the file (groups a bill's rows)",
    "line_seq": "1, 2, 3 ...: the line's place in its order",
    "line_index": "0, 1, 2 ...: the line's place in its order, from 0 (SAP LineNum)",
    "line_seq_10000": "10000, 20000 ...: the line's place in its order, in steps of 10000",
    "external_id": "ordermill_<channel>_<order_id>: a stable external ID of the order",
    "line_external_id": "ordermill_<channel>_<order_id>_<line_no>: of the line",
    "order_ref": "OM + 18 hex digits of a hash of channel and order_id: a stable order "
                 "number of 20 characters (Code[20])",
    "ship_country_name": "the ship-to country's English name (ERPs that want names)",
    "lines_total": "Σ line_total of the order",
    "discount_percent": "the line's discount as a percentage of quantity × unit_price, to "
                        "2 places (ERPs that take a discount %: may differ from "
                        "discount_amount by a cent)",
}

# Every field of the standard schema a column may take.
FIELD_NAMES = tuple(output_columns())


@dataclass(frozen=True)
class Column:
    """One column of a profile's file: its header cells (one per header row) and value."""

    header: tuple[str, ...]
    fields: tuple[str, ...] = ()  # the first non-empty of these standard fields
    code: str | None = None  # a code kind (``CODE_KINDS``)
    value: str | None = None  # a constant
    expr: str | None = None  # one of ``EXPRESSIONS``
    block: str = "line"  # order: blank on an order's continuation rows (``blank``)
    format: str | None = None  # strftime for dates and instants (default: the profile's)

    @property
    def name(self) -> str:
        return self.header[0]


@dataclass(frozen=True)
class FileSpec:
    """One file (or sheet) of a profile's layout."""

    name: str  # file name without extension
    rows: str = "lines"  # lines: one row per order line; orders: one per order
    continuation: str = "blank"  # lines files: order columns on the first row only, or on all
    header_rows: int = 1
    sheet: str = "Sheet1"
    columns: tuple[Column, ...] = ()


@dataclass(frozen=True)
class Profile:
    name: str
    erp: str
    template: str  # where the ERP documents the layout (a URL)
    kind: Kind
    path: Path
    encoding: str = "utf-8"
    delimiter: str = ","
    date_format: str = "%Y-%m-%d"
    updates: str = "review"
    files: tuple[FileSpec, ...] = ()
    order_fields: tuple[str, ...] = ()  # json: the document's header fields
    line_fields: tuple[str, ...] = ()  # json: each of its lines' fields
    notes: str = ""

    @property
    def codes(self) -> tuple[str, ...]:
        """The code kinds the profile's columns look up."""
        return tuple(dict.fromkeys(c.code for f in self.files for c in f.columns if c.code))


def bundled_profiles_dir() -> Path:
    """The profiles that ship with ordermill: the checkout's ``profiles/`` (``bundled_dir``)."""
    return bundled_dir("profiles", "name a directory with profiles_dir")


def profile_files(directory: Path | None = None) -> dict[str, Path]:
    """Profile name -> file: the bundled ones, then ``directory``'s (which win)."""
    found = {p.stem: p for p in sorted(bundled_profiles_dir().glob("*.toml"))}
    if directory is not None and directory.is_dir():
        found |= {p.stem: p for p in sorted(directory.glob("*.toml"))}
    return found


def find_profile(name: str, directory: Path | None = None) -> Profile:
    """The profile named ``name`` (a bundled one or one of ``directory``), or a file path."""
    if name.endswith(".toml"):
        return load_profile(Path(name))
    known = profile_files(directory)
    if name not in known:
        raise UsageError(f"unknown profile {name!r}{nearest(name, list(known))}; known: "
                         + ", ".join(known))
    return load_profile(known[name])


class ProfileError(UsageError):
    """A profile file with problems: every one, each with its key (exit 2)."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def load_profile(path: Path) -> Profile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the profile: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(path, [f"is not valid TOML: {exc}"]) from None
    problems: list[str] = []
    profile = _profile(path, data, problems)
    if problems or profile is None:
        raise ProfileError(path, problems)
    return profile


def _choice(table: dict[str, Any], key: str, choices: tuple[str, ...], default: str,
            where: str, problems: list[str]) -> str:
    value = table.get(key, default)
    if value not in choices:
        problems.append(f"{where}{key}: {value!r} is not one of {', '.join(choices)}"
                        + nearest(str(value), choices))
        return default
    return str(value)


def _unknown(table: dict[str, Any], allowed: tuple[str, ...], where: str,
             problems: list[str]) -> None:
    for key in table:
        if key not in allowed:
            problems.append(f"{where}{key}: unknown key{nearest(key, allowed)}; allowed: "
                            + ", ".join(allowed))


PROFILE_KEYS = ("name", "erp", "template", "kind", "encoding", "delimiter", "date_format",
                "updates", "notes")
FILE_KEYS = ("name", "rows", "continuation", "header_rows", "sheet", "columns")
COLUMN_KEYS = ("header", "field", "code", "value", "expr", "block", "format")


def _profile(path: Path, data: dict[str, Any], problems: list[str]) -> Profile | None:
    _unknown(data, ("profile", "files", "json"), "", problems)
    head = data.get("profile")
    if not isinstance(head, dict):
        problems.append("[profile]: missing: name the ERP, its template and the file kind")
        return None
    _unknown(head, PROFILE_KEYS, "profile.", problems)
    for key in ("erp", "template"):
        if not isinstance(head.get(key), str) or not head[key].strip():
            problems.append(f"profile.{key}: required"
                            + (": the URL of the ERP's documentation of the layout"
                               if key == "template" else ""))
    kind = cast(Kind, _choice(head, "kind", KINDS, "csv", "profile.", problems))
    encoding = _choice(head, "encoding", ENCODINGS, "utf-8", "profile.", problems)
    updates = _choice(head, "updates", UPDATES, "review", "profile.", problems)
    name = head.get("name", path.stem)
    if name != path.stem:
        problems.append(f"profile.name: {name!r} differs from the file name {path.stem!r}")
    specs: list[FileSpec] = []
    order_fields: tuple[str, ...] = ()
    line_fields: tuple[str, ...] = ()
    if kind == "json":
        table = data.get("json", {})
        _unknown(table, ("name", "order_fields", "line_fields"), "json.", problems)
        order_fields = _field_list(table, "order_fields", problems)
        line_fields = _field_list(table, "line_fields", problems)
        specs.append(FileSpec(str(table.get("name", "orders"))))
    else:
        raw_files = data.get("files")
        if not isinstance(raw_files, list) or not raw_files:
            problems.append("[[files]]: at least one file with its columns")
            raw_files = []
        for index, raw in enumerate(raw_files):
            spec = _file(raw, f"files[{index}].", problems)
            if spec is not None:
                specs.append(spec)
    return Profile(str(name), str(head.get("erp", "")), str(head.get("template", "")),
                   kind, path, encoding, str(head.get("delimiter", ",")),
                   str(head.get("date_format", "%Y-%m-%d")), updates, tuple(specs),
                   order_fields, line_fields, str(head.get("notes", "")))


def _field_list(table: dict[str, Any], key: str, problems: list[str]) -> tuple[str, ...]:
    names = table.get(key, [])
    if not isinstance(names, list) or not names:
        problems.append(f"json.{key}: a list of standard fields")
        return ()
    for name in names:
        if name not in FIELD_NAMES:
            problems.append(f"json.{key}: {name!r} is not a field{nearest(str(name), FIELD_NAMES)}")
    return tuple(str(n) for n in names)


def _file(raw: Any, where: str, problems: list[str]) -> FileSpec | None:
    if not isinstance(raw, dict):
        problems.append(f"{where[:-1]}: must be a table")
        return None
    _unknown(raw, FILE_KEYS, where, problems)
    if not isinstance(raw.get("name"), str) or not raw["name"]:
        problems.append(f"{where}name: required: the file's name without extension")
    rows = _choice(raw, "rows", ROWS, "lines", where, problems)
    continuation = _choice(raw, "continuation", CONTINUATIONS, "blank", where, problems)
    header_rows = raw.get("header_rows", 1)
    if not isinstance(header_rows, int) or not 1 <= header_rows <= 5:
        problems.append(f"{where}header_rows: a number of header rows, 1 to 5")
        header_rows = 1
    columns: list[Column] = []
    raw_columns = raw.get("columns")
    if not isinstance(raw_columns, list) or not raw_columns:
        problems.append(f"{where}columns: at least one [[files.columns]]")
        raw_columns = []
    for index, item in enumerate(raw_columns):
        column = _column(item, f"{where}columns[{index}].", header_rows, rows, problems)
        if column is not None:
            columns.append(column)
    names = [c.name for c in columns]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{where}columns: {name!r} is used twice")
    return FileSpec(str(raw.get("name", "")), rows, continuation, header_rows,
                    str(raw.get("sheet", "Sheet1")), tuple(columns))


def _column(raw: Any, where: str, header_rows: int, rows: str,
            problems: list[str]) -> Column | None:
    if not isinstance(raw, dict):
        problems.append(f"{where[:-1]}: must be a table")
        return None
    _unknown(raw, COLUMN_KEYS, where, problems)
    header = raw.get("header")
    header = [header] if isinstance(header, str) else header
    if not isinstance(header, list) or not all(isinstance(h, str) for h in header):
        problems.append(f"{where}header: the column's name (a list: one per header row)")
        return None
    if len(header) != header_rows:
        problems.append(f"{where}header: {len(header)} cell(s) for {header_rows} header "
                        f"row(s): {header!r}")
    sources = [key for key in ("field", "code", "value", "expr") if key in raw]
    if len(sources) != 1:
        problems.append(f"{where[:-1]} ({header[0] if header else '?'}): exactly one of "
                        "field, code, value or expr")
    fields = raw.get("field", ())
    fields = (fields,) if isinstance(fields, str) else tuple(fields)
    for name in fields:
        if name not in FIELD_NAMES:
            problems.append(f"{where}field: {name!r} is not a field of the standard schema"
                            + nearest(str(name), FIELD_NAMES))
    code = raw.get("code")
    if code is not None and code not in CODE_KINDS:
        problems.append(f"{where}code: {code!r} is not a code kind{nearest(str(code), CODE_KINDS)}"
                        "; known: " + ", ".join(CODE_KINDS))
    expr = raw.get("expr")
    if expr is not None and expr not in EXPRESSIONS:
        problems.append(f"{where}expr: {expr!r} is not an expression"
                        f"{nearest(str(expr), EXPRESSIONS)}; known: " + ", ".join(EXPRESSIONS))
    value = raw.get("value")
    if value is not None and not isinstance(value, str):
        problems.append(f"{where}value: a constant is written as a string")
    block = _choice(raw, "block", BLOCKS, "order" if rows == "orders" else "line", where,
                    problems)
    return Column(tuple(header), fields, code, value, expr, block, raw.get("format"))


@dataclass(frozen=True)
class ProfileInfo:
    """A profile as ``ordermill profiles`` lists it."""

    name: str
    erp: str
    kind: str
    updates: str
    codes: tuple[str, ...]
    files: tuple[str, ...]
    template: str
    path: str
    problems: list[str] = field(default_factory=list)


def list_profiles(directory: Path | None = None) -> list[ProfileInfo]:
    """Every profile (bundled, then ``directory``'s), each loaded and checked."""
    infos = []
    for name, path in profile_files(directory).items():
        try:
            p = load_profile(path)
        except ProfileError as exc:
            infos.append(ProfileInfo(name, "", "", "", (), (), "", str(path), exc.problems))
            continue
        ext = "ndjson" if p.kind == "json" else p.kind
        infos.append(ProfileInfo(p.name, p.erp, p.kind, p.updates, p.codes,
                                 tuple(f"{f.name}.{ext}" for f in p.files), p.template,
                                 str(path)))
    return infos


def profiles_text(infos: list[ProfileInfo]) -> str:
    """``ordermill profiles``: each profile, its files, codes and how updates go out."""
    out = []
    for info in infos:
        if info.problems:
            out.append(f"{info.name}  BROKEN ({info.path}): " + "; ".join(info.problems))
            continue
        codes = ", ".join(info.codes) or "none"
        out.append(f"{info.name}  {info.erp}\n    files: {', '.join(info.files)}  "
                   f"codes: {codes}  updates: {info.updates}\n    template: {info.template}")
    return "\n".join(out)


def check_profile(path: Path) -> Profile:
    """A profile file loaded and checked (``ordermill profiles check``): ``ProfileError``
    lists every problem, each with its key and the nearest name for a typo."""
    return load_profile(path)

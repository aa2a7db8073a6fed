"""Writing, the last stage: a batch's clean lines in an ERP's import layout (a profile).

Whole-column work over the batch's clean lines: orders are kept together (an order's lines
in a row, orders in the order they arrived), codes are looked up by joins, an order with a
code missing is held out whole (``missing-code``, listed in ``held.csv``), update orders go
where the profile says (``in-place``: the same files, whose IDs make the ERP update;
``update-files``: files of the same layout named ``*_updates``; ``review``:
``updates.csv`` for people), and each file is written with its header rows, blank
continuation cells, date format and encoding. Money is written from the Decimal as text
(``1299.00``), never through a float.

The files go into the batch's staging folder (``profiles/<name>/``), so they are published
with the batch, in one rename, or not at all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import polars_hash  # noqa: F401  (registers the .chash namespace)

from ingest.codes import message
from ingest.verdicts import WARNING_COLUMNS
from ingest.writers.formats import ISO_UTC, write_rejects
from ingest.writers.lookups import Lookup
from ingest.writers.profiles import CODE_KINDS, Column, FileSpec, Profile

ORDER = ["channel", "order_id"]
PROFILES_DIR = "profiles"  # the batch's subfolder: profiles/<name>/
UPDATES_REVIEW = ("channel", "order_id", "line_no", "change_type", "changed_fields",
                  "order_status", "sku", "product_name", "variant", "quantity", "unit_price",
                  "discount_amount", "line_total", "source", "source_row")


@dataclass(frozen=True)
class ProfileJob:
    """A profile to write in a run: the profile, the user's code tables, the time zone of
    its dates, and the inputs whose lines it takes (None: every input of the batch)."""

    profile: Profile
    lookups: dict[str, Lookup]
    timezone: str = "UTC"
    inputs: frozenset[str] | None = None
    # The configured sources whose lines it takes (None: every source and given file);
    # turned into ``inputs`` once the run knows which inputs came from them.
    sources: frozenset[str] | None = None


Written = dict[str, Any]  # {"file": ..., "rows": ..., "sha256": ...}
Hasher = Callable[[Path], str]


def write_profile(clean: pl.DataFrame, job: ProfileJob, staging: Path,
                  sha256: Hasher) -> tuple[list[Written], dict[str, Any]]:
    """Write ``job``'s files for the batch's ``clean`` lines under ``staging``; the outputs
    (for the manifest's ``outputs``) and the profile's entry of the manifest."""
    profile = job.profile
    folder = staging / PROFILES_DIR / profile.name
    folder.mkdir(parents=True)
    lines = clean if job.inputs is None else clean.filter(pl.col("source").is_in(job.inputs))
    lines = _ordered(lines)
    lines, held = _with_codes(lines, profile, job.lookups)
    held_orders = lines.filter(pl.col("__held")).select(ORDER).unique().height
    kept = lines.filter(~pl.col("__held"))
    update = (pl.col("change_type") == "update").any().over(ORDER)
    outputs: list[Written] = []

    def emit(name: str, write: Callable[[Path], int]) -> None:
        target = folder / name
        rows = write(target)
        outputs.append({"file": f"{PROFILES_DIR}/{profile.name}/{name}", "rows": rows,
                        "sha256": sha256(target)})

    main, updates = kept, kept.clear()
    if profile.updates != "in-place":
        main, updates = kept.filter(~update), kept.filter(update)
    ext = "ndjson" if profile.kind == "json" else profile.kind
    for spec in profile.files:
        emit(f"{spec.name}.{ext}", _writer(main, spec, job))
    if profile.updates == "update-files" and updates.height:
        for spec in profile.files:
            emit(f"{spec.name}_updates.{ext}", _writer(updates, spec, job))
    if profile.updates == "review" and updates.height:
        review = updates.select(*UPDATES_REVIEW, *sorted(
            c for c in updates.columns if c.startswith("code_")))
        emit("updates.csv", lambda path: _people(review, path))
    if held.height:
        emit("held.csv", lambda path: _people(held, path))
    entry = {
        "erp": profile.erp, "template": profile.template, "updates": profile.updates,
        "orders": main.select(ORDER).unique().height, "lines": main.height,
        "update_orders": updates.select(ORDER).unique().height,
        "held_orders": held_orders,
        "held_lines": lines.filter(pl.col("__held")).height,
        "files": [o["file"] for o in outputs],
    }
    return outputs, entry


def _people(frame: pl.DataFrame, path: Path) -> int:
    """A file for people (held lines, updates to review): UTF-8 with BOM, formula-guarded."""
    write_rejects(frame.lazy(), path)
    return frame.height


def _ordered(lines: pl.DataFrame) -> pl.DataFrame:
    """The lines with each order's together, orders in the order they arrived, lines by
    line_no; ``__first`` (the order's first place) and ``__line_seq`` (1, 2, ... within)."""
    return (lines.with_row_index("__pos")
            .with_columns(pl.col("__pos").min().over(ORDER).alias("__first"))
            .sort("__first", "line_no", "__pos")
            .with_columns((pl.int_range(pl.len()).over(ORDER) + 1).alias("__line_seq")))


def _key(fields: tuple[str, ...]) -> pl.Expr:
    """The first non-empty of ``fields``, as text."""
    texts = [pl.when(pl.col(f).cast(pl.String) != "").then(pl.col(f).cast(pl.String))
             for f in fields]
    return pl.coalesce(texts) if len(texts) > 1 else texts[0]


def _with_codes(lines: pl.DataFrame, profile: Profile, lookups: dict[str, Lookup]
                ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The lines with ``code_<kind>`` for each code the profile uses and ``__held`` (an
    order with any code missing); and the ``missing-code`` warnings (``WARNING_COLUMNS``)."""
    warnings: list[pl.DataFrame] = []
    missing: list[pl.Expr] = []
    for kind in profile.codes:
        lookup = lookups.get(kind)
        fields = lookup.fields if lookup else CODE_KINDS[kind][0]
        key = f"__key_{kind}"
        lines = lines.with_columns(_key(fields).alias(key))
        if lookup is not None:
            table = lookup.table.rename({"__key": key, "__code": f"code_{kind}"})
            lines = lines.join(table, on=key, how="left", maintain_order="left")
            where = f"the {lookup.shown}"
        else:
            lines = lines.with_columns(pl.col(key).alias(f"code_{kind}"))
            where = f"the source (no {kind} table is configured, and the value is empty)"
        code = pl.col(f"code_{kind}")
        lacking = code.is_null() | (code.str.strip_chars() == "")
        missing.append(lacking)
        field_name = fields[0]
        warnings.append(lines.filter(lacking).select(
            "source", "source_row", "order_id",
            pl.lit(field_name).alias("field"), pl.lit("missing-code").alias("code"),
            pl.col(key).fill_null("").alias("value"),
            message("missing-code", {"field": field_name,
                                     "value": pl.col(key).fill_null(""),
                                     "detail": where}).alias("message")))
    if not missing:
        return lines.with_columns(pl.lit(False).alias("__held")), pl.DataFrame(
            schema={c: pl.Int64 if c == "source_row" else pl.String for c in WARNING_COLUMNS})
    lines = lines.with_columns(pl.any_horizontal(missing).any().over(ORDER).alias("__held"))
    return lines, pl.concat(warnings).select(WARNING_COLUMNS)


def _writer(frame: pl.DataFrame, spec: FileSpec, job: ProfileJob) -> Callable[[Path], int]:
    profile = job.profile
    if profile.kind == "json":
        return lambda path: _write_json(frame, profile, path)
    table = _table(frame, spec, job)
    if profile.kind == "xlsx":
        return lambda path: _write_xlsx(table, spec, path)
    return lambda path: _write_csv(table, spec, profile, path)


def _table(frame: pl.DataFrame, spec: FileSpec, job: ProfileJob) -> pl.DataFrame:
    """The file's rows as text, columns named c0, c1, ... (headers may repeat across
    header rows; they are written by the writer)."""
    frame = frame.with_columns(pl.col("__first").rank("dense").cast(pl.Int64).alias("__seq"))
    first = pl.col("__line_seq") == 1
    exprs = []
    for index, column in enumerate(spec.columns):
        value = _value(column, job)
        if spec.rows == "lines" and column.block == "order" and spec.continuation == "blank":
            value = pl.when(first).then(value)
        exprs.append(value.alias(f"c{index}"))
    table = frame.select(first.alias("__first_line"), *exprs)
    if spec.rows == "orders":
        table = table.filter(pl.col("__first_line"))
    return table.drop("__first_line")


def _value(column: Column, job: ProfileJob) -> pl.Expr:
    if column.value is not None:
        return pl.lit(column.value, pl.String)
    if column.code is not None:
        return pl.col(f"code_{column.code}")
    if column.expr is not None:
        return _expression(column.expr)
    fmt = column.format or job.profile.date_format
    texts = [_text(name, fmt, job.timezone) for name in column.fields]
    texts = [pl.when(t != "").then(t) for t in texts]
    return pl.coalesce(texts) if len(texts) > 1 else texts[0]


def _text(name: str, fmt: str, timezone: str) -> pl.Expr:
    """A standard field as text: instants in the profile's time zone and format, dates in
    its format, money and counts as written numbers."""
    from ingest.schema import polars_schema

    dtype = polars_schema()[name]
    col = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        return col.dt.convert_time_zone(timezone).dt.strftime(fmt)
    if isinstance(dtype, pl.Date):
        return col.dt.strftime(fmt)
    return col.cast(pl.String)


def _external_id() -> pl.Expr:
    return pl.concat_str(pl.lit("ordermill_"), pl.col("channel"), pl.lit("_"),
                         pl.col("order_id")).str.replace_all(r"[^A-Za-z0-9_-]", "_")


def _expression(name: str) -> pl.Expr:
    line_seq = pl.col("__line_seq")
    if name == "order_seq":
        return pl.col("__seq").cast(pl.String)
    if name == "line_seq":
        return line_seq.cast(pl.String)
    if name == "line_index":
        return (line_seq - 1).cast(pl.String)
    if name == "line_seq_10000":
        return (line_seq * 10000).cast(pl.String)
    if name == "external_id":
        return _external_id()
    if name == "line_external_id":
        return pl.concat_str(_external_id(), pl.lit("_"), pl.col("line_no").cast(pl.String))
    if name == "order_ref":
        digest = pl.concat_str(pl.col("channel"), pl.lit("\x1f"), pl.col("order_id"))
        hashed: pl.Expr = digest.chash.sha2_256()  # type: ignore[attr-defined]
        return pl.lit("OM") + hashed.str.slice(0, 18).str.to_uppercase()
    if name == "ship_country_name":
        return pl.col("ship_country").replace_strict(_country_names(), default=None,
                                                     return_dtype=pl.String)
    if name == "discount_percent":
        gross = pl.col("unit_price") * pl.col("quantity")
        return pl.when(gross != 0).then(
            (pl.col("discount_amount") * 100 / gross).round(2).cast(pl.String)
        ).otherwise(pl.lit("0.00"))
    if name == "lines_total":
        return pl.col("line_total").sum().over(ORDER).cast(pl.String)
    raise AssertionError(name)  # (the loader checks every name against EXPRESSIONS)


def _country_names() -> dict[str, str]:
    import pycountry

    return {c.alpha_2: c.name for c in pycountry.countries}


def _write_csv(table: pl.DataFrame, spec: FileSpec, profile: Profile, path: Path) -> int:
    head = io.StringIO()
    writer = csv.writer(head, delimiter=profile.delimiter, lineterminator="\n")
    for row in range(spec.header_rows):
        writer.writerow([c.header[row] for c in spec.columns])
    body = table.write_csv(include_header=False, separator=profile.delimiter) \
        if table.height else ""
    path.write_bytes((head.getvalue() + body).encode(profile.encoding))
    return table.height


def _write_xlsx(table: pl.DataFrame, spec: FileSpec, path: Path) -> int:
    """Every cell as text (``@``), as ERP templates expect: codes keep leading zeros and
    money its digits; a value starting with ``=`` stays text, never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(spec.sheet)

    def cells(values: list[str | None]) -> list[WriteOnlyCell]:
        row = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            if value is not None:
                cell.data_type = "s"
            cell.number_format = "@"
            row.append(cell)
        return row

    for index in range(spec.header_rows):
        sheet.append(cells([c.header[index] for c in spec.columns]))
    for values in table.iter_rows():
        sheet.append(cells(list(values)))
    book.save(path)
    return table.height


def _write_json(frame: pl.DataFrame, profile: Profile, path: Path) -> int:
    """One standard order document per order, one per line of the file: the order's
    fields, ``lines[]``, ``lineage`` and ``change_type`` (``update`` when any line is)."""
    texts = frame.with_columns(
        pl.col("line_total").sum().over(ORDER).cast(pl.String).alias("__lines_total")
    ).with_columns(
        pl.col(pl.Datetime).dt.strftime(ISO_UTC),
        pl.col(pl.Decimal).cast(pl.String),
        pl.col(pl.Date).dt.strftime("%Y-%m-%d"))
    order_fields = [f for f in profile.order_fields if f not in ORDER]
    line_fields = list(dict.fromkeys([*profile.line_fields, "source", "source_row"]))
    docs = texts.group_by(ORDER, maintain_order=True).agg(
        pl.when((pl.col("change_type") == "update").any()).then(pl.lit("update"))
        .otherwise(pl.lit("new")).alias("change_type"),
        *[pl.col(f).first() for f in order_fields],
        pl.col("__lines_total").first().alias("lines_total"),
        pl.struct(line_fields).alias("lines"),
        pl.col("batch_id").first().alias("__batch"),
        pl.col("source").unique(maintain_order=True).alias("__sources"),
    ).with_columns(pl.struct(pl.col("__batch").alias("batch_id"),
                             pl.col("__sources").alias("sources")).alias("lineage")
                   ).drop("__batch", "__sources")
    docs.write_ndjson(path)
    return docs.height

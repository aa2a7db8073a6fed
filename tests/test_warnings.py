"""Warnings, not rejects: contact fields a platform masked, encrypted or wrote in a form of
its own never hold a line back. The line is clean, the standard field empty, the value as
read in warnings.csv; a mapping can still make a warning an error."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ingest.api import ingest
from ingest.errors import MappingError
from ingest.mapping.loader import parse_mapping
from ingest.mapping.model import Mapping

HEADER = ["No", "At", "Qty", "Price", "Item", "Phone", "Mail", "Zip", "Name", "Country"]


def mapping(extra: dict[str, Any] | None = None, phone_region: str = "CN") -> Mapping:
    return parse_mapping({
        "channel": "toy",
        "detect": {"header_contains": ["No", "Phone", "Mail"]},
        "parse": {"phone_region": phone_region},
        "constants": {"currency": "CNY", "order_status": "paid"},
        "fields": {"order_id": "No", "ordered_at": "At", "quantity": "Qty",
                   "unit_price": "Price", "product_name": "Item", "ship_phone": "Phone",
                   "buyer_email": "Mail", "ship_postcode": "Zip", "ship_name": "Name",
                   "ship_country": "Country"},
        **(extra or {}),
    }, "toy.toml")


def run(tmp_path: Path, rows: list[list[str]], toy: Mapping | None = None
        ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, dict[str, Any], str]:
    source = tmp_path / "toy.csv"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([HEADER, *rows])
    source.write_text(out.getvalue(), encoding="utf-8")
    report = ingest([source], tmp_path / "out", state_dir=tmp_path / "state",
                    mappings=[toy or mapping()])
    assert report.batch_dir is not None
    read: dict[str, Any] = {"infer_schema": False}
    orders = pl.read_csv(report.batch_dir / "orders.csv", **read)
    rejects = pl.read_csv(report.batch_dir / "rejects.csv", **read)
    warnings = pl.read_csv(report.batch_dir / "warnings.csv", **read)
    manifest = json.loads((report.batch_dir / "manifest.json").read_text(encoding="utf-8"))
    (entry,) = manifest["inputs"]
    assert entry["rows_in"] == (entry["clean"] + entry["rejected"] + entry["duplicates"]
                                + entry["waiting"])
    assert manifest["totals"]["warnings"] == entry["warnings"] == warnings.height
    outputs = {o["file"]: o["rows"] for o in manifest["outputs"]}
    assert outputs["warnings.csv"] == warnings.height
    return orders, rejects, warnings, entry, report.summary_line()


AT = "2024-11-11 10:00:00"


def test_masked_and_encrypted_contacts_pass_with_warnings(tmp_path: Path) -> None:
    orders, rejects, warnings, entry, line = run(tmp_path, [
        ["A1", AT, "1", "9.90", "tea", "138****5678", "a***@qq.com", "*****", "张*", "中国"],
        ["A2", AT, "1", "9.90", "tea", "$$8aZk3Q==", "##Yx1c", "518057", "##f00d", "中国"],
        ["A3", AT, "1", "9.90", "tea", "密文", "", "", "##密文", "中国"],
        ["A4", AT, "1", "9.90", "tea", "13812345678", "b@example.cn", "518057", "李四", "中国"],
    ])
    assert rejects.height == 0 and orders.height == 4 and entry["clean"] == 4
    by_order = {row["order_id"]: row for row in orders.iter_rows(named=True)}
    # the standard column is empty; a name with one * of its own is still a name
    assert by_order["A1"]["ship_phone"] is None and by_order["A1"]["buyer_email"] is None
    assert by_order["A1"]["ship_postcode"] is None and by_order["A1"]["ship_name"] == "张*"
    assert by_order["A2"]["ship_name"] is None and by_order["A2"]["ship_postcode"] == "518057"
    assert by_order["A4"]["ship_phone"] == "'+8613812345678"
    # ... and the value as read is in warnings.csv, one row per finding
    assert warnings.columns == ["source", "source_row", "order_id", "field", "code", "value",
                                "message"]
    found = set(warnings.select("order_id", "field", "code", "value").iter_rows())
    assert found == {
        ("A1", "ship_phone", "masked-contact", "138****5678"),
        ("A1", "buyer_email", "masked-contact", "a***@qq.com"),
        ("A1", "ship_postcode", "masked-contact", "*****"),
        ("A2", "ship_phone", "masked-contact", "$$8aZk3Q=="),
        ("A2", "buyer_email", "masked-contact", "##Yx1c"),
        ("A2", "ship_name", "masked-contact", "##f00d"),
        ("A3", "ship_phone", "masked-contact", "密文"),
        ("A3", "ship_name", "masked-contact", "##密文"),
    }
    assert entry["warnings"] == 8
    first = warnings.filter(pl.col("order_id") == "A1", pl.col("field") == "ship_phone")
    assert first["source_row"].item() == "2"
    assert first["message"].item() == ("ship_phone: '138****5678' in column Phone is masked "
                                       "or encrypted by the platform; left empty")
    assert line.startswith("1 file, 4 lines: 4 clean (8 warnings), 0 rejected -> ")


def test_unreadable_phones_and_emails_are_warnings_formula_guarded(tmp_path: Path) -> None:
    orders, rejects, warnings, entry, _ = run(tmp_path, [
        ["B1", AT, "1", "9.90", "tea", "1381234", "not-an-address", "", "王五", "中国"],
        ["B2", AT, "1", "9.90", "tea", "+1 (555)", "=cmd|' /C calc'!A0", "", "王五", "中国"],
        ["B2", AT, "0", "9.90", "cup", "+1 (555)", "", "", "王五", "中国"],
    ])
    # B1 goes through; B2 is rejected for its quantity, and its warnings are not written
    assert orders["order_id"].to_list() == ["B1"] and entry["rejected"] == 2
    assert orders["ship_phone"].to_list() == [None] and orders["buyer_email"].to_list() == [None]
    assert set(warnings.select("field", "code", "value").iter_rows()) == {
        ("ship_phone", "invalid-phone", "1381234"),
        ("buyer_email", "invalid-email", "not-an-address")}
    assert "non-positive-quantity" in rejects["codes"].to_list()[1]
    assert "invalid-phone" not in ";".join(rejects["codes"])


def test_warnings_csv_cells_are_formula_guarded(tmp_path: Path) -> None:
    _, _, _, _, _ = run(tmp_path, [
        ["C1", AT, "1", "9.90", "tea", "+1 (555)", "=HYPERLINK(\"x\")", "", "王五", "中国"]])
    batch = next(p for p in (tmp_path / "out").iterdir() if p.is_dir())
    text = (batch / "warnings.csv").read_text(encoding="utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert "'+1 (555)" in cells and "'=HYPERLINK(\"x\")" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


def test_a_mapping_can_make_a_warning_an_error(tmp_path: Path) -> None:
    strict = mapping({"checks": {"errors": ["masked-contact"]}})
    orders, rejects, warnings, entry, _ = run(tmp_path, [
        ["D1", AT, "1", "9.90", "tea", "138****5678", "", "", "", "中国"],
        ["D1", AT, "1", "9.90", "cup", "13812345678", "", "", "", "中国"],
        ["D2", AT, "1", "9.90", "tea", "13812345678", "", "", "", "中国"],
    ], strict)
    assert orders["order_id"].to_list() == ["D2"] and warnings.height == 0
    assert rejects["codes"].to_list() == ["masked-contact", "incomplete-order"]
    assert entry["rejected"] == 2


def test_only_warnings_can_be_made_errors() -> None:
    with pytest.raises(MappingError, match="'invalid-date' is a row code; only warnings"):
        mapping({"checks": {"errors": ["invalid-date"]}})
    with pytest.raises(MappingError, match="did you mean 'masked-contact'"):
        mapping({"checks": {"errors": ["masked-contacts"]}})


def test_foreign_phones_are_read_in_the_line_s_ship_country(tmp_path: Path) -> None:
    # A US shop's mapping: national numbers of other countries are read in the line's own
    # ship country (NL and DE through libphonenumber's metadata, as no fast rule has NL).
    orders, rejects, warnings, _, _ = run(tmp_path, [
        ["E1", AT, "1", "9.90", "tea", "06 12345678", "", "", "", "NL"],
        ["E2", AT, "1", "9.90", "tea", "0171 2345678", "", "", "", "Deutschland"],
        ["E3", AT, "1", "9.90", "tea", "(415) 555-0132", "", "", "", "US"],
        ["E4", AT, "1", "9.90", "tea", "(415) 555-0132", "", "", "", ""],
        ["E5", AT, "1", "9.90", "tea", "06 12345678", "", "", "", "US"],
        ["E6", AT, "1", "9.90", "tea", "+31 6 12345678", "", "", "", "US"],
    ], mapping(phone_region="US"))
    assert rejects.height == 0
    phones = dict(orders.select("order_id", "ship_phone").iter_rows())
    assert phones == {"E1": "'+31612345678", "E2": "'+491712345678", "E3": "'+14155550132",
                      "E4": "'+14155550132", "E5": None, "E6": "'+31612345678"}
    assert warnings.select("order_id", "code").rows() == [("E5", "invalid-phone")]

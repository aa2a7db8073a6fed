"""Customer purchase orders as spreadsheets: form area, table found below titles, ended at
totals and signatures, merged cells, formulas, dates as serials, several sheets, ods."""

from __future__ import annotations

import datetime as dt
import sys
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
from conftest import MAPPINGS, ROOT, SAMPLES

from ingest.api import ingest
from ingest.errors import MappingError
from ingest.mapping.loader import load_mappings, parse_mapping
from ingest.writers.formats import unguarded

sys.path.insert(0, str(ROOT / "samples"))
from gen_po import write_acme, write_huaxin

ACME = SAMPLES / "po" / "acme-PO-4500012345.xlsx"


def run(paths: list[Path], tmp_path: Path, mappings_dir: Path = MAPPINGS
        ) -> tuple[dict[str, Any], pl.DataFrame, pl.DataFrame]:
    report = ingest(paths, tmp_path / "out", mappings_dir=mappings_dir)
    assert report.batch_dir is not None and report.manifest is not None
    orders = unguarded(pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False))
    rejects = pl.read_csv(report.batch_dir / "rejects.csv", infer_schema=False)
    return report.manifest, orders, rejects


def test_english_po_form_area_merges_formulas_and_serial_dates(tmp_path: Path) -> None:
    manifest, orders, rejects = run([ACME], tmp_path)
    entry = manifest["inputs"][0]
    assert entry["channel"] == "po-acme" and entry["header_row"] == 12
    assert (entry["rows_in"], entry["clean"], entry["rejected"]) == (5, 5, 0)
    # Title, logo and form rows above; Subtotal ends the table; Freight, Total, notes and
    # the signature block below it: counted, never read as lines.
    assert entry["layout_rows"] == {"blank": 1, "above_header": 11, "footer": 1,
                                    "below_table": 6}
    assert orders["order_id"].unique().to_list() == ["4500012345"]  # PO#: form value
    assert set(orders["currency"]) == {"USD"}  # "Currency: USD" in one cell
    assert set(orders["buyer_phone"]) == {"+15105550143"}  # through the phone parser
    assert set(orders["ordered_at"]) == {"2024-11-12T17:30:00Z"}  # a date cell, LA time
    assert set(orders["ship_address"]) == {
        "ACME Receiving Dock 3, 1200 Harbor Blvd, Oakland, CA 94607"}  # below "Ship To:"
    # Need By is merged over lines 1-3 (a date cell) and 4-5 (the serial 45642).
    assert orders["requested_delivery_date"].to_list() == ["2024-12-02"] * 3 + [
        "2024-12-16"] * 2
    assert orders["sku"].to_list()[2] == "000123"  # leading zeros kept
    assert orders["line_total"].to_list() == ["210.00", "55.00", "40.00", "226.80", "217.50"]
    assert rejects.height == 0


def test_chinese_po_merged_form_cells_text_numbers_and_terms_sheet(tmp_path: Path) -> None:
    source = tmp_path / "hx.xlsx"
    write_huaxin(source)
    manifest, _orders, rejects = run([source], tmp_path)
    entry = manifest["inputs"][0]
    assert entry["channel"] == "po-huaxin" and entry["sheet"] == "采购订单"
    assert entry["form"]["order_id"] == "HX-PO-20241118-007"
    assert (entry["rows_in"], entry["clean"], entry["rejected"]) == (5, 0, 5)
    by_row = dict(zip(rejects["source_row"], rejects["codes"], strict=True))
    assert "invalid-money" in by_row["13"]  # 单价 待定
    assert by_row["10"] == "incomplete-order"  # the PO is held back whole
    # Text numbers with thousands separators read as numbers (the held-back lines parse).
    assert "1,200" in rejects["数量"].to_list()


def test_formula_without_cached_value_rejects_the_line_naming_field_and_column(
        tmp_path: Path) -> None:
    source = tmp_path / "bare.xlsx"
    write_acme(source, cached=False)  # as openpyxl leaves it: formulas, no values
    _manifest, orders, rejects = run([source], tmp_path)
    assert orders.height == 0 and rejects.height == 5
    assert set(rejects["codes"]) == {"formula-without-value"}
    assert rejects["messages"][0] == ("line_total: column Amount holds a formula with no "
                                      "value")


def po_sheet(sheet: Any, form: dict[str, Any], lines: list[list[Any]], top: int = 5) -> None:
    for ref, value in form.items():
        sheet[ref] = value
    for column, name in enumerate(["Item", "Qty", "Price"], start=1):
        sheet.cell(row=top, column=column, value=name)
    for offset, line in enumerate(lines, start=1):
        for column, value in enumerate(line, start=1):
            sheet.cell(row=top + offset, column=column, value=value)


MAPPING = """
channel = "po-test"
[detect]
header_contains = ["Item", "Qty", "Price"]
[constants]
order_status = "paid"
currency = "EUR"
[fields]
sku = "Item"
quantity = "Qty"
unit_price = "Price"
"""


PO_AND_DATE = 'order_id = { label = "PO#" }\nordered_at = { label = "Date" }\n'


def po_form(number: str) -> dict[str, Any]:
    """A form area with the PO number and date beside their labels."""
    return {"A1": "PO#", "B1": number, "A2": "Date", "B2": "2024-03-05"}


def mapping_dir(tmp_path: Path, fields: str) -> Path:
    folder = tmp_path / "mappings"
    folder.mkdir(exist_ok=True)
    (folder / "po-test.toml").write_text(MAPPING + fields, encoding="utf-8")
    return folder


def test_form_labels_inline_regex_and_below(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    po_sheet(sheet, {"A1": "Purchase order no.: PO-77", "A2": "Datum", "A3": "05.03.2024",
                     "C2": "Kunde", "D2": "Müller GmbH"}, [["X-1", 2, "3.50", None]])
    source = tmp_path / "po.xlsx"
    workbook.save(source)
    folder = mapping_dir(tmp_path, """
order_id = { label_regex = '(?i)^purchase order no\\.?:\\s*(\\S+)' }
ordered_at = { label = "datum", take = "below", formats = ["%d.%m.%Y"] }
buyer_name = { label = ["Kunde:"] }
""")
    _manifest, orders, rejects = run([source], tmp_path, folder)
    assert rejects.height == 0, rejects["messages"].to_list()
    assert orders.row(0, named=True)["order_id"] == "PO-77"
    assert orders["ordered_at"][0] == "2024-03-05T00:00:00Z"
    assert orders["buyer_name"][0] == "Müller GmbH"


def test_missing_form_value_rejects_with_missing_required(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    po_sheet(workbook.active, {"A1": "Order date", "B1": "2024-03-05"},
             [["X-1", 2, "3.50"], ["X-2", 1, "1.00"]])
    source = tmp_path / "po.xlsx"
    workbook.save(source)
    folder = mapping_dir(tmp_path, 'order_id = { label = "PO#" }\nordered_at = '
                                   '{ label = "Order date" }\n')
    manifest, _orders, rejects = run([source], tmp_path, folder)
    assert manifest["inputs"][0]["rows_in"] == 2 and rejects.height == 2
    assert set(rejects["codes"]) == {"missing-required"}
    assert "order_id is required but column (form label PO#) is empty" in rejects[
        "messages"][0]


def test_merged_order_numbers_fill_lines_and_unread_formulas_do_not_reject(
        tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"] = "Order date"
    sheet["B1"] = dt.datetime(2024, 3, 5, 10, 0)
    for column, name in enumerate(["PO", "Item", "Qty", "Price"], start=2):
        sheet.cell(row=3, column=column, value=name)
    for offset, line in enumerate([["PO-1", "A", 1, 2], [None, "B", 2, 2], ["PO-2", "C", 1, 5]],
                                  start=4):
        for column, value in enumerate(line, start=2):
            sheet.cell(row=offset, column=column, value=value)
        sheet.cell(row=offset, column=6, value=f"=D{offset}*E{offset}")  # no value saved
    sheet["F3"] = "Check"  # a column the mapping does not read
    sheet.merge_cells("B4:B5")
    source = tmp_path / "po.xlsx"
    workbook.save(source)
    folder = mapping_dir(tmp_path, 'order_id = "PO"\nordered_at = { label = "Order date" }\n')
    _manifest, orders, rejects = run([source], tmp_path, folder)
    assert rejects.height == 0
    assert orders["order_id"].to_list() == ["PO-1", "PO-1", "PO-2"]
    assert orders["line_no"].to_list() == ["1", "2", "1"]


def test_table_on_a_later_sheet_is_found_and_notes_after_blank_rows_are_layout(
        tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    cover = workbook.active
    cover.title = "Cover"
    cover["A1"] = "Please find our order on the next sheet."
    sheet = workbook.create_sheet("Order")
    po_sheet(sheet, po_form("9001"),
             [["X-1", 2, "3.50"], [None, None, None], ["X-2", 1, "1.00"], [None, None, None],
              [None, None, None], ["Thank you for your business"]])
    source = tmp_path / "po.xlsx"
    workbook.save(source)
    folder = mapping_dir(tmp_path, PO_AND_DATE)
    manifest, orders, _rejects = run([source], tmp_path, folder)
    entry = manifest["inputs"][0]
    assert entry["sheet"] == "Order"
    assert orders["sku"].to_list() == ["X-1", "X-2"]  # one blank row does not end a table
    assert entry["rows_in"] == 2 and entry["layout_rows"]["blank"] == 1
    assert entry["layout_rows"]["below_table"] == 3  # two blank rows and the note


def test_ods_workbook_is_read(tmp_path: Path) -> None:
    source = tmp_path / "po.ods"
    write_ods(source, [["PO#", "8001", "", ""], ["Date", "2024-03-05", "", ""],
                       ["", "", "", ""], ["Item", "Qty", "Price", ""],
                       ["X-1", "2", "3.50", ""], ["Total", "", "7.00", ""]])
    folder = mapping_dir(tmp_path, PO_AND_DATE)
    manifest, orders, _rejects = run([source], tmp_path, folder)
    entry = manifest["inputs"][0]
    assert entry["header_row"] == 4 and entry["layout_rows"]["footer"] == 1
    assert orders.select("order_id", "sku", "quantity").rows() == [("8001", "X-1", "2")]


def write_ods(path: Path, rows: list[list[str]]) -> None:
    """A minimal OpenDocument spreadsheet, as its specification defines the package."""
    cells = "".join(
        "<table:table-row>" + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{v}</text:p>'
            "</table:table-cell>" if v else "<table:table-cell/>" for v in row)
        + "</table:table-row>" for row in rows)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="PO">{cells}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)


@pytest.mark.parametrize(("fields", "key", "problem"), [
    ('order_id = { label = "PO#", column = "PO" }', "fields.order_id", "exactly one of"),
    ('order_id = { label = "PO#", take = "left" }', "fields.order_id.take", "right, below"),
    ('order_id = { label = [] }', "fields.order_id.label", "at least one"),
    ('order_id = { column = "PO", take = "right" }', "fields.order_id.take", "label"),
    ("order_id = { label_regex = '(' }", "fields.order_id.label_regex", "regular expression"),
])
def test_form_label_mistakes_name_file_key_and_fix(fields: str, key: str, problem: str) -> None:
    import tomllib
    data = tomllib.loads(MAPPING + 'ordered_at = "Date"\n' + fields)
    with pytest.raises(MappingError) as caught:
        parse_mapping(data, "mappings/po-test.toml")
    assert caught.value.key == key and problem in caught.value.problem
    assert str(caught.value).startswith(f"mappings/po-test.toml: {key}: ")


def test_bundled_po_mappings_load() -> None:
    channels = {m.channel for m in load_mappings(MAPPINGS)}
    assert {"po-acme", "po-huaxin"} <= channels


def test_a_note_merged_across_the_sheet_below_the_table_is_not_a_line(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    po_sheet(sheet, po_form("9002"),
             [["X-1", 2, "3.50"], ["X-2", 1, "1.00"], [None, None, None], [None, None, None],
              ["Please deliver to dock 3 before noon"]])
    sheet.merge_cells("A10:C10")  # the note, merged across the table's columns
    source = tmp_path / "po.xlsx"
    workbook.save(source)
    folder = mapping_dir(tmp_path, PO_AND_DATE)
    manifest, orders, rejects = run([source], tmp_path, folder)
    entry = manifest["inputs"][0]
    assert orders["sku"].to_list() == ["X-1", "X-2"] and rejects.height == 0
    assert entry["layout_rows"]["below_table"] == 3  # two blank rows and the note


def test_a_header_cell_saved_as_a_formula_without_value_is_a_clear_error(
        tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    po_sheet(sheet, po_form("9003"),
             [["X-1", 2, "3.50", "7.00"]])
    sheet["D5"] = '="Amo"&"unt"'  # openpyxl saves formulas without their values
    source = tmp_path / "po.xlsx"
    workbook.save(source)
    folder = mapping_dir(tmp_path, PO_AND_DATE)
    report = ingest([source], tmp_path / "out", mappings_dir=folder)
    (entry,) = report.unreadable
    assert entry["code"] == "unreadable-workbook"
    assert "header cell D5 is a formula saved without its value" in entry["reason"]


@pytest.mark.parametrize(("numbers", "line_numbers"), [
    (["PO-1", "PO-1", "PO-2"], ["1", "2", "1"]),  # an order's lines together: the usual
    (["PO-1", "PO-2", "PO-1"], ["1", "1", "2"]),  # apart: still numbered within the order
])
def test_line_numbers_count_within_each_order(tmp_path: Path, numbers: list[str],
                                              line_numbers: list[str]) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for column, name in enumerate(["PO", "Date", "Item", "Qty", "Price"], start=1):
        sheet.cell(row=1, column=column, value=name)
    for row, number in enumerate(numbers, start=2):
        for column, value in enumerate([number, "2024-03-05", f"X-{row}", 1, 2], start=1):
            sheet.cell(row=row, column=column, value=value)
    source = tmp_path / "po.xlsx"
    workbook.save(source)
    folder = mapping_dir(tmp_path, 'order_id = "PO"\nordered_at = "Date"\n')
    _manifest, orders, rejects = run([source], tmp_path, folder)
    assert rejects.height == 0
    assert orders.select("order_id", "line_no").rows() == list(zip(numbers, line_numbers,
                                                                    strict=True))


# The ACME sample as its Excel saves it as "CSV UTF-8": every row as wide as the sheet, the
# values as displayed (a date as the US locale shows it), merged cells in their first cell.
ACME_CSV = """\ufeffACME INDUSTRIAL SUPPLY, INC.,,,,,PURCHASE ORDER,,\r
,,,,,Page 1 of 1,,\r
,,,,,,,\r
PO#:,4500012345,,,PO Date:,11/12/2024 9:30,,\r
Buyer:,Dana Whitfield,,,Currency: USD,,,\r
Ship To:,,,,Contact Phone:,(510) 555-0143,,\r
"ACME Receiving Dock 3, 1200 Harbor Blvd, Oakland, CA 94607",,,,,,,\r
,,,,,,,\r
Line,Item No.,Description,Qty,UOM,Unit Price,Amount,Need By\r
1,00451-B,"Stainless hex bolt M8x40, A2-70",500,EA,0.42,210.00,2024-12-02\r
2,00452-B,"Hex nut M8, A2-70",500,EA,0.11,55.00,\r
3,000123,"Flat washer M8, DIN 125","1,000",EA,0.04,40.00,\r
,,,,,,,\r
,,,,,Subtotal,305.00,\r
,,,,,Total,305.00,\r
,,,,,,,\r
Notes: Please reference the PO# on all invoices and packing slips.,,,,,,,\r
Authorized Signature: ______________________,,,,Date: ____________,,,\r
"""


def test_a_po_saved_as_csv_reads_like_its_workbook(tmp_path: Path) -> None:
    source = tmp_path / "acme-PO-4500012345.csv"
    source.write_text(ACME_CSV, encoding="utf-8", newline="")
    manifest, orders, rejects = run([source], tmp_path)
    entry = manifest["inputs"][0]
    assert (entry["channel"], entry["header_row"], entry["encoding"]) == (
        "po-acme", 9, "utf-8-sig")
    assert (entry["rows_in"], entry["clean"], entry["rejected"]) == (3, 3, 0)
    # The table ends at Subtotal, as in the workbook; the rows below it are layout.
    assert entry["layout_rows"] == {"blank": 1, "above_header": 8, "footer": 1,
                                    "below_table": 4}
    assert entry["form"]["order_id"] == "4500012345"
    assert orders["order_id"].unique().to_list() == ["4500012345"]
    assert set(orders["currency"]) == {"USD"} and set(orders["buyer_phone"]) == {"+15105550143"}
    assert set(orders["ordered_at"]) == {"2024-11-12T17:30:00Z"}  # m/d/Y H:M, LA time
    assert set(orders["ship_address"]) == {
        "ACME Receiving Dock 3, 1200 Harbor Blvd, Oakland, CA 94607"}
    assert orders["quantity"].to_list() == ["500", "500", "1000"]
    assert orders["line_total"].to_list() == ["210.00", "55.00", "40.00"]
    assert rejects.height == 0


def test_only_mappings_with_form_labels_read_text_files_as_forms() -> None:
    # An export's text file is read as before: its blank rows dropped and counted, its rows
    # after them still lines, nothing kept around the table.
    mappings = load_mappings(MAPPINGS)
    assert not any(m.reader.form for m in mappings if m.channel == "shopify")
    assert all(m.reader.form for m in mappings if m.channel.startswith("po-"))

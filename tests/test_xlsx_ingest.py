"""An export saved as xlsx gives the same order lines as the CSV, with Excel's row numbers."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import polars as pl
from conftest import SAMPLES
from polars.testing import assert_frame_equal

from ingest.api import ingest

SHOPIFY = SAMPLES / "shopify" / "orders_export_1.csv"


def as_workbook(source: Path, target: Path, rows_above: int) -> None:
    """The CSV as Excel would hold it after a person pasted it under a title block, with a
    second sheet of notes the reader must ignore."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "orders"
    sheet["A1"] = "Shopify orders, March 2024"
    with source.open(encoding="utf-8", newline="") as handle:
        for offset, row in enumerate(csv.reader(handle)):
            for column, value in enumerate(row, start=1):
                if value != "":
                    sheet.cell(row=rows_above + 1 + offset, column=column, value=value)
    workbook.create_sheet("notes")["A1"] = "nothing to see"
    workbook.save(target)


def test_xlsx_and_csv_give_the_same_lines(tmp_path: Path) -> None:
    workbook = tmp_path / "orders.xlsx"
    as_workbook(SHOPIFY, workbook, rows_above=3)
    # Two ledgers: in one, the xlsx lines would be duplicates of the CSV lines.
    from_csv = ingest([SHOPIFY], tmp_path / "a", state_dir=tmp_path / "sa")
    from_xlsx = ingest([workbook], tmp_path / "b", state_dir=tmp_path / "sb")
    assert from_csv.batch_dir is not None and from_xlsx.batch_dir is not None
    assert from_xlsx.manifest is not None
    assert from_xlsx.manifest["inputs"][0]["header_row"] == 4
    csv_rows = pl.read_csv(from_csv.batch_dir / "orders.csv", infer_schema=False)
    xlsx_rows = pl.read_csv(from_xlsx.batch_dir / "orders.csv", infer_schema=False)
    drop = ["batch_id", "source", "source_row"]
    assert_frame_equal(csv_rows.drop(drop), xlsx_rows.drop(drop))
    # Header moved from row 1 to row 4: every source_row moves by 3.
    assert [int(r) + 3 for r in csv_rows["source_row"]] == [
        int(r) for r in xlsx_rows["source_row"]]
    csv_rejects = pl.read_csv(from_csv.batch_dir / "rejects.csv", infer_schema=False)
    xlsx_rejects = pl.read_csv(from_xlsx.batch_dir / "rejects.csv", infer_schema=False)
    assert csv_rejects["codes"].to_list() == xlsx_rejects["codes"].to_list()


def test_numbers_stored_as_numbers_in_xlsx_are_read_exactly(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Name", "Financial Status", "Lineitem quantity", "Lineitem name",
                  "Lineitem price", "Created at", "Currency"])
    sheet.append(["#2001", "paid", 3, "Tea", 19.99, "2024-03-05 14:22:10 -0500", "USD"])
    sheet.append(["#2002", "paid", 2, "Cup", 7, "2024-03-05 14:22:10 -0500", "usd"])
    path = tmp_path / "numbers.xlsx"
    workbook.save(path)
    report = ingest([path], tmp_path / "out", output_format="parquet")
    orders = pl.read_parquet(report.batch_dir / "orders.parquet")
    assert orders["quantity"].to_list() == [3, 2]
    assert [str(v) for v in orders["unit_price"]] == ["19.99", "7.00"]
    assert [str(v) for v in orders["line_total"]] == ["59.97", "14.00"]
    assert orders["currency"].to_list() == ["USD", "USD"]

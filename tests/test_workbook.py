"""The analyst's workbench: rejects.xlsx (fills, comments, text cells, the formula guard),
fixing cells in it and feeding it (or rejects.csv) back in, exactly once, with lineage and
what is still outstanding."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from conftest import SAMPLES, run_cli

from ingest.api import ingest, outstanding
from ingest.config import load_settings
from ingest.writers.workbook import (
    EXCEL_ROWS,
    KINDS,
    MARKER_SHEET,
    SUMMARY_SHEET,
    SheetData,
    sheet_names,
    write_workbook,
)

SHOPIFY = SAMPLES / "shopify" / "orders_export_1.csv"
RED, AMBER, BLUE = (f"00{KINDS[k][0]}" for k in ("reject", "warning", "held"))


@pytest.fixture
def first(tmp_path: Path) -> Path:
    """The Shopify sample ingested once: its batch folder."""
    source = tmp_path / "drop" / "orders_export_1.csv"
    source.parent.mkdir()
    shutil.copy(SHOPIFY, source)
    report = ingest([source], out=tmp_path / "out", state_dir=tmp_path / "state")
    assert report.batch_dir is not None
    return report.batch_dir


def sheet_of(book: openpyxl.Workbook) -> openpyxl.worksheet.worksheet.Worksheet:
    return book[next(n for n in book.sheetnames if n.startswith("shopify"))]


def row_of(sheet: openpyxl.worksheet.worksheet.Worksheet, source_row: int) -> int:
    return next(r for r in range(2, sheet.max_row + 1)
                if sheet.cell(r, 1).value == str(source_row))


def column_of(sheet: openpyxl.worksheet.worksheet.Worksheet, name: str) -> int:
    return next(c for c in range(1, sheet.max_column + 1) if sheet.cell(1, c).value == name)


def test_the_workbook_marks_each_bad_cell_and_says_why(first: Path) -> None:
    book = openpyxl.load_workbook(first / "rejects.xlsx")
    assert book.sheetnames[0] == SUMMARY_SHEET
    assert book[MARKER_SHEET].sheet_state == "hidden"
    sheet = sheet_of(book)
    assert sheet.freeze_panes == "B2"
    assert sheet.auto_filter.ref.startswith("A1:")
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["source_row", "codes", "messages"]
    with SHOPIFY.open(encoding="utf-8") as handle:
        assert header[3:] == next(csv.reader(handle))  # the source's columns, in its order
    # rejected: red, with the reason
    created = sheet.cell(row_of(sheet, 11), column_of(sheet, "Created at"))
    assert created.fill.fgColor.rgb == RED
    assert "not a date/time" in created.comment.text
    # held back for its order's sake: marked as such
    held = sheet.cell(row_of(sheet, 12), column_of(sheet, "Name"))
    assert held.fill.fgColor.rgb == BLUE and "held back" in held.comment.text
    assert sheet.cell(row_of(sheet, 12), 2).value == "incomplete-order"
    # a warning on a line that was output: amber
    email = sheet.cell(row_of(sheet, 10), column_of(sheet, "Email"))
    assert email.fill.fgColor.rgb == AMBER and "e-mail" in email.comment.text
    # every value is text, as the source had it (no number, no date)
    values = [c.value for row in sheet.iter_rows(min_row=2) for c in row]
    assert all(v is None or isinstance(v, str) for v in values)
    # summary: counts by reason and a link to the sheet
    summary = book[SUMMARY_SHEET]
    cells = {c.value: c for row in summary.iter_rows() for c in row if c.value is not None}
    assert "invalid-date" in cells and sheet.title in cells
    assert cells[sheet.title].hyperlink.location == f"'{sheet.title}'!A1"


def test_values_that_look_like_formulas_stay_text(tmp_path: Path) -> None:
    hostile = ["=HYPERLINK(\"http://x\")", "+8613812345678", "-12", "@SUM(A1)", "\t=1",
               "\r=1", "47120000000000000123", "2024-11-12 08:00:00"]
    rows = pl.DataFrame({"source_row": [str(i + 2) for i in range(len(hostile))],
                         "codes": ["invalid-money"] * len(hostile),
                         "messages": ["unit_price: 'x' in column price is not money"]
                         * len(hostile),
                         "value": hostile, "=price": ["x"] * len(hostile)})
    marks = pl.DataFrame({"__pos": pl.Series(range(len(hostile)), dtype=pl.UInt32),
                          "column": ["value"] * len(hostile),
                          "kind": ["reject"] * len(hostile),
                          "message": ["bad"] * len(hostile)})
    data = SheetData("/drop/a.csv", "shop", "shop", ["value", "=price"], rows, marks,
                     pl.Series(["reject"] * len(hostile)), len(hostile))
    path = tmp_path / "rejects.xlsx"
    write_workbook([data], path, "20261206T000000Z-000000")
    sheet = openpyxl.load_workbook(path)["shop a"]
    assert sheet.cell(1, 5).value == "=price" and sheet.cell(1, 5).data_type == "s"
    for i, value in enumerate(hostile, start=2):
        cell = sheet.cell(i, 4)
        # (XML reads a lone CR back as LF: openpyxl writes it unescaped)
        assert cell.value == value.replace("\r", "\n")
        assert cell.data_type == "s"  # never "f" (a formula)


def test_sheet_names_are_unique_short_and_valid() -> None:
    names = sheet_names([("tmall", "/a/ExportOrderDetailList202411120800.csv"),
                         ("tmall", "/b/ExportOrderDetailList202411150930.csv"),
                         ("po-acme", "mail.eml/PO[1]:*?.xlsx"), ("x", "Summary")])
    assert len({n.casefold() for n in names}) == 4
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    assert names[0] != names[1]


def test_a_sheet_over_excels_limit_says_where_the_rest_is(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    from ingest.writers import workbook

    monkeypatch.setattr(workbook, "EXCEL_ROWS", 6)
    rows = pl.DataFrame({"source_row": [str(i) for i in range(10)], "codes": ["c"] * 10,
                         "messages": ["m"] * 10, "a": ["v"] * 10})
    data = SheetData("/drop/a.csv", "shop", "shop", ["a"], rows,
                     workbook.marks_for(rows, {}), pl.Series(["reject"] * 10), 10)
    path = tmp_path / "rejects.xlsx"
    write_workbook([data], path, "b")
    sheet = openpyxl.load_workbook(path)["shop a"]
    assert sheet.max_row == 6  # header, 4 rows, the note
    assert "rejects.csv holds every row" in sheet.cell(6, 2).value
    assert EXCEL_ROWS == 1_048_576


def fixed(batch: Path, tmp_path: Path, *, delete: int | None = None) -> Path:
    """The batch's rejects.xlsx with row 11's date and row 13's quantity fixed (row 12 was
    held back for 13's order), and a row deleted, as an analyst saves it."""
    book = openpyxl.load_workbook(batch / "rejects.xlsx")
    sheet = sheet_of(book)
    sheet.cell(row_of(sheet, 11), column_of(sheet, "Created at")).value = (
        "2024-03-10 10:58:00 -0500")
    sheet.cell(row_of(sheet, 13), column_of(sheet, "Lineitem quantity")).value = "1"
    for row in (12, 13):  # (the order's total, on its first line, with the line fixed)
        total = sheet.cell(row_of(sheet, row), column_of(sheet, "Total"))
        if total.value:
            total.value = "66.64"
    if delete is not None:
        sheet.delete_rows(row_of(sheet, delete))
    path = tmp_path / "fix" / batch.name / "rejects.xlsx"
    path.parent.mkdir(parents=True)
    book.save(path)
    return path


def test_fixed_rows_fed_back_come_out_once_with_their_lineage(first: Path,
                                                              tmp_path: Path) -> None:
    before = pl.read_csv(first / "rejects.csv", infer_schema=False)
    path = fixed(first, tmp_path, delete=14)
    state = tmp_path / "state"
    report = ingest([path], out=tmp_path / "out", state_dir=state)
    assert report.batch_dir is not None
    orders = pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False)
    # the fixed lines, and the line held back for its order's sake now that the order is
    # whole, under their original rows
    assert sorted(orders["source_row"].to_list()) == ["11", "12", "13"]
    assert set(orders["source"]) == {str(tmp_path / "drop" / "orders_export_1.csv")}
    assert set(orders["corrected_from"]) == {f"{first.name}/rejects.xlsx"}
    assert set(orders["order_id"]) == {"#1007", "#1008"}
    # a row fed back unchanged is rejected again with the same reasons; 14 was deleted
    again = pl.read_csv(report.batch_dir / "rejects.csv", infer_schema=False)
    expected = before.filter(pl.col("source_row").is_in(["15"]))
    assert again.select("source_row", "codes").sort("source_row").equals(
        expected.select("source_row", "codes").sort("source_row"))
    # the warned line was output before: a duplicate, not output twice
    assert report.manifest is not None and report.manifest["totals"]["duplicates"] == 1
    # still outstanding: the deleted row and those rejected again
    left = outstanding(load_settings({"state_dir": str(state)}))
    assert sorted(r["source_row"] for r in left) == [14, 15]
    # the same file again: nothing is output twice
    again_report = ingest([path], out=tmp_path / "out", state_dir=state)
    assert again_report.manifest is None or again_report.manifest["totals"]["clean"] == 0


def test_a_fixed_line_that_arrived_meanwhile_is_not_output_twice(first: Path,
                                                                 tmp_path: Path) -> None:
    state = tmp_path / "state"
    newer = tmp_path / "newer" / "orders_export_2.csv"
    newer.parent.mkdir()
    text = SHOPIFY.read_text(encoding="utf-8").replace("March 10 2024 10:58",
                                                       "2024-03-10 10:58:00 -0500")
    newer.write_text(text, encoding="utf-8")
    arrived = ingest([newer], out=tmp_path / "out", state_dir=state)
    assert arrived.batch_dir is not None
    assert "#1007" in set(pl.read_csv(arrived.batch_dir / "orders.csv",
                                      infer_schema=False)["order_id"])
    report = ingest([fixed(first, tmp_path)], out=tmp_path / "out", state_dir=state)
    assert report.manifest is not None
    assert report.manifest["totals"]["clean"] == 0  # duplicates now, never twice
    assert report.manifest["totals"]["duplicates"] >= 2


def test_rejects_csv_can_be_fixed_and_fed_back(first: Path, tmp_path: Path) -> None:
    frame = pl.read_csv(first / "rejects.csv", infer_schema=False)
    frame = frame.with_columns(pl.when(pl.col("source_row") == "11")
                               .then(pl.lit("2024-03-10 10:58:00 -0500"))
                               .otherwise(pl.col("Created at")).alias("Created at"))
    path = tmp_path / "fix" / first.name / "rejects.csv"
    path.parent.mkdir(parents=True)
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue())
    report = ingest([path], out=tmp_path / "out", state_dir=tmp_path / "state")
    assert report.batch_dir is not None
    orders = pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False)
    assert sorted(orders["source_row"].to_list()) == ["11"]
    assert set(orders["corrected_from"]) == {f"{first.name}/rejects.csv"}


def test_history_lists_what_is_outstanding(first: Path, tmp_path: Path) -> None:
    result = run_cli("history", "--outstanding", "--state-dir", str(tmp_path / "state"))
    assert result.returncode == 0, result.stderr
    assert "orders_export_1.csv:14" in result.stdout and "invalid-money" in result.stdout


def cells_of(batch: Path, drop: Path) -> list[tuple[str, str, object, str | None, str | None]]:
    """Every cell of every sheet but the marker: sheet, place, value (the batch and the
    folder read named alike), fill, comment."""
    book = openpyxl.load_workbook(batch / "rejects.xlsx")

    def alike(value: object) -> object:
        return value.replace(batch.name, "BATCH").replace(str(drop), "DROP") if isinstance(
            value, str) else value
    return [(sheet.title, cell.coordinate, alike(cell.value), cell.fill.fgColor.rgb,
             cell.comment.text if cell.comment else None)
            for sheet in book.worksheets if sheet.title != MARKER_SHEET
            for row in sheet.iter_rows() for cell in row]


@pytest.mark.parametrize("child", ["dies", "writes"])
def test_the_parsers_process_writes_the_same_workbook(tmp_path: Path, first: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      child: str) -> None:
    """With the parser's process running (a batch that read workbooks), it writes the
    workbook while the batch's own files are written: the same file, cell for cell; if
    it dies meanwhile, the file is written by the run itself."""
    from ingest.readers import isolated

    sent = []
    submit = isolated.submit

    def watched(name: str, function: object, *args: object) -> object:
        ticket = submit(name, function, *args)  # type: ignore[arg-type]
        sent.append(name)
        if child == "dies" and name == "rejects.xlsx":
            assert isolated._CURRENT is not None
            isolated._CURRENT.process.kill()
        return ticket

    monkeypatch.setattr(isolated, "submit", watched)
    isolated.warm()
    source = tmp_path / "again" / "orders_export_1.csv"
    source.parent.mkdir()
    shutil.copy(SHOPIFY, source)
    report = ingest([source], out=tmp_path / "out2", state_dir=tmp_path / "state2")
    assert report.batch_dir is not None
    assert sent.count("rejects.xlsx") == 1
    mine = cells_of(report.batch_dir, source.parent)
    assert len(mine) > 100
    assert mine == cells_of(first, tmp_path / "drop")

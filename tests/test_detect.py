"""Detection over a document opened once, inputs that are bytes rather than files, and the
order shapes compile relies on."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from ingest.errors import InputError
from ingest.inputs import Input
from ingest.mapping.detect import detect
from ingest.mapping.loader import parse_mapping
from ingest.mapping.model import Mapping
from ingest.mapping.orders import shape_orders
from ingest.readers import RawTable, open_document
from ingest.readers import xlsx as xlsx_module

FIELDS = {"order_id": "No", "ordered_at": "At", "order_status": "St", "currency": "Cur",
          "quantity": "Qty", "unit_price": "Price"}
CSV = "No,At,St,Cur,Qty,Price\nA1,2024-11-11 00:00:00,paid,CNY,1,2.50\n"


def mapping(detect_table: dict[str, Any], channel: str = "toy", **extra: Any) -> Mapping:
    return parse_mapping({"channel": channel, "detect": detect_table, "fields": FIELDS,
                          **extra}, f"{channel}.toml")


def test_a_bytes_input_reads_as_the_same_file_does(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(CSV, encoding="utf-8")
    workbook = openpyxl.Workbook()
    for row in CSV.splitlines():
        workbook.active.append(row.split(","))
    workbook.save(tmp_path / "orders.xlsx")
    for name in ("orders.csv", "orders.xlsx"):
        tables = []
        for source in (Input.from_path(tmp_path / name),
                       Input.from_bytes(f"attachment {name}", (tmp_path / name).read_bytes())):
            with open_document(source) as document:
                match = detect(document, [mapping({"header_contains": ["No", "Qty"]})])
                tables.append(document.read(match.options, match.header_row))
        on_disk, in_memory = tables
        assert (on_disk.name, in_memory.name) == (str(tmp_path / name), f"attachment {name}")
        assert in_memory.header == on_disk.header
        assert in_memory.frame.equals(on_disk.frame)


def test_a_workbook_copy_of_bytes_is_removed_when_the_document_closes() -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["No", "Qty"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with open_document(Input.from_bytes("po.xlsx", buffer.getvalue())) as document:
        assert document.sheets() == ["Sheet"]
        path = document.path  # type: ignore[attr-defined]
        assert path.is_file()
    assert not path.exists()


def test_a_sheet_peeked_for_detection_is_loaded_once_for_the_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Notes"
    workbook.active.append(["nothing to see here"])
    orders = workbook.create_sheet("Orders")
    for row in CSV.splitlines():
        orders.append(row.split(","))
    workbook.save(tmp_path / "orders.xlsx")
    loads: list[str] = []
    real = xlsx_module._load

    def counted(name: str, path: Path, book: Any, sheet: str) -> pl.DataFrame:
        loads.append(sheet)
        return real(name, path, book, sheet)

    monkeypatch.setattr(xlsx_module, "_load", counted)
    toy = mapping({"header_contains": ["No", "Qty"]})
    for _ in range(2):  # a second document of the same file keeps nothing of the first
        with open_document(Input.from_path(tmp_path / "orders.xlsx")) as document:
            match = detect(document, [toy])
            table = document.read(match.options, match.header_row)
        assert (match.sheet, table.frame["No"].to_list()) == ("Orders", ["A1"])
    assert loads == ["Notes", "Orders"] * 2


def test_an_unrecognised_input_is_named_as_its_source_names_it() -> None:
    source = Input.from_bytes("mail 3: attachment.csv", b"Foo,Bar\n1,2\n")
    with open_document(source) as document, pytest.raises(InputError) as caught:
        detect(document, [mapping({"header_contains": ["No", "Qty"]})])
    assert str(caught.value).startswith("mail 3: attachment.csv: no mapping recognises")


def test_carried_values_reach_the_lines_once_and_the_table_keeps_its_own() -> None:
    frame = pl.DataFrame({"No": ["A1", "A1", "B2"], "Item": ["x", "y", "z"],
                          "Ship": ["Ann", "", "Bob"], "__reader_code": [None, None, None]},
                         schema_overrides={"__reader_code": pl.String})
    table = RawTable("t.csv", ["No", "Item", "Ship"], 1, frame)
    orders = {"key": "No", "carry_forward": ["Ship"]}
    plain = shape_orders(table, mapping({"header_contains": ["No"]}, orders=orders))
    # Without summary rows, compile carries the values; the table as read keeps its own.
    assert plain.table.frame["Ship"].to_list() == ["Ann", "", "Bob"]
    carried = plain.table.frame.select(plain.carried)["Ship"].to_list()
    assert carried == ["Ann", "Ann", "Bob"]
    summary = {**orders, "summary_when_empty": "Item"}
    folded = shape_orders(table, mapping({"header_contains": ["No"]}, orders=summary))
    # With them, the table holds the carried values already: nothing is carried twice.
    assert folded.carried == []
    assert folded.table.frame["Ship"].to_list() == ["Ann", "Ann", "Bob"]

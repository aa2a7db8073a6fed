"""Detection as a step a mapping chooses, over a document opened once: the strategies a
mapping may name, what a detector is handed, and inputs that are bytes rather than files."""

from __future__ import annotations

import dataclasses
import io
import tempfile
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
from conftest import MAPPINGS

from ingest.errors import InputError, MappingError
from ingest.inputs import Input
from ingest.mapping.detect import DETECTORS, Match, detect
from ingest.mapping.loader import load_mappings, parse_mapping
from ingest.mapping.model import Mapping
from ingest.mapping.orders import shape_orders
from ingest.readers import Document, RawTable, ReaderOptions, isolated, open_document
from ingest.readers import xlsx as xlsx_module

FIELDS = {"order_id": "No", "ordered_at": "At", "order_status": "St", "currency": "Cur",
          "quantity": "Qty", "unit_price": "Price"}
CSV = "No,At,St,Cur,Qty,Price\nA1,2024-11-11 00:00:00,paid,CNY,1,2.50\n"


def mapping(detect_table: dict[str, Any], channel: str = "toy", **extra: Any) -> Mapping:
    return parse_mapping({"channel": channel, "detect": detect_table, "fields": FIELDS,
                          **extra}, f"{channel}.toml")


def problem(detect_table: dict[str, Any]) -> str:
    with pytest.raises(MappingError) as caught:
        mapping(detect_table)
    return str(caught.value)


def test_header_is_the_default_and_only_strategy_yet() -> None:
    assert list(DETECTORS) == ["header"]
    assert mapping({"header_contains": ["No"]}).detect_by == "header"
    assert mapping({"by": "header", "header_contains": ["No"]}).detect_by == "header"
    assert {m.detect_by for m in load_mappings(MAPPINGS)} == {"header"}


def test_an_unknown_strategy_is_rejected_naming_the_known_ones() -> None:
    message = problem({"by": "headers", "header_contains": ["No"]})
    assert "detect.by" in message
    assert "unknown detection strategy 'headers' (did you mean 'header'?)" in message
    assert "known: header" in message
    assert "known: header" in problem({"by": "sender"})


def test_the_header_strategy_still_needs_its_signature() -> None:
    assert "detect.header_contains: is required" in problem({"by": "header"})


class BySender:
    """A detector as the mail source will need one: the input's origin names the sender."""

    def __init__(self) -> None:
        self.seen: list[tuple[Document, Input]] = []

    def match(self, document: Document, source: Input, mapping: Mapping) -> Match | None:
        self.seen.append((document, source))
        if source.origin.get("sender") != "orders@acme.example":
            return None
        return Match(mapping, 1, rank=(100,))


def test_a_detector_gets_the_document_and_the_input_it_was_opened_from(
        monkeypatch: pytest.MonkeyPatch) -> None:
    by_sender = BySender()
    monkeypatch.setitem(DETECTORS, "sender", by_sender)
    acme = dataclasses.replace(mapping({"header_contains": ["Nothing like it"]}, "acme"),
                               detect_by="sender")
    other = mapping({"header_contains": ["No", "Qty"]}, "other")
    mail = Input.from_bytes("mail 17 from orders@acme.example: orders.csv", CSV.encode(),
                            origin={"kind": "mail", "sender": "orders@acme.example"})
    with open_document(mail) as document:
        match = detect(document, [other, acme])
        table = document.read(match.options, match.header_row)
    assert match.mapping.channel == "acme"  # the stronger evidence wins over the header
    assert by_sender.seen == [(document, mail)]
    assert table.name == mail.name and table.frame["No"].to_list() == ["A1"]


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


def test_a_workbook_in_memory_is_read_without_a_copy_on_disk(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The workbook's bytes go to the parser as they are: nothing of an attachment is
    # written anywhere but the temporary hand-back of the parsed grid (removed at once).
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    workbook = openpyxl.Workbook()
    workbook.active.append(["No", "Qty"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with open_document(Input.from_bytes("po.xlsx", buffer.getvalue())) as document:
        assert document.sheets() == ["Sheet"]
        assert document.peek(ReaderOptions()).rows[0] == ["No", "Qty"]
        assert document.digest is not None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("eager", [True, False], ids=["small", "big"])
def test_a_sheet_peeked_for_detection_is_loaded_once_for_the_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, eager: bool) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Notes"
    workbook.active.append(["nothing to see here"])
    orders = workbook.create_sheet("Orders")
    for row in CSV.splitlines():
        orders.append(row.split(","))
    workbook.save(tmp_path / "orders.xlsx")
    if not eager:  # (a workbook too big to have its sheets loaded as it is opened)
        monkeypatch.setattr(xlsx_module, "EAGER_BYTES", 0)
    calls: list[str] = []
    loads: list[str] = []
    real_submit, real_load = isolated.submit, xlsx_module._load

    def counted_submit(name: str, function: Any, *args: Any) -> Any:
        calls.append(function.__name__)
        return real_submit(name, function, *args)

    def counted_load(name: str, path: Path, book: Any, sheet: str) -> pl.DataFrame:
        loads.append(sheet)
        return real_load(name, path, book, sheet)

    monkeypatch.setattr(isolated, "submit", counted_submit)
    monkeypatch.setattr(xlsx_module, "_load", counted_load)
    toy = mapping({"header_contains": ["No", "Qty"]})
    for _ in range(2):  # a second document of the same file keeps nothing of the first
        with open_document(Input.from_path(tmp_path / "orders.xlsx")) as document:
            match = detect(document, [toy])
            table = document.read(match.options, match.header_row)
        assert (match.sheet, table.frame["No"].to_list()) == ("Orders", ["A1"])
    if eager:  # one trip to the parser's process a workbook: its sheets come with it
        assert (calls, loads) == (["_child_book"] * 2, [])
    else:
        assert calls == ["_child_book", "_child_sheet", "_child_sheet"] * 2
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

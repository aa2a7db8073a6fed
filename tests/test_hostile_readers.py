"""Hostile inputs: no file can stop the nightly run. Each file is small and generated here;
each must end as rows with reject codes or as one input code, never as a crashed process."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import polars as pl
import pytest

from ingest.api import ingest
from ingest.columns import READER_CODE, READER_DETAIL, ROW
from ingest.errors import InputError
from ingest.inputs import Input
from ingest.readers import ChunkDocument, open_document
from ingest.readers.base import NotChunkable
from ingest.readers.options import ReaderOptions

HEADER = ["Order ID", "Status", "Qty", "Item", "Price", "Created at", "Currency"]


def _cell(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def _row(number: int, cells: list[tuple[str, str]]) -> str:
    return f'<row r="{number}">' + "".join(_cell(f"{c}{number}", v) for c, v in cells) + "</row>"


def workbook(path: Path, rows: str, *, sheets: int = 1, dimension: str | None = None,
             sheet_xml: bytes | None = None) -> Path:
    """A minimal xlsx: ``rows`` as the sheetData of every sheet (or ``sheet_xml`` whole)."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    kinds = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, sheets + 1))
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = sheet_xml or (f'<?xml version="1.0"?><worksheet xmlns="{main}">{dim}<sheetData>'
                          f"{rows}</sheetData></worksheet>").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("[Content_Types].xml", (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
            '2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
            'openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
            f'sheet.main+xml"/>{kinds}</Types>'))
        out.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="{pkg}">'
                     f'<Relationship Id="rId1" Type="{rel}/officeDocument" '
                     'Target="xl/workbook.xml"/></Relationships>')
        out.writestr("xl/workbook.xml", (
            f'<?xml version="1.0"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            + "".join(f'<sheet name="S{i}" sheetId="{i}" r:id="rId{i}"/>'
                      for i in range(1, sheets + 1)) + "</sheets></workbook>"))
        out.writestr("xl/_rels/workbook.xml.rels", (
            f'<?xml version="1.0"?><Relationships xmlns="{pkg}">'
            + "".join(f'<Relationship Id="rId{i}" Type="{rel}/worksheet" '
                      f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, sheets + 1))
            + "</Relationships>"))
        for i in range(1, sheets + 1):
            out.writestr(f"xl/worksheets/sheet{i}.xml", sheet)
    return path


def refused(path: Path) -> InputError:
    with pytest.raises(InputError) as caught, open_document(Input.from_path(path)) as doc:
        doc.peek(ReaderOptions())
    return caught.value


TABLE = _row(1, [("A", "Order ID"), ("B", "Item")]) + _row(2, [("A", "#1"), ("B", "Tea")])


# 1. Workbooks whose structure would make calamine allocate or parse without bound.

@pytest.mark.parametrize("dimension", [None, "A1:XFD1048576", "A1:B2"])
def test_a_stray_value_at_xfd1048576_is_refused_before_calamine_allocates(
        tmp_path: Path, dimension: str | None) -> None:
    # (the dimension tag may be missing or lie: the cells themselves are measured)
    path = workbook(tmp_path / "stray.xlsx", TABLE + _row(1048576, [("XFD", "x")]),
                    dimension=dimension)
    error = refused(path)
    assert error.code == "too-large"
    assert "XFD1048576" in error.reason and "ORDERMILL_MAX_SHEET_CELLS" in error.reason
    assert "1,048,576 rows x 16,384 columns" in error.reason


def test_the_sheet_limit_is_settable_and_a_far_row_in_few_columns_reads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A value in the last row of column A: a grid of 2 x 1,048,576 is small; read.
    path = workbook(tmp_path / "far-row.xlsx", TABLE + _row(1048576, [("A", "x")]))
    with open_document(Input.from_path(path)) as doc:
        assert doc.peek(ReaderOptions()).rows[0] == ["Order ID", "Item"]
    monkeypatch.setenv("ORDERMILL_MAX_SHEET_CELLS", "1000")
    assert refused(path).code == "too-large"


def test_styled_empty_cells_far_away_do_not_count(tmp_path: Path) -> None:
    far = '<row r="1048576"><c r="XFD1048576" s="1"/></row>'
    path = workbook(tmp_path / "styled.xlsx", TABLE + far)
    with open_document(Input.from_path(path)) as doc:
        assert len(doc.peek(ReaderOptions()).rows) == 2


def test_rows_out_of_order_are_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path / "order.xlsx", _row(5, [("A", "x")]) + TABLE)
    error = refused(path)
    assert error.code == "unreadable-workbook" and "out of order" in error.reason


def test_a_sheet_that_unpacks_a_thousand_times_its_size_is_a_bomb(tmp_path: Path) -> None:
    # 32 MiB of spaces packs to about 32 KiB: a part no real sheet looks like.
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sheet = (f'<?xml version="1.0"?><worksheet xmlns="{main}"><sheetData>'.encode()
             + b" " * (32 << 20) + b"</sheetData></worksheet>")
    error = refused(workbook(tmp_path / "bomb.xlsx", "", sheet_xml=sheet))
    assert error.code == "workbook-bomb"
    assert "ORDERMILL_MAX_ZIP_RATIO" in error.reason and "sheet1.xml" in error.reason


def test_too_many_sheets_and_unpacked_size_are_limits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = workbook(tmp_path / "many.xlsx", TABLE, sheets=12)
    monkeypatch.setenv("ORDERMILL_MAX_SHEETS", "10")
    error = refused(path)
    assert error.code == "too-large" and "12 sheets" in error.reason
    assert "ORDERMILL_MAX_SHEETS=12" in error.reason
    monkeypatch.delenv("ORDERMILL_MAX_SHEETS")
    monkeypatch.setenv("ORDERMILL_MAX_UNPACKED_MB", "1")
    big = workbook(tmp_path / "big.xlsx", TABLE * 1 + "".join(
        _row(n, [("A", f"#{n}"), ("B", "x" * 200)]) for n in range(3, 6000)))
    error = refused(big)
    assert error.code == "too-large" and "ORDERMILL_MAX_UNPACKED_MB" in error.reason


def test_a_refused_workbook_is_an_input_code_and_the_run_goes_on(tmp_path: Path) -> None:
    stray = workbook(tmp_path / "stray.xlsx", TABLE + _row(1048576, [("XFD", "x")]))
    report = ingest([stray], tmp_path / "out", state_dir=tmp_path / "state")
    assert [entry["code"] for entry in report.unreadable] == ["too-large"]


# 2-3. Text exports whose records the parser must not lose or choke on.

def read_csv(data: bytes, chunk_bytes: int | None = None) -> pl.DataFrame:
    """The table as ``read`` gives it, or as ``read_chunks`` gives it in pieces."""
    with open_document(Input.from_bytes("hostile.csv", data)) as doc:
        if chunk_bytes is None:
            return doc.read(ReaderOptions(), 1).frame
        assert isinstance(doc, ChunkDocument)
        return pl.concat([t.frame for t in doc.read_chunks(ReaderOptions(), 1, chunk_bytes)])


def export(lines: int, ending: bytes = b"\r", cell_break: bytes = b"\n") -> bytes:
    """``lines`` records ended by ``ending``, each with a line break inside a quoted cell.
    The default is what Mac Excel's "CSV (Macintosh)" writes: CR ends records, LF breaks
    lines in cells."""
    rows = [b"Order ID,Address,Qty"] + [
        b'#%d,"%d Main St%sApt %d",%d' % (n, n, cell_break, n, n) for n in range(1, lines + 1)]
    return ending.join(rows) + ending


def mac_excel_csv(lines: int) -> bytes:
    return export(lines)


@pytest.mark.parametrize(("ending", "cell_break"), [
    (b"\n", b"\n"), (b"\r\n", b"\r\n"), (b"\r\n", b"\n"), (b"\r", b"\n")])
def test_every_record_of_every_line_end_convention_is_read(ending: bytes,
                                                           cell_break: bytes) -> None:
    frame = read_csv(export(14, ending, cell_break))
    assert frame.height == 14
    assert frame[READER_CODE].null_count() == 14
    assert frame["Address"][0].splitlines() == ["1 Main St", "Apt 1"]
    assert frame[ROW].to_list() == list(range(2, 16))


def test_mac_excel_csv_is_read_whole_when_big(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pieces are cut at LF: a CR-ended file is read whole (NotChunkable), every record kept.
    with open_document(Input.from_bytes("mac.csv", mac_excel_csv(14))) as doc:
        assert isinstance(doc, ChunkDocument)
        with pytest.raises(NotChunkable):
            list(doc.read_chunks(ReaderOptions(), 1, 40))
    assert read_csv(mac_excel_csv(14)).height == 14


@pytest.mark.parametrize("chunk_bytes", [None, 8, 1 << 20])
def test_a_header_with_fewer_names_than_its_rows(chunk_bytes: int | None) -> None:
    # (polars sizes its columns by the first record: a wider one was a SchemaError, exit 70)
    frame = read_csv(b"Order ID,Qty\n#1,2,3,4\n#2,5\n#3,6,7\n", chunk_bytes)
    assert frame[READER_CODE].to_list() == ["too-many-fields", None, "too-many-fields"]
    assert frame[READER_DETAIL][0] == "4 fields, the header has 2"
    assert frame["Order ID"].to_list() == ["#1", "#2", "#3"]


# 6-7. Paths that are not what a run expects.

SAMPLE = Path(__file__).parent.parent / "tests" / "fixtures" / "tmall-combined.csv"


@pytest.mark.parametrize("raw", [b"commande-r\xe9sum\xe9.csv", b"\x83J\x83i\x92\x8d\x95\xb6.csv"])
def test_a_file_name_that_is_not_utf8_is_read_and_shown_escaped(
        tmp_path: Path, raw: bytes) -> None:
    # Latin-1 and Shift-JIS bytes, as Windows zips leave them: Python holds them as lone
    # surrogates, which the manifest (JSON), the ledger and the CSVs cannot encode.
    folder = tmp_path / "in"
    folder.mkdir()
    name = os.path.join(os.fsencode(folder), raw)
    with open(name, "wb") as out:
        out.write(SAMPLE.read_bytes())
    report = ingest([folder], tmp_path / "out", state_dir=tmp_path / "state")
    assert report.manifest is not None and not report.unreadable
    entry = report.manifest["inputs"][0]
    assert entry["rows_in"] > 0
    shown = entry["path"]
    assert shown.endswith(raw.decode("utf-8", "backslashreplace"))
    assert "\\x" in shown
    shown.encode("utf-8")  # (no surrogate left)


def test_a_named_pipe_is_not_a_file_and_is_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "orders.csv"
    os.mkfifo(fifo)
    # (opened for reading, the pipe would block this test until the timeout)
    report = ingest([fifo], tmp_path / "out", state_dir=tmp_path / "state")
    assert [(e["code"], e["reason"].split(",")[0]) for e in report.unreadable] == [
        ("not-a-file", "is a named pipe (FIFO)")]


# 4. A valid file must decode however its characters fall against the first MiB.

@pytest.mark.parametrize("pad", [0, 1])
def test_a_gb18030_line_over_a_mib_decodes(pad: int) -> None:
    # (the head read for detection ended inside a two-byte character: "undecodable")
    text = "订单编号,备注\n1," + "a" * pad + "中" * 600_000 + "\n2,好\n"
    data = text.encode("gb18030")
    with open_document(Input.from_bytes("gb.csv", data)) as doc:
        assert doc.peek(ReaderOptions()).encoding == "gb18030"
        frame = doc.read(ReaderOptions(), 1).frame
    assert frame["备注"].str.len_chars().to_list() == [600_000 + pad, 1]
    assert read_csv(data, chunk_bytes=1 << 16)["备注"].to_list()[1] == "好"


# 5. Text whose structure would take GBs to parse.

def test_a_header_of_a_hundred_thousand_names_is_refused() -> None:
    data = b",".join(b"c%d" % n for n in range(100_000)) + b"\n1,2\n"
    with pytest.raises(InputError) as caught, open_document(
            Input.from_bytes("wide.csv", data)) as doc:
        doc.peek(ReaderOptions())
    assert caught.value.code == "too-large"
    assert "ORDERMILL_MAX_COLUMNS" in caught.value.reason


@pytest.mark.parametrize("chunk_bytes", [None, 1 << 16])
def test_a_line_over_the_limit_is_refused_before_it_is_parsed(
        monkeypatch: pytest.MonkeyPatch, chunk_bytes: int | None) -> None:
    monkeypatch.setenv("ORDERMILL_MAX_LINE_MB", "1")
    data = b'Order ID,Note\n#1,"' + b"x" * (3 << 20) + b'"\n#2,ok\n'
    with pytest.raises(InputError) as caught:
        read_csv(data, chunk_bytes)
    assert caught.value.code == "too-large"
    # (reading stops once the line is past the limit: its figure is "at least")
    assert "2 MiB (at least" in caught.value.reason
    assert "ORDERMILL_MAX_LINE_MB=2" in caught.value.reason
    # Many lines that together pass the limit are not one long line.
    many = b"Order ID,Note\n" + b"#1,note\n" * 400_000
    assert read_csv(many, chunk_bytes).height == 400_000


@pytest.mark.parametrize("bom, codec", [(b"\xff\xfe\x00\x00", "utf-32-le"),
                                        (b"\x00\x00\xfe\xff", "utf-32-be")])
@pytest.mark.parametrize("in_pieces", [False, True])
def test_utf32_with_its_mark_reads_as_the_utf8_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bom: bytes, codec: str,
        in_pieces: bool) -> None:
    # (its mark begins with UTF-16 LE's: it must be told first, or every other character
    # is a NUL and the file reads as binary)
    import ingest.reading as reading_module

    sample = Path(__file__).resolve().parent.parent / "samples/shopify/orders_export_1.csv"
    text = sample.read_text(encoding="utf-8")
    wide = tmp_path / "orders.csv"
    wide.write_bytes(bom + text.encode(codec))
    if in_pieces:
        monkeypatch.setattr(reading_module, "CHUNK_BYTES", 4000)
    expected = ingest([sample], tmp_path / "o1", state_dir=tmp_path / "s1").manifest
    got = ingest([wide], tmp_path / "o2", state_dir=tmp_path / "s2").manifest
    assert expected and got and got["inputs"][0]["encoding"] == "utf-32"
    assert {k: got["totals"][k] for k in ("rows_in", "clean", "rejected")} == {
        k: expected["totals"][k] for k in ("rows_in", "clean", "rejected")}

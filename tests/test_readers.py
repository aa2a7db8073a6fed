"""Readers and channel detection, on real files written into tmp_path."""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from ingest.errors import InputError
from ingest.inputs import Input
from ingest.mapping.detect import Match, detect
from ingest.mapping.loader import parse_mapping
from ingest.mapping.model import Mapping, ReaderOptions
from ingest.readers import Peek, RawTable, open_document, reader_for
from ingest.readers.encoding import detect_encoding, to_utf8

ROW, CODE, DETAIL = "__row", "__reader_code", "__reader_detail"
AUTO = ReaderOptions()

HEADER = ["订单号", "商品", "价格"]
RECORDS = [["A001", "苹果", "¥12.50"], ["A002", "香蕉", "￥3.00"]]
SAMPLE = "".join(",".join(cells) + "\n" for cells in [HEADER, *RECORDS])
SAMPLE_TSV_CRLF = "".join("\t".join(cells) + "\r\n" for cells in [HEADER, *RECORDS])

ENCODED = {
    "utf-8": ("orders.csv", SAMPLE.encode("utf-8"), "utf-8", ","),
    "utf-8-bom": ("orders.csv", codecs.BOM_UTF8 + SAMPLE.encode("utf-8"), "utf-8-sig", ","),
    "gb18030": ("orders.csv", SAMPLE.encode("gb18030"), "gb18030", ","),
    "utf-16-unicode-text": (
        "orders.txt", codecs.BOM_UTF16_LE + SAMPLE_TSV_CRLF.encode("utf-16-le"), "utf-16", "\t",
    ),
}


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def read(path: Path, options: ReaderOptions = AUTO, header_row: int = 1) -> RawTable:
    with open_document(Input.from_path(path)) as document:
        return document.read(options, header_row)


def peek_at(path: Path, options: ReaderOptions = AUTO) -> Peek:
    with open_document(Input.from_path(path)) as document:
        return document.peek(options)


def detect_file(path: Path, mappings: list[Mapping], channel: str | None = None) -> Match:
    with open_document(Input.from_path(path)) as document:
        return detect(document, mappings, channel)


def values(table: RawTable) -> list[list[str | None]]:
    """The table's cells in header order, without the reader's own columns."""
    return [list(row) for row in table.frame.select(table.header).rows()]


def toy_mapping(channel: str, signature: list[str], columns: list[str],
                **extra: Any) -> Mapping:
    """A minimal valid mapping: columns are order_id, ordered_at, order_status, quantity,
    unit_price."""
    fields = dict(zip(["order_id", "ordered_at", "order_status", "quantity", "unit_price"],
                      columns, strict=True))
    data = {"channel": channel, "detect": {"header_contains": signature}, "fields": fields,
            "constants": {"currency": "CNY"}, **extra}
    return parse_mapping(data, f"{channel}.toml")


ALPHA = toy_mapping("alpha", ["订单编号", "买家会员名"],
                    ["订单编号", "下单时间", "订单状态", "购买数量", "价格"])
BETA = toy_mapping("beta", ["Name", "Financial Status"],
                   ["Name", "Created at", "Financial Status", "Qty", "Price"])


# encodings


@pytest.mark.parametrize("variant", list(ENCODED))
def test_encoding_is_detected(variant: str) -> None:
    _, data, encoding, _ = ENCODED[variant]
    assert detect_encoding(data) == encoding


@pytest.mark.parametrize("variant", list(ENCODED))
def test_every_encoding_reads_to_the_same_values(tmp_path: Path, variant: str) -> None:
    name, data, encoding, delimiter = ENCODED[variant]
    table = read(write(tmp_path, name, data))
    assert (table.encoding, table.delimiter) == (encoding, delimiter)
    assert table.header == HEADER
    assert values(table) == RECORDS
    assert table.frame[ROW].to_list() == [2, 3]


@pytest.mark.parametrize("variant", list(ENCODED))
def test_peek_reports_encoding_delimiter_and_rows(tmp_path: Path, variant: str) -> None:
    name, data, encoding, delimiter = ENCODED[variant]
    path = write(tmp_path, name, data)
    peek = peek_at(path, AUTO)
    assert (peek.encoding, peek.delimiter, peek.first_row) == (encoding, delimiter, 1)
    assert peek.rows == [HEADER, *RECORDS]


def test_gbk_label_decodes_as_gb18030() -> None:
    # GBK cannot hold ¥; exports labelled GBK are GB18030 in practice.
    text, used = to_utf8("价格\n¥12.50\n".encode("gb18030"), "gbk", "x.csv")
    assert (text.decode(), used) == ("价格\n¥12.50\n", "gb18030")


def test_utf16_without_bom_is_detected_and_read(tmp_path: Path) -> None:
    data = "id\tname\r\n1\t苹果\r\n".encode("utf-16-le")
    assert detect_encoding(data) == "utf-16-le"
    table = read(write(tmp_path, "orders.txt", data))
    assert values(table) == [["1", "苹果"]]


def test_forced_wrong_encoding_raises_undecodable_with_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.csv", "id,name\n1,苹果\n".encode("gb18030"))
    with pytest.raises(InputError) as caught:
        read(path, ReaderOptions(encoding="utf-8"))
    error = caught.value
    assert error.code == "undecodable"
    assert str(path) in str(error)
    assert "utf-8" in error.reason
    assert "line 2" in error.reason
    assert "encoding" in error.reason


def test_binary_file_with_leading_nul_bytes_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.csv", b"\x00\x00\x00\x00id,name\n1,a\n")
    with pytest.raises(InputError) as caught:
        peek_at(path, AUTO)
    assert caught.value.code == "binary-file"


def test_workbook_renamed_to_csv_is_refused_as_binary(tmp_path: Path) -> None:
    book = tmp_path / "orders.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["id", "name"])
    workbook.save(book)
    path = write(tmp_path, "orders.csv", book.read_bytes())
    with pytest.raises(InputError) as caught:
        peek_at(path, AUTO)
    assert caught.value.code == "binary-file"


def test_legacy_xls_renamed_to_csv_is_refused_as_binary(tmp_path: Path) -> None:
    # An OLE2 (.xls) header: its magic number, then zero-filled sectors.
    ole2 = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(1016)
    path = write(tmp_path, "orders.csv", ole2)
    with pytest.raises(InputError) as caught:
        peek_at(path, AUTO)
    assert caught.value.code == "binary-file"


@pytest.mark.parametrize("content", [b"", b"\r\n  \r\n"], ids=["zero-bytes", "whitespace"])
def test_empty_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path, "orders.csv", content)
    with pytest.raises(InputError) as caught:
        peek_at(path, AUTO)
    assert caught.value.code == "empty-file"


def test_unknown_extension_has_no_reader(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        reader_for(Input.from_path(tmp_path / "orders.json"))
    assert caught.value.code == "unsupported-format"


# delimiters


@pytest.mark.parametrize("delimiter", [",", "\t", ";"], ids=["comma", "tab", "semicolon"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    lines = [["id", "name", "qty"], ["1", "a b", "2"], ["2", "c", "3"]]
    path = write(tmp_path, "orders.csv", "".join(delimiter.join(r) + "\n" for r in lines))
    assert peek_at(path, AUTO).delimiter == delimiter
    table = read(path)
    assert table.delimiter == delimiter
    assert table.header == ["id", "name", "qty"]
    assert values(table) == lines[1:]


def test_delimiter_inside_quoted_values_does_not_win_the_sniff(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.csv", 'id,name,qty\n1,"S;M;L;XL",1\n2,b,2\n')
    assert peek_at(path, AUTO).delimiter == ","


# rows above, inside and below the table

JUNK = (
    "天猫订单导出\n"
    "导出时间: 2024-11-12 08:00:00\n"
    "订单编号,买家会员名,下单时间,订单状态,购买数量,价格\n"
    "1001,tb_ann,2024-11-11 00:01:02,paid,1,12.50\n"
    ",,,,,\n"
    "1002,tb_bob,2024-11-11 00:02:00,paid,2,3.00\n"
    "\n"
    "1003,tb_cat,2024-11-11 00:03:00,paid,1,8.00\n"
    "合计,,,,4,23.50\n"
)
FOOTER = ReaderOptions(footer="^合计")


def test_header_below_title_rows_is_found_by_signature(tmp_path: Path) -> None:
    path = write(tmp_path, "tmall.csv", JUNK)
    match = detect_file(path, [BETA, ALPHA])
    assert (match.mapping.channel, match.header_row) == ("alpha", 3)
    table = read(path, FOOTER, match.header_row)
    assert table.header[0] == "订单编号"
    assert table.frame[ROW][0] == 4
    assert table.layout["above_header"] == 2


def test_blank_rows_are_dropped_counted_and_keep_row_numbers(tmp_path: Path) -> None:
    table = read(write(tmp_path, "tmall.csv", JUNK), FOOTER, 3)
    assert table.frame["订单编号"].to_list() == ["1001", "1002", "1003"]
    assert table.frame[ROW].to_list() == [4, 6, 8]
    assert table.layout["blank"] == 2


def test_footer_rows_are_dropped_and_counted(tmp_path: Path) -> None:
    table = read(write(tmp_path, "tmall.csv", JUNK), FOOTER, 3)
    assert "合计" not in table.frame["订单编号"].to_list()
    assert table.layout["footer"] == 1


def test_footer_row_stays_without_a_footer_pattern(tmp_path: Path) -> None:
    table = read(write(tmp_path, "tmall.csv", JUNK), AUTO, 3)
    assert table.frame["订单编号"].to_list()[-1] == "合计"
    assert table.frame[ROW].to_list()[-1] == 9
    assert table.layout["footer"] == 0


# quoted fields spanning lines


def test_quoted_newline_record_counts_as_one_row(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.csv",
                 'id,note,qty\n1,"line one\nline two",2\n2,plain,3\n3,"a\nb\nc",4\n4,x,5\n')
    table = read(path)
    assert table.frame[ROW].to_list() == [2, 3, 4, 5]
    assert table.frame["note"].to_list() == ["line one\nline two", "plain", "a\nb\nc", "x"]
    assert table.frame[CODE].null_count() == 4


def test_quoted_crlf_newline_and_blank_row_keep_row_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.csv",
                 'id,note\r\n1,"say ""hi"",\r\nthen go"\r\n\r\n2,b\r\n')
    table = read(path)
    assert table.frame[ROW].to_list() == [2, 4]
    assert table.frame["note"].to_list() == ['say "hi",\r\nthen go', "b"]
    assert table.layout["blank"] == 1


# damaged rows


def test_row_with_too_many_fields_is_flagged(tmp_path: Path) -> None:
    table = read(write(tmp_path, "orders.csv", "id,name,qty\n1,a,1\n2,b,2,extra\n3,c,3\n"))
    assert table.frame[CODE].to_list() == [None, "too-many-fields", None]
    assert table.frame[DETAIL][1] == "4 fields, the header has 3"
    assert table.frame[ROW].to_list() == [2, 3, 4]


def test_row_with_too_few_fields_is_flagged(tmp_path: Path) -> None:
    table = read(write(tmp_path, "orders.csv", "id,name,qty\n1,a,1\n2,b\n3,c,3\n"))
    assert table.frame[CODE].to_list() == [None, "too-few-fields", None]
    assert table.frame[DETAIL][1] == "2 fields, the header has 3"
    assert values(table)[1][:2] == ["2", "b"]
    assert not values(table)[1][2]


def test_delimiter_inside_quotes_is_not_counted_as_a_field(tmp_path: Path) -> None:
    table = read(write(tmp_path, "orders.csv", 'id,name,qty\n1,"a, b",1\n2,"x\ny, z",2\n'))
    assert table.frame[CODE].to_list() == [None, None]
    assert table.frame["name"].to_list() == ["a, b", "x\ny, z"]


def test_file_cut_inside_a_quoted_field_keeps_complete_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.csv", 'id,name,qty\n1,a,1\n2,"two\nlines",2\n3,"cut off\nhe')
    table = read(path)
    assert table.frame[ROW].to_list() == [2, 3, 4]
    assert values(table)[:2] == [["1", "a", "1"], ["2", "two\nlines", "2"]]
    assert table.frame[CODE].to_list() == [None, None, "truncated-row"]
    assert table.frame["id"][2].startswith('3,"cut off')


@pytest.mark.parametrize("line_end", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_cut_row_is_exactly_the_text_after_the_last_complete_row(tmp_path: Path,
                                                                  line_end: str) -> None:
    # Enough CRLF lines before the cut that a miscounted carriage return would show.
    rows = [f"{i},a,1" for i in range(40)] + ['2,"two', 'lines",2', '99,"cut off', "he"]
    path = write(tmp_path, "orders.csv", line_end.join(["id,name,qty", *rows]))
    table = read(path)
    assert table.frame[CODE].to_list() == [None] * 41 + ["truncated-row"]
    assert table.frame["name"][40] == f"two{line_end}lines"
    assert table.frame["id"][41] == f'99,"cut off{line_end}he'
    assert not table.notes  # read by the fast parser, not leniently


def test_nul_byte_in_a_data_row_is_flagged(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.csv", 'id,name,qty\n1,a,1\n2,"b\x00",2\n3,c,3\n')
    table = read(path)
    assert table.frame[CODE].to_list() == [None, "nul-byte", None]


def test_nul_byte_in_a_data_row_far_into_the_file_is_flagged(tmp_path: Path) -> None:
    rows = "".join(f"{i},item-{i:05d},1\n" for i in range(1, 1001))
    path = write(tmp_path, "orders.csv", f'id,name,qty\n{rows}1001,"b\x00d",1\n1002,ok,1\n')
    table = read(path)
    flagged = table.frame.filter(pl.col(CODE).is_not_null())
    assert flagged.select(ROW, "id", CODE).rows() == [(1002, "1001", "nul-byte")]
    assert table.frame.height == 1002


def test_no_row_is_lost_in_a_damaged_file(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.csv",
                 'id,name,qty\n1,a,1\n2,b,2,x\n3,c\n4,"d\ne",4\n\n5,e,5\n6,"cut')
    table = read(path)
    # 7 records under the header: 6 table rows and 1 blank row
    assert table.frame.height + table.layout["blank"] == 7
    assert table.frame[ROW].to_list() == [2, 3, 4, 5, 7, 8]
    assert table.frame[CODE].to_list() == [
        None, "too-many-fields", "too-few-fields", None, None, "truncated-row"]


def test_stray_quote_inside_an_unquoted_field_does_not_swallow_rows(tmp_path: Path) -> None:
    # Excel and Python's csv module read an inch mark in the middle of a field literally.
    path = write(tmp_path, "orders.csv", 'id,name,qty\n1,TV 27" screen,1\n2,b,2\n3,c,3\n')
    table = read(path)
    assert table.frame[ROW].to_list() == [2, 3, 4]
    assert values(table)[1:] == [["2", "b", "2"], ["3", "c", "3"]]


def test_header_only_file_reads_as_an_empty_table(tmp_path: Path) -> None:
    table = read(write(tmp_path, "orders.csv", "id,name,qty\n"))
    assert table.header == ["id", "name", "qty"]
    assert table.frame.height == 0


def test_header_row_beyond_the_file_raises(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.csv", "id,name\n1,a\n")
    with pytest.raises(InputError, match="has no row 5"):
        read(path, AUTO, 5)


# xlsx

XLSX_HEADER = ["订单编号", "商品", "数量", "单价", "下单时间"]


def write_workbook(path: Path) -> Path:
    """Sheet 订单: title rows 1-2, header on row 4 from column B, data on rows 5, 6 and 8
    (row 7 empty), a 合计 footer on row 9; sheet 退款: header on row 2.
    Both sheets have a note to the right of the table, above the header."""
    workbook = openpyxl.Workbook()
    orders = workbook.active
    orders.title = "订单"
    orders["B1"] = "天猫订单导出"
    orders["B2"] = "导出时间: 2024-11-12"
    orders["H2"] = "操作员: admin"
    lines: dict[int, list[Any]] = {
        4: XLSX_HEADER,
        5: ["1234567890123456789", "苹果", 2, 12.5, dt.datetime(2024, 11, 11, 0, 1, 2)],
        6: ["0012", "梨", 1, 3, dt.date(2024, 5, 1)],
        8: ["A3", "桃", 3, 1299.99, "2024-11-11 10:00:00"],
        9: ["合计", None, 6],
    }
    for row, cells in lines.items():
        for offset, value in enumerate(cells):
            orders.cell(row=row, column=2 + offset, value=value)
    refunds = workbook.create_sheet("退款")
    refunds["A1"] = "退款明细"
    refunds["C1"] = "单位: 元"
    refunds.append(["退款单号", "金额"])
    refunds.append(["R-01", 5])
    workbook.save(path)
    return path


def test_xlsx_header_spanning_the_whole_sheet_is_read(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["id", "name", "qty"])
    workbook.active.append(["0012", "苹果", 2])
    workbook.save(path)
    table = read(path)
    assert table.header == ["id", "name", "qty"]
    assert values(table) == [["0012", "苹果", "2"]]
    assert table.frame[ROW].to_list() == [2]


def test_xlsx_peek_numbers_rows_like_excel(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "orders.xlsx")
    peek = peek_at(path, AUTO)
    assert peek.first_row == 1
    assert peek.rows[4 - peek.first_row][:5] == XLSX_HEADER


def test_xlsx_row_numbers_equal_excel_rows(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "orders.xlsx")
    table = read(path, FOOTER, 4)
    assert table.header == XLSX_HEADER
    assert table.frame[ROW].to_list() == [5, 6, 8]


def test_xlsx_values_arrive_as_strings(tmp_path: Path) -> None:
    table = read(write_workbook(tmp_path / "orders.xlsx"), FOOTER, 4)
    assert all(table.frame.schema[name] == pl.String for name in table.header)
    assert values(table) == [
        ["1234567890123456789", "苹果", "2", "12.5", "2024-11-11 00:01:02"],
        ["0012", "梨", "1", "3", "2024-05-01 00:00:00"],
        ["A3", "桃", "3", "1299.99", "2024-11-11 10:00:00"],
    ]


def test_xlsx_blank_footer_and_title_rows_are_counted_in_layout(tmp_path: Path) -> None:
    table = read(write_workbook(tmp_path / "orders.xlsx"), FOOTER, 4)
    assert table.layout == {"blank": 1, "footer": 1, "above_header": 3, "below_table": 0}


def test_xlsx_row_numbers_count_leading_empty_rows(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["E3"] = "单位: 元"
    for column, value in zip("ABC", ["id", "name", "qty"], strict=True):
        sheet[f"{column}4"] = value
    sheet["A5"], sheet["B5"], sheet["C5"] = "7", "梨", 1
    workbook.save(path)
    peek = peek_at(path, AUTO)
    assert peek.first_row == 1 and peek.rows[2][-1] == "单位: 元"
    table = read(path, AUTO, 4)
    assert table.frame[ROW].to_list() == [5]
    assert values(table) == [["7", "梨", "1"]]


def test_xlsx_sheet_is_selected_by_name(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "orders.xlsx")
    options = ReaderOptions(sheet="退款")
    assert peek_at(path, options).rows[1][:2] == ["退款单号", "金额"]
    table = read(path, options, 2)
    assert table.header == ["退款单号", "金额"]
    assert values(table) == [["R-01", "5"]]
    assert table.frame[ROW].to_list() == [3]


def test_xlsx_missing_sheet_name_raises(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "orders.xlsx")
    with pytest.raises(InputError) as caught:
        peek_at(path, ReaderOptions(sheet="Orders"))
    assert "'Orders'" in caught.value.reason
    assert "订单" in caught.value.reason and "退款" in caught.value.reason


def test_xlsx_that_is_not_a_zip_raises(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.xlsx", "id,name\n1,a\n")
    with pytest.raises(InputError) as caught:
        peek_at(path, AUTO)
    assert caught.value.code == "unreadable-workbook"
    assert "not a zip" in caught.value.reason


def test_truncated_xlsx_raises(tmp_path: Path) -> None:
    whole = write_workbook(tmp_path / "whole.xlsx").read_bytes()
    path = write(tmp_path, "orders.xlsx", whole[: len(whole) // 2])
    with pytest.raises(InputError) as caught:
        peek_at(path, AUTO)
    assert caught.value.code == "unreadable-workbook"


# detect


def test_detect_picks_the_mapping_whose_signature_the_header_carries(tmp_path: Path) -> None:
    shopify = write(tmp_path, "shopify.csv", "Name,Financial Status,Created at,Qty,Price\n"
                                             "#1001,paid,2024-11-11 00:00:00,1,2.00\n")
    tmall = write(tmp_path, "tmall.csv", JUNK.encode("gb18030"))
    for mappings in ([ALPHA, BETA], [BETA, ALPHA]):
        assert detect_file(shopify, mappings).mapping.channel == "beta"
        assert detect_file(tmall, mappings).mapping.channel == "alpha"


def test_detect_finds_the_header_row_in_a_workbook(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "orders.xlsx")
    gamma = toy_mapping("gamma", ["订单编号", "数量"],
                        ["订单编号", "下单时间", "商品", "数量", "单价"])
    match = detect_file(path, [ALPHA, gamma])
    assert (match.mapping.channel, match.header_row) == ("gamma", 4)


def test_detect_prefers_the_most_specific_signature(tmp_path: Path) -> None:
    path = write(tmp_path, "shopify.csv",
                 "Name,Financial Status,Created at,Qty,Price\n#1,paid,x,1,2\n")
    narrow = toy_mapping("narrow", ["Name"],
                         ["Name", "Created at", "Financial Status", "Qty", "Price"])
    for mappings in ([narrow, BETA], [BETA, narrow]):
        assert detect_file(path, mappings).mapping.channel == "beta"


def test_detect_unknown_file_names_its_header_and_the_nearest_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "unknown.csv", "Order,Name,Status,Amount\n1,x,paid,2\n")
    with pytest.raises(InputError) as caught:
        detect_file(path, [ALPHA, BETA])
    error = caught.value
    assert error.code == "unknown-channel"
    assert "Order, Name, Status, Amount" in error.reason
    assert "nearest: beta" in error.reason
    assert "Financial Status" in error.reason


def test_detect_unknown_channel_name_raises(tmp_path: Path) -> None:
    path = write(tmp_path, "shopify.csv", "Name,Financial Status\n#1,paid\n")
    with pytest.raises(InputError, match="no mapping for channel 'zeta'"):
        detect_file(path, [ALPHA, BETA], channel="zeta")

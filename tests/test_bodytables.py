"""Tables written in a mail's body, as CSV: HTML tables (spans, entities, nesting, quoted
replies), pipe tables, tab-separated blocks and space-aligned columns with Chinese text."""

from __future__ import annotations

import csv
import io

import mailcorpus as corpus

from ingest.readers.bodytables import body_tables, html_tables, html_text, text_tables
from ingest.readers.mime import parse_mail


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def only_table(html: str | None, text: str | None = None) -> list[list[str]]:
    [(name, data)] = body_tables(html, text)
    assert name == "body-table-1.csv"
    return rows(data)


def test_html_po_table_with_chinese_headers_colspan_nbsp_and_br() -> None:
    html = corpus.PO_HTML.format(quoted=corpus.QUOTED_HTML)
    # The layout table around the mail is not a table; the quoted reply's table is not
    # read; the colspan header repeats in both columns it covers.
    assert only_table(html) == [
        ["序号 No.", "商品名称 Product", "数量 Quantity", "数量 Quantity", "单价 Unit price"],
        ["", "", "箱 Cartons", "件 Pieces", ""],
        ["1", "红色小部件 Red widget", "2", "24", "12.50"],
        ["2", "蓝色 & 绿色 Blue & green", "1", "12", "8.00"],
    ]


def test_rowspan_fills_the_rows_below_and_missing_closing_tags_are_tolerated() -> None:
    html = ("<table><tr><th>Order<th>SKU<th>Qty"
            "<tr><td rowspan=2>PO-1<td>A<td>1"
            "<tr><td>B<td>2"
            "<tr><td>PO-2<td colspan=2>cancelled</table>")
    assert html_tables(html) == [[["Order", "SKU", "Qty"], ["PO-1", "A", "1"],
                                  ["PO-1", "B", "2"], ["PO-2", "cancelled", "cancelled"]]]


def test_layout_tables_and_empty_columns_are_not_tables() -> None:
    layout = ("<table><tr><td>Dear buyer,</td></tr><tr><td>please ship.</td></tr></table>"
              "<table><tr><td></td><td>only</td><td> </td></tr><tr><td></td><td>one</td>"
              "</tr></table><table><tr><td>one</td><td>row</td></tr></table>")
    assert body_tables(layout, None) == []


def test_csv_cells_are_quoted_as_needed() -> None:
    html = ('<table><tr><td>SKU</td><td>Note</td></tr>'
            '<tr><td>A,1</td><td>say "hi"</td></tr></table>')
    [(_, data)] = body_tables(html, None)
    assert data == b'SKU,Note\r\n"A,1","say ""hi"""\r\n'


def test_html_text_keeps_labelled_lines_and_rows() -> None:
    text = html_text("<html><head><style>p {color: red}</style><script>x()</script></head>"
                     "<body><div>Delivery date:&nbsp;2026-12-20</div><p>Ship to: Dock 3<br>"
                     "Shenzhen</p><table><tr><td>SKU</td><td>Qty</td></tr>"
                     "<tr><td>A</td><td>1</td></tr></table></body></html>")
    assert text.splitlines() == ["Delivery date: 2026-12-20", "Ship to: Dock 3", "Shenzhen",
                                 "SKU\tQty", "A\t1"]


def test_an_html_body_without_table_elements_is_searched_as_text() -> None:
    html = "<p>Order:</p><pre>" + corpus.aligned_table().replace("\r\n", "\n") + "</pre>"
    assert only_table(html)[1] == ["HX-100", "红色小部件", "2", "12.50"]


def test_pipe_table_with_separator_lines() -> None:
    text = ("Order:\n| SKU | 商品 | Qty |\n|---|:---:|--:|\n| HX-100 | 红色小部件 | 2 |\n"
            "| HX-200 | 垫片 | 10 |\n\nThanks")
    assert only_table(None, text) == [["SKU", "商品", "Qty"], ["HX-100", "红色小部件", "2"],
                                      ["HX-200", "垫片", "10"]]
    boxed = "+-----+-----+\n| SKU | Qty |\n+=====+=====+\n| A   | 1   |\n+-----+-----+\n"
    assert text_tables(boxed) == [[["SKU", "Qty"], ["A", "1"]]]


def test_tab_separated_blocks_need_the_same_number_of_cells() -> None:
    text = "SKU\tQty\tNote\nHX-300\t1\turgent\nHX-400\t4\t\nnot\ta row of three\n"
    assert only_table(None, text) == [["SKU", "Qty", "Note"], ["HX-300", "1", "urgent"],
                                      ["HX-400", "4", ""]]
    assert text_tables("one\ttab line\nand prose\n") == []


def test_space_aligned_columns_with_chinese_names_split_by_screen_width() -> None:
    assert text_tables(corpus.aligned_table()) == [[
        ["商品编号", "商品名称", "数量", "单价"],
        ["HX-100", "红色小部件", "2", "12.50"],
        ["HX-200", "蓝色大号部件 XL", "10", "8.00"],
        ["HX-300", "Green gadget", "1", "120.00"]]]


def test_prose_and_single_shared_spaces_are_not_aligned_tables() -> None:
    prose = ("Hello Li,\nthanks for your quick reply.\nWe will ship on Monday.\n"
             "Blue widget  two\nRed gadget   ten\nOld sprocket one\n")
    assert text_tables(prose) == []
    # A short list of aligned words with one space: no gap of two anywhere, no table.
    assert text_tables("Item A\nItem B\nItem C\n") == []


def test_quoted_reply_and_signature_are_not_read() -> None:
    text = ("Please confirm.\n\n> On Monday you wrote:\n> | SKU | Qty |\n> |---|---|\n"
            "> | OLD-1 | 9 |\n> | OLD-2 | 9 |\n\n-- \nZhang Wei\nPhone  +86 755 0000 0000\n"
            "Fax    +86 755 0000 0001\nMail   buyer@huaxin.example\n")
    assert body_tables(None, text) == []


def test_html_tables_win_over_the_text_alternative() -> None:
    html = "<table><tr><td>SKU</td><td>Qty</td></tr><tr><td>A</td><td>1</td></tr></table>"
    text = "SKU\tQty\nA\t1\n"
    assert body_tables(html, text) == [("body-table-1.csv", b"SKU,Qty\r\nA,1\r\n")]
    assert body_tables("<p>no table</p>", text) == [("body-table-1.csv", b"SKU,Qty\r\nA,1\r\n")]


def test_body_tables_are_numbered_through_the_mail_in_mail_order() -> None:
    mail = parse_mail(corpus.text_tables_mail())
    assert [(p.name, p.where, p.kind) for p in mail.parts] == [
        ("body-table-1.csv", "body", "body-table"), ("body-table-2.csv", "body", "body-table")]
    assert rows(mail.parts[1].data) == [["SKU", "Qty", "Note"], ["HX-300", "1", "urgent"],
                                        ["HX-400", "4", ""]]


def test_the_same_body_gives_the_same_bytes() -> None:
    html = corpus.PO_HTML.format(quoted="")
    assert body_tables(html, None) == body_tables(html, None)
    text = corpus.aligned_table()
    assert body_tables(None, text) == body_tables(None, text)

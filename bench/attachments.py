"""Purchase orders as customers attach them to mails: many small files, deterministic.

Each attachment is one PO of 5-20 lines in a real sender's layout (the two of
samples/gen_po.py, read by mappings/po-acme.toml and mappings/po-huaxin.toml): a form above
the line table (PO number, date, buyer, address), the table, then totals, notes and a
signature block. Half are workbooks as the sender's Excel saves them (merged form cells,
formulas with their values), half the same form saved as CSV (what Excel writes: every row
as wide as the sheet, values as displayed; ACME's in UTF-8 with a BOM, 华信's in GB18030,
both with CRLF). Every PO number is distinct, so nothing is a duplicate; about one file in
40 holds a line with a bad value (a quantity typed with a letter O, a price still 待定), so
that its order is rejected whole.

    from bench.attachments import attachments
    for name, data in attachments(2000, seed=11): ...        # the same files every time
    .venv/bin/python bench/attachments.py 2000 bench/data/po-2000   # as files in a folder

``attachments`` returns (file name, bytes) pairs, so the same files can be dropped into a
folder (``write_folder``) or attached to mails.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import re
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

SAVED = dt.datetime(2024, 11, 18, 9, 0)  # every file's save time: the bytes never change
BAD_EVERY = 40  # one file in this many holds a bad line

ACME_ITEMS = [  # item, description, uom, unit price
    ("00451-B", "Stainless hex bolt M8x40, A2-70", "EA", "0.42"),
    ("00452-B", "Hex nut M8, A2-70", "EA", "0.11"),
    ("000123", "Flat washer M8, DIN 125", "EA", "0.04"),
    ("PL-2210", "Pallet label roll, 100 x 150 mm", "RL", "18.90"),
    ("GL-0707", "Nitrile gloves, size L (box of 100)", "BX", "7.25"),
    ("CB-1180", "Cable ties 200 mm, black (bag of 1000)", "BG", "12.40"),
    ("TP-0048", "Packing tape 48 mm x 66 m, clear", "RL", "1.95"),
    ("SC-3302", "Socket cap screw M6x20, 12.9", "EA", "0.18"),
    ("AN-5510", "Anchor bolt M10x100, zinc", "EA", "0.86"),
    ("SP-0091", "Safety glasses, clear lens", "EA", "3.40"),
    ("WD-4400", "WD-40 multi-use, 400 ml", "CN", "6.75"),
    ("LB-2025", "Lithium grease, 400 g cartridge", "EA", "5.20"),
]
ACME_BUYERS = ["Dana Whitfield", "Marcus Lee", "Priya Natarajan", "Tom Okafor"]
ACME_DOCKS = ["ACME Receiving Dock 3, 1200 Harbor Blvd, Oakland, CA 94607",
              "ACME Warehouse B, 88 Industrial Way, Fremont, CA 94538",
              "ACME Plant 2, 4100 Airport Rd, Stockton, CA 95206"]
HUAXIN_ITEMS = [  # 物料编码, 名称, 规格, 单位, 单价
    ("0012-A", "贴片电容 100nF", "0603 X7R 50V", "盘", "85.00"),
    ("0013-A", "贴片电阻 10kΩ", "0603 1%", "盘", "32.50"),
    ("0207-C", "USB-C 母座", "16P 沉板", "个", "1.35"),
    ("0311-F", "锂电池保护板", "3S 20A", "块", "12.60"),
    ("0420-K", "硅胶按键", "定制 3 键", "套", "0.88"),
    ("0533-B", "晶振 12MHz", "3225 贴片", "个", "0.45"),
    ("0618-D", "LDO 稳压芯片", "SOT-23-5 3.3V", "个", "0.62"),
    ("0702-E", "排针 2.54mm", "1x40P 直插", "条", "0.30"),
    ("0815-G", "肖特基二极管", "SS34 SMA", "个", "0.12"),
    ("0921-H", "PCB 主板", "4 层 1.6mm 沉金", "片", "18.50"),
]
HUAXIN_CONTACTS = [("周敏", "138 1234 5678"), ("李强", "139 8765 4321"), ("王芳", "137 2468 1357")]
HUAXIN_ADDRESSES = ["上海市浦东新区张江路1288号3号楼 收货部", "苏州市工业园区星湖街328号 仓库B",
                    "深圳市南山区科技园南区高新南七道 5 号 收货组"]


def attachments(count: int = 2000, seed: int = 11) -> list[tuple[str, bytes]]:
    """``count`` PO attachments as (file name, bytes): the same for the same seed. By
    position: ACME and 华信 in turn, each as xlsx then as CSV in turn (so half of them are
    workbooks); every name and PO number distinct."""
    return list(iter_attachments(count, seed))


def iter_attachments(count: int = 2000, seed: int = 11) -> Iterator[tuple[str, bytes]]:
    for index in range(count):
        rng = random.Random(f"{seed}-{index}")  # (a string seed is hashed the same way always)
        workbook = (index // 2) % 2 == 0
        bad = index % BAD_EVERY == BAD_EVERY - 1
        if index % 2 == 0:
            yield _acme(index, rng, workbook, bad)
        else:
            yield _huaxin(index, rng, workbook, bad)


def write_folder(folder: Path, count: int = 2000, seed: int = 11) -> list[Path]:
    """The attachments as files in ``folder`` (created; files of other names left alone)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in iter_attachments(count, seed):
        target = folder / name
        target.write_bytes(data)
        written.append(target)
    return written


# ACME Industrial Supply ---------------------------------------------------------------------

def _acme(index: int, rng: random.Random, workbook: bool, bad: bool) -> tuple[str, bytes]:
    po = str(4500100000 + index)
    ordered = dt.datetime(2024, 11, 1, 8, 0) + dt.timedelta(minutes=rng.randrange(40 * 1440))
    lines = []
    for number in range(1, rng.randint(5, 20) + 1):
        item, text, uom, price = rng.choice(ACME_ITEMS)
        lines.append([number, item, text, rng.choice([10, 12, 25, 50, 100, 500, 1000]), uom,
                      Decimal(price)])
    if bad:
        lines[rng.randrange(len(lines))][3] = "5OO"  # typed with the letter O
    need_by = (ordered + dt.timedelta(days=rng.randint(10, 30))).date()
    form = [(6, 1, "PO#:"), (6, 2, po), (6, 5, "PO Date:"), (6, 6, ordered),
            (7, 1, "Buyer:"), (7, 2, rng.choice(ACME_BUYERS)), (7, 5, "Currency: USD"),
            (8, 1, "Vendor:"), (8, 2, "Hangzhou Shanhe Trading Co."),
            (8, 5, "Contact Phone:"), (8, 6, "(510) 555-0143"), (9, 1, "Ship To:"),
            (10, 1, rng.choice(ACME_DOCKS))]
    head = [(1, 1, "ACME INDUSTRIAL SUPPLY, INC."), (1, 6, "PURCHASE ORDER"),
            (2, 6, "Page 1 of 1"), (3, 1, "1200 Harbor Blvd, Oakland, CA 94607, USA"),
            (4, 1, "Tel (510) 555-0143, purchasing@acme-industrial.example")]
    header = ["Line", "Item No.", "Description", "Qty", "UOM", "Unit Price", "Amount",
              "Need By"]
    first = 13
    last = first + len(lines) - 1
    amounts = [q * p if isinstance(q, int) else None for _, _, _, q, _, p in lines]
    subtotal = sum((a for a in amounts if a is not None), Decimal(0))
    footer_row = last + 2
    name = f"acme-PO-{po}"
    if workbook:
        return f"{name}.xlsx", _acme_xlsx(head, form, header, lines, amounts, need_by,
                                          subtotal, first, footer_row)
    # Excel's "CSV UTF-8": the values as displayed, every row as wide as the sheet.
    grid = _Grid(8)
    for row, column, value in head + form:
        grid.put(row, column, value.strftime("%m/%d/%Y %H:%M")
                 if isinstance(value, dt.datetime) else value)
    for column, text in enumerate(header, start=1):
        grid.put(12, column, text)
    for offset, (line, amount) in enumerate(zip(lines, amounts, strict=True)):
        row = first + offset
        number, item, text, qty, uom, price = line
        grid.put(row, 1, str(number))
        grid.put(row, 2, item)
        grid.put(row, 3, text)
        grid.put(row, 4, str(qty))
        grid.put(row, 5, uom)
        grid.put(row, 6, f"{price:,.2f}")
        grid.put(row, 7, f"{amount:,.2f}" if amount is not None else "#VALUE!")
    grid.put(first, 8, need_by.isoformat())  # merged down over the first lines: one value
    grid.put(footer_row, 6, "Subtotal")
    grid.put(footer_row, 7, f"{subtotal:,.2f}")
    grid.put(footer_row + 1, 6, "Freight")
    grid.put(footer_row + 1, 7, "0.00")
    grid.put(footer_row + 2, 6, "Total")
    grid.put(footer_row + 2, 7, f"{subtotal:,.2f}")
    grid.put(footer_row + 4, 1, "Notes: Please reference the PO# on all invoices and "
             "packing slips.")
    grid.put(footer_row + 6, 1, "Authorized Signature: ______________________")
    grid.put(footer_row + 6, 5, "Date: ____________")
    return f"{name}.csv", b"\xef\xbb\xbf" + grid.csv().encode("utf-8")


def _acme_xlsx(head: list[tuple[int, int, object]], form: list[tuple[int, int, object]],
               header: list[str], lines: list[list[object]], amounts: list[Decimal | None],
               need_by: dt.date, subtotal: Decimal, first: int, footer_row: int) -> bytes:
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Purchase Order"
    for row, column, value in head + form:
        sheet.cell(row=row, column=column, value=value)
    sheet["A1"].font = Font(bold=True, size=16)
    sheet["F6"].number_format = "yyyy-mm-dd hh:mm"
    for merged in ("A1:D2", "F1:H1", "B6:C6", "F6:G6", "B7:C7", "B8:C8", "F8:G8", "A10:D10"):
        sheet.merge_cells(merged)
    for column, text in enumerate(header, start=1):
        sheet.cell(row=12, column=column, value=text).font = Font(bold=True)
    values: dict[str, Decimal] = {}
    for offset, (line, amount) in enumerate(zip(lines, amounts, strict=True)):
        row = first + offset
        for column, value in enumerate(line, start=1):
            sheet.cell(row=row, column=column, value=value)
        sheet[f"F{row}"].number_format = "#,##0.00"
        if amount is not None:
            sheet[f"G{row}"] = f"=D{row}*F{row}"
            sheet[f"G{row}"].number_format = "#,##0.00"
            values[f"G{row}"] = amount
    sheet[f"H{first}"] = need_by  # one date merged down over the first lines
    sheet[f"H{first}"].number_format = "yyyy-mm-dd"
    sheet.merge_cells(f"H{first}:H{min(first + 2, first + len(lines) - 1)}")
    sheet[f"F{footer_row}"] = "Subtotal"
    sheet[f"G{footer_row}"] = f"=SUM(G{first}:G{first + len(lines) - 1})"
    sheet[f"F{footer_row + 1}"], sheet[f"G{footer_row + 1}"] = "Freight", 0
    sheet[f"F{footer_row + 2}"] = "Total"
    sheet[f"G{footer_row + 2}"] = f"=G{footer_row}+G{footer_row + 1}"
    values[f"G{footer_row}"] = values[f"G{footer_row + 2}"] = subtotal
    sheet[f"A{footer_row + 4}"] = ("Notes: Please reference the PO# on all invoices and "
                                   "packing slips.")
    sheet.merge_cells(f"A{footer_row + 4}:H{footer_row + 4}")
    sheet[f"A{footer_row + 6}"] = "Authorized Signature: ______________________"
    sheet[f"E{footer_row + 6}"] = "Date: ____________"
    return _saved(book, values)


# 华信电子 --------------------------------------------------------------------------------------

def _huaxin(index: int, rng: random.Random, workbook: bool, bad: bool) -> tuple[str, bytes]:
    day = dt.date(2024, 11, 1) + dt.timedelta(days=rng.randrange(40))
    po = f"HX-PO-{day:%Y%m%d}-{index:05d}"
    delivery = day + dt.timedelta(days=rng.randint(7, 21))
    contact, phone = rng.choice(HUAXIN_CONTACTS)
    lines = []
    for number in range(1, rng.randint(5, 20) + 1):
        code, text, spec, unit, price = rng.choice(HUAXIN_ITEMS)
        qty = rng.choice([20, 50, 100, 300, 1200, 1500, 3000])
        lines.append([str(number), code, text, spec, unit, f"{qty:,}", price])
    if bad:
        lines[rng.randrange(len(lines))][6] = "待定"  # a price not agreed yet
    form = [(4, 1, "订单号："), (4, 2, po), (4, 5, "订单日期"), (4, 6, f"{day:%Y/%m/%d}"),
            (5, 1, "交货日期"), (5, 2, f"{delivery.year}年{delivery.month:02d}月"
                                       f"{delivery.day:02d}日"),
            (5, 5, "币种"), (5, 6, "人民币"), (6, 1, "收货地址"),
            (6, 2, rng.choice(HUAXIN_ADDRESSES)),
            (7, 1, "联系人"), (7, 2, contact), (7, 5, "联系电话"), (7, 6, phone)]
    head = [(1, 1, "华信电子科技有限公司"), (2, 1, "采 购 订 单")]
    header = ["序号", "物料编码", "物料名称", "规格型号", "单位", "数量", "单价(元)", "金额(元)"]
    first = 10
    amounts = [Decimal(q.replace(",", "")) * Decimal(p) if p != "待定" else None
               for *_, q, p in lines]
    total = sum((a for a in amounts if a is not None), Decimal(0))
    end = first + len(lines)
    name = f"huaxin-{po}"
    if workbook:
        return f"{name}.xlsx", _huaxin_xlsx(head, form, header, lines, amounts, total, first,
                                            end)
    # Excel's "CSV (逗号分隔)" on a Chinese Windows: GB18030 (code page 936), CRLF.
    grid = _Grid(8)
    for row, column, value in head + form:
        grid.put(row, column, value)
    for column, text in enumerate(header, start=1):
        grid.put(9, column, text)
    for offset, (line, amount) in enumerate(zip(lines, amounts, strict=True)):
        for column, value in enumerate(line, start=1):
            grid.put(first + offset, column, value)
        if amount is not None:
            grid.put(first + offset, 8, f"{amount.normalize():f}")
    grid.put(end, 1, "合计")
    grid.put(end, 8, f"{total.normalize():f}")
    grid.put(end + 1, 1, "备注：请在送货单上注明订单号。")
    grid.put(end + 3, 1, "采购员签字：")
    grid.put(end + 3, 5, "审批：")
    return f"{name}.csv", grid.csv().encode("gb18030")


def _huaxin_xlsx(head: list[tuple[int, int, object]], form: list[tuple[int, int, object]],
                 header: list[str], lines: list[list[str]], amounts: list[Decimal | None],
                 total: Decimal, first: int, end: int) -> bytes:
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "采购订单"
    for row, column, value in head + form:
        sheet.cell(row=row, column=column, value=value)
    for merged in ("A1:H1", "A2:H2", "B4:D4", "F4:H4", "B5:D5", "F5:H5", "B6:H6", "B7:D7",
                   "F7:H7"):
        sheet.merge_cells(merged)
    for column, text in enumerate(header, start=1):
        sheet.cell(row=9, column=column, value=text).font = Font(bold=True)
    values: dict[str, Decimal] = {}
    for offset, (line, amount) in enumerate(zip(lines, amounts, strict=True)):
        row = first + offset
        for column, value in enumerate(line, start=1):
            sheet.cell(row=row, column=column, value=value)  # all text, as pasted
        if amount is not None:
            sheet[f"H{row}"] = f"=VALUE(SUBSTITUTE(F{row},\",\",\"\"))*G{row}"
            values[f"H{row}"] = amount
    sheet[f"A{end}"], sheet[f"H{end}"] = "合计", f"=SUM(H{first}:H{end - 1})"
    values[f"H{end}"] = total
    sheet[f"A{end + 1}"] = "备注：请在送货单上注明订单号。"
    sheet.merge_cells(f"A{end + 1}:H{end + 1}")
    sheet[f"A{end + 3}"], sheet[f"E{end + 3}"] = "采购员签字：", "审批："
    terms = book.create_sheet("条款")
    terms_text = ["采购条款", "1. 供方须按约定交货日期送达。", "2. 付款方式：月结 60 天。"]
    for row, text in enumerate(terms_text, start=1):
        terms.cell(row=row, column=1, value=text)
    return _saved(book, values)


# Writing -------------------------------------------------------------------------------------

class _Grid:
    """A sheet's cells as Excel's CSV export writes them: every row from row 1 to the last,
    each as wide as the sheet, blank cells empty, CRLF."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.rows: dict[int, dict[int, str]] = {}

    def put(self, row: int, column: int, value: object) -> None:
        self.rows.setdefault(row, {})[column] = str(value)

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for row in range(1, max(self.rows) + 1):
            cells = self.rows.get(row, {})
            writer.writerow([cells.get(column, "") for column in range(1, self.width + 1)])
        return out.getvalue()


def _saved(book: object, values: dict[str, Decimal]) -> bytes:
    """The workbook's bytes as the sender's Excel saves them: fixed timestamps (the same
    bytes every time), and each formula's value beside it (``<v>``; openpyxl alone saves
    formulas bare)."""
    book.properties.created = book.properties.modified = SAVED  # type: ignore[attr-defined]
    buffer = io.BytesIO()
    book.save(buffer)  # type: ignore[attr-defined]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive, zipfile.ZipFile(
            out, "w", zipfile.ZIP_DEFLATED) as rewritten:
        for info in archive.infolist():
            data = archive.read(info.filename)
            info.date_time = SAVED.timetuple()[:6]
            if info.filename == "docProps/core.xml":  # (openpyxl stamps the time of saving)
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>"
                              + f"{SAVED:%Y-%m-%dT%H:%M:%SZ}".encode(), data)
            if info.filename == "xl/worksheets/sheet1.xml" and values:
                text = data.decode("utf-8")
                for ref, value in values.items():
                    text, count = re.subn(
                        rf'(<c r="{ref}"[^>]*>)(<f>.*?</f>)<v\s*/>',
                        lambda m, v=value: f"{m.group(1)}{m.group(2)}<v>{v.normalize():f}</v>",
                        text)
                    if count != 1:
                        raise ValueError(f"formula cell {ref} not found")
                data = text.encode("utf-8")
            rewritten.writestr(info, data)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", type=int)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    written = write_folder(args.folder, args.count, args.seed)
    print(f"{len(written)} files -> {args.folder}")


if __name__ == "__main__":
    main()

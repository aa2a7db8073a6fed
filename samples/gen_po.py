"""Customer purchase-order workbooks as business customers send them (samples/po/).

Two senders with their own layouts: a title and logo area, the PO-level fields in a form
above the table (in merged cells), the line table, then totals, notes and a signature block.

openpyxl saves formulas without their value; Excel and LibreOffice save the value beside
the formula. ``cache_formulas`` writes the values into the sheet XML after saving, as Excel
would, so the samples read like files a customer's Excel produced; with ``cached=False`` the
formulas stay bare (what a script-written file looks like).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font

ROOT = Path(__file__).resolve().parent
SAVED = dt.datetime(2024, 11, 18, 9, 0)

ACME_LINES = [  # line, item, description, qty, uom, unit price
    (1, "00451-B", "Stainless hex bolt M8x40, A2-70", 500, "EA", Decimal("0.42")),
    (2, "00452-B", "Hex nut M8, A2-70", 500, "EA", Decimal("0.11")),
    (3, "000123", "Flat washer M8, DIN 125", 1000, "EA", Decimal("0.04")),
    (4, "PL-2210", "Pallet label roll, 100 x 150 mm", 12, "RL", Decimal("18.90")),
    (5, "GL-0707", "Nitrile gloves, size L (box of 100)", 30, "BX", Decimal("7.25")),
]
HUAXIN_LINES = [  # 序号, 物料编码, 名称, 规格, 单位, 数量 (text), 单价 (text)
    ("1", "0012-A", "贴片电容 100nF", "0603 X7R 50V", "盘", "20", "85.00"),
    ("2", "0013-A", "贴片电阻 10kΩ", "0603 1%", "盘", "20", "32.50"),
    ("3", "0207-C", "USB-C 母座", "16P 沉板", "个", "1,200", "1.35"),
    ("4", "0311-F", "锂电池保护板", "3S 20A", "块", "300", "待定"),
    ("5", "0420-K", "硅胶按键", "定制 3 键", "套", "1,500", "0.88"),
]


def write_acme(target: Path, cached: bool = True, po: str = "4500012345",
               po_date: dt.datetime = dt.datetime(2024, 11, 12, 9, 30),
               lines: list[tuple[int, str, str, int, str, Decimal]] = ACME_LINES) -> None:
    """ACME Industrial Supply (English): PO#: form area, merged cells, Amount formulas,
    a Need By column merged over lines (one date cell, one date stored as its serial),
    subtotal/total, notes and a signature block. ``po``, ``po_date`` and ``lines`` make
    another PO in the same layout (the mailed sample, samples/gen_mail.py)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Purchase Order"
    bold = Font(bold=True)
    sheet["A1"] = "ACME INDUSTRIAL SUPPLY, INC."  # where the logo sits, merged as Excel does
    sheet["A1"].font = Font(bold=True, size=16)
    sheet.merge_cells("A1:D2")
    sheet["F1"] = "PURCHASE ORDER"
    sheet["F1"].font = Font(bold=True, size=14)
    sheet.merge_cells("F1:H1")
    sheet["F2"] = "Page 1 of 1"
    sheet["A3"] = "1200 Harbor Blvd, Oakland, CA 94607, USA"
    sheet["A4"] = "Tel (510) 555-0143 · purchasing@acme-industrial.example"
    form = [("A6", "PO#:"), ("B6", po), ("E6", "PO Date:"),
            ("F6", po_date), ("A7", "Buyer:"), ("B7", "Dana Whitfield"),
            ("E7", "Currency: USD"), ("A8", "Vendor:"), ("B8", "Hangzhou Shanhe Trading Co."),
            ("E8", "Contact Phone:"), ("F8", "(510) 555-0143"), ("A9", "Ship To:"),
            ("A10", "ACME Receiving Dock 3, 1200 Harbor Blvd, Oakland, CA 94607")]
    for ref, value in form:
        sheet[ref] = value
        if isinstance(value, str) and value.endswith(":"):
            sheet[ref].font = bold
    sheet["F6"].number_format = "yyyy-mm-dd hh:mm"
    for merged in ("B6:C6", "F6:G6", "B7:C7", "B8:C8", "F8:G8", "A10:D10"):
        sheet.merge_cells(merged)
    header = ["Line", "Item No.", "Description", "Qty", "UOM", "Unit Price", "Amount", "Need By"]
    for column, name in enumerate(header, start=1):
        sheet.cell(row=12, column=column, value=name).font = bold
    values: dict[str, Decimal] = {}
    for offset, (line, item, text, qty, uom, price) in enumerate(lines):
        row = 13 + offset
        for column, value in enumerate([line, item, text, qty, uom, price], start=1):
            sheet.cell(row=row, column=column, value=value)
        sheet[f"F{row}"].number_format = "#,##0.00"
        sheet[f"G{row}"] = f"=D{row}*F{row}"
        sheet[f"G{row}"].number_format = "#,##0.00"
        values[f"G{row}"] = qty * price
    sheet["H13"] = dt.date(2024, 12, 2)  # one date for lines 1-3, merged down
    sheet["H13"].number_format = "yyyy-mm-dd"
    sheet.merge_cells("H13:H15")
    sheet["H16"] = 45642  # 2024-12-16, typed as a plain number: its serial
    sheet.merge_cells("H16:H17")
    sheet["H13"].alignment = Alignment(vertical="center")
    subtotal = sum(values.values(), Decimal(0))
    sheet["F19"], sheet["G19"] = "Subtotal", "=SUM(G13:G17)"
    sheet["F20"], sheet["G20"] = "Freight", 0
    sheet["F21"], sheet["G21"] = "Total", "=G19+G20"
    values["G19"] = values["G21"] = subtotal
    sheet["A23"] = "Notes: Please reference the PO# on all invoices and packing slips."
    sheet.merge_cells("A23:H23")
    sheet["A25"] = "Authorized Signature: ______________________"
    sheet["E25"] = "Date: ____________"
    sheet.column_dimensions["C"].width = 38
    save(workbook, target, values if cached else {})


def write_huaxin(target: Path, cached: bool = True) -> None:
    """华信电子 (Chinese): 订单号/订单日期/交货日期/收货地址 in merged form cells, numbers
    stored as text (with thousands separators), a price still 待定, 合计, 备注 and 签字
    rows, and a second sheet of terms."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "采购订单"
    sheet["A1"] = "华信电子科技有限公司"
    sheet["A1"].font = Font(bold=True, size=16)
    sheet.merge_cells("A1:H1")
    sheet["A2"] = "采 购 订 单"
    sheet.merge_cells("A2:H2")
    form = [("A4", "订单号："), ("B4", "HX-PO-20241118-007"), ("E4", "订单日期"),
            ("F4", "2024/11/18"), ("A5", "交货日期"), ("B5", "2024年12月05日"), ("E5", "币种"),
            ("F5", "人民币"), ("A6", "收货地址"), ("B6", "上海市浦东新区张江路1288号3号楼 收货部"),
            ("A7", "联系人"), ("B7", "周敏"), ("E7", "联系电话"), ("F7", "138 1234 5678")]
    for ref, value in form:
        sheet[ref] = value
    for merged in ("B4:D4", "F4:H4", "B5:D5", "F5:H5", "B6:H6", "B7:D7", "F7:H7"):
        sheet.merge_cells(merged)
    header = ["序号", "物料编码", "物料名称", "规格型号", "单位", "数量", "单价(元)", "金额(元)"]
    for column, name in enumerate(header, start=1):
        sheet.cell(row=9, column=column, value=name).font = Font(bold=True)
    values: dict[str, Decimal] = {}
    for offset, line in enumerate(HUAXIN_LINES):
        row = 10 + offset
        for column, value in enumerate(line, start=1):
            sheet.cell(row=row, column=column, value=value)  # all text, as pasted
        if line[6] != "待定":
            sheet[f"H{row}"] = f"=VALUE(SUBSTITUTE(F{row},\",\",\"\"))*G{row}"
            values[f"H{row}"] = Decimal(line[5].replace(",", "")) * Decimal(line[6])
    sheet["A15"], sheet["H15"] = "合计", "=SUM(H10:H14)"
    values["H15"] = sum(values.values(), Decimal(0))
    sheet["A16"] = "备注：请在送货单上注明订单号；第4项单价待确认后另行通知。"
    sheet.merge_cells("A16:H16")
    sheet["A18"], sheet["E18"] = "采购员签字：", "审批："
    terms = workbook.create_sheet("条款")
    for row, text in enumerate(["采购条款", "1. 供方须按约定交货日期送达，逾期按日扣款 0.5%。",
                                "2. 付款方式：月结 60 天。", "3. 质量问题 7 日内可退换。"],
                               start=1):
        terms.cell(row=row, column=1, value=text)
    save(workbook, target, values if cached else {})


def save(workbook: openpyxl.Workbook, target: Path, values: dict[str, Decimal]) -> None:
    """Save with fixed timestamps (the samples do not change when regenerated), then write
    the formula values in, as Excel does when it saves."""
    workbook.properties.created = workbook.properties.modified = SAVED
    target.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(target)
    cache_formulas(target, {"xl/worksheets/sheet1.xml": values})


def cache_formulas(path: Path, values: dict[str, dict[str, Decimal]]) -> None:
    """Write each formula's value into its cell (``<v>``), as Excel does when it saves."""
    path.write_bytes(as_excel_saves(path.read_bytes(), values, SAVED, path.name))


def as_excel_saves(data: bytes, values: dict[str, dict[str, Decimal]], saved: dt.datetime,
                   label: str = "workbook") -> bytes:
    """An openpyxl-saved workbook's bytes as Excel saves them: each formula's value in its
    cell (``<v>``; openpyxl alone saves formulas bare), and every timestamp ``saved`` (the
    same bytes every time). ``values``: part name -> cell reference -> value."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as archive, zipfile.ZipFile(
            out, "w", zipfile.ZIP_DEFLATED) as rewritten:
        for info in archive.infolist():
            part = archive.read(info.filename)
            info.date_time = saved.timetuple()[:6]
            if info.filename == "docProps/core.xml":  # (openpyxl stamps the time of saving)
                part = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>"
                              + f"{saved:%Y-%m-%dT%H:%M:%SZ}".encode(), part)
            cells = values.get(info.filename)
            if cells:
                text = part.decode("utf-8")
                for ref, value in cells.items():
                    text, count = re.subn(
                        rf'(<c r="{ref}"[^>]*>)(<f>.*?</f>)<v\s*/>',
                        lambda m, v=value: f"{m.group(1)}{m.group(2)}<v>{v.normalize():f}</v>",
                        text)
                    if count != 1:
                        raise ValueError(f"{label}: formula cell {ref} not found")
                part = text.encode("utf-8")
            rewritten.writestr(info, part)
    return out.getvalue()


def write_po_samples() -> None:
    write_acme(ROOT / "po" / "acme-PO-4500012345.xlsx")
    write_huaxin(ROOT / "po" / "huaxin-PO-HX-20241118-007.xlsx")


if __name__ == "__main__":
    write_po_samples()

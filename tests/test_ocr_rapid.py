"""Chinese text on scans read by RapidOCR, numbers and SKUs by tesseract, with the real
engines on generated pages: which engine read each cell, names and dates read right, the
fallback to tesseract, and a fax's specks kept out of the text."""

from __future__ import annotations

import dataclasses
import io
import re
import sys
import unicodedata
from pathlib import Path

import polars as pl
import pytest
from conftest import MAPPINGS, ROOT
from PIL import Image, ImageDraw

from ingest.api import ingest
from ingest.errors import InputError
from ingest.readers import crosscheck, engines, rapid
from ingest.readers.scan import CELLS, ENGINE, Sheet, read_scan
from ingest.writers.formats import unguarded

pytest.importorskip("rapidocr_onnxruntime", reason="RapidOCR (rapidocr-onnxruntime) is not "
                    "installed here: `make install` installs it; tesseract reads the text")

sys.path.insert(0, str(ROOT / "bench"))
import ocr_corpus as corpus

SEED = 5


@pytest.fixture(scope="module")
def items() -> list[corpus.Product]:
    return corpus.products(SEED)


def squeeze(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).replace("×", "x")


def engines_of(cells: str) -> dict[str, str]:
    """``ocr:cells`` (``品名/Description 98 rapidocr 1.4.4; …``) as label -> engine."""
    found = (re.match(r"^(.*) -?\d+ (\S+) \S+$", part) for part in cells.split("; "))
    return {m.group(1): m.group(2) for m in found if m}


def lines_of(sheet: Sheet) -> list[tuple[list[str], dict[str, str]]]:
    return [(row, extra) for row, kind, extra in zip(
        sheet.rows, sheet.kinds, sheet.extra, strict=True) if kind == "line"]


@pytest.mark.parametrize("level", [0, 2])
def test_names_by_rapidocr_numbers_and_skus_by_tesseract(level: int,
                                                         items: list[corpus.Product]) -> None:
    page, data, suffix = corpus.page_of(level, 1, items, SEED, lines=5)
    sheet = read_scan(f"po{suffix}", suffix, data)
    lines = lines_of(sheet)
    assert [squeeze(row[2]) for row, _ in lines] == [squeeze(line.name) for line in page.lines]
    for _, extra in lines:
        assert engines_of(extra[CELLS]) == {
            "序号/No.": "tesseract", "物料编码/SKU": "tesseract", "品名/Description": "rapidocr",
            "数量/Qty": "tesseract", "单价/Unit Price": "tesseract", "金额/Amount": "tesseract"}
        assert extra[ENGINE] == f"{engines.engine_for('number')}; {rapid.name()}"
    form = [c for row, kind in zip(sheet.rows, sheet.kinds, strict=True) if kind == "form"
            for c in row]
    assert any(squeeze(page.address) in squeeze(cell) for cell in form)


def test_a_date_written_in_chinese_reaches_the_order(
        tmp_path: Path, items: list[corpus.Product], monkeypatch: pytest.MonkeyPatch) -> None:
    # tesseract read such dates right 11 times in 66 (shared notes); RapidOCR all of them.
    rng = corpus.random.Random(4)
    page = dataclasses.replace(corpus.truth(0, 50, items, rng, lines=3), date="2026年8月11日")
    path = tmp_path / "po.png"
    out = io.BytesIO()
    corpus.render(page).save(out, "PNG", dpi=(200, 200))
    path.write_bytes(out.getvalue())
    products = tmp_path / "products.csv"
    corpus.write_products(products, items)
    monkeypatch.setenv("ORDERMILL_PRODUCTS", str(products))
    report = ingest([path], tmp_path / "out", mappings_dir=MAPPINGS)
    assert report.batch_dir is not None
    orders = unguarded(pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False))
    assert orders.height == 3
    assert set(orders["ordered_at"]) == {"2026-08-10T16:00:00Z"}  # 8月11日 in Shanghai
    assert set(orders["order_id"]) == {page.po_number}
    assert [squeeze(n) for n in orders["product_name"]] == [squeeze(line.name)
                                                             for line in page.lines]


def test_text_falls_back_to_tesseract(items: list[corpus.Product],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(engines.TEXT_ENGINE_ENV, "tesseract")
    page, data, suffix = corpus.page_of(0, 2, items, SEED, lines=3)
    sheet = read_scan("po.png", suffix, data)
    lines = lines_of(sheet)
    assert [row[1] for row, _ in lines] == [line.sku for line in page.lines]
    assert all("rapidocr" not in extra[CELLS] and extra[ENGINE].startswith("tesseract ")
               and ";" not in extra[ENGINE] for _, extra in lines)


def test_a_text_engine_setting_that_is_none_of_the_choices(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(engines.TEXT_ENGINE_ENV, "paddle")
    with pytest.raises(InputError) as caught:
        engines.text_engine()
    assert caught.value.code == "ocr-unavailable" and "auto" in caught.value.reason


def test_specks_are_not_read_as_text() -> None:
    font = corpus.ImageFont.truetype(corpus.font_path(), 30)
    cell = Image.new("L", (420, 50), 255)
    draw = ImageDraw.Draw(cell)
    draw.text((10, 8), "六角螺栓 M8×30", font=font, fill=0)
    for x, y in ((300, 10), (340, 30), (380, 20), (405, 40)):  # 1-bit fax specks
        cell.putpixel((x, y), 0)
        cell.putpixel((x, y + 1), 0)
    (read,) = rapid.read_cells([cell])
    assert squeeze(read.text) == squeeze("六角螺栓 M8×30")
    assert 0 <= read.confidence <= 100


def test_form_boxes_make_lines_and_cells() -> None:
    words = [(70.0, 270.0, 450.0, 320.0, "订单号/PO#:PO-2026-10000", 97.0),
             (930.0, 272.0, 1230.0, 322.0, "日期/Date:2026-08-08", 99.0),
             (70.0, 330.0, 200.0, 380.0, "采购员/Buyer:", 95.0),
             (215.0, 331.0, 400.0, 381.0, "刘洋 Liu Yang", 93.0)]
    lines = rapid._lines(words, 0)
    assert [line.cells for line in lines] == [
        ["订单号/PO#:PO-2026-10000", "日期/Date:2026-08-08"], ["采购员/Buyer: 刘洋 Liu Yang"]]
    assert lines[0].top == 270 and lines[0].confidence == 98.0


def test_a_row_that_does_not_hold_together_gets_a_second_look() -> None:
    # bench seed 1, L2-06: tesseract reads line 1's number as 4, two quantities short of a
    # digit (57 as 7, 73 as 3); RapidOCR reads those cells right (bench/README.md, "OCR").
    items = corpus.products(1)
    page, data, suffix = corpus.page_of(2, 6, items, 1)
    sheet = read_scan(f"fax{suffix}", suffix, data)
    lines = lines_of(sheet)
    assert [(row[0], row[3], row[4], row[5]) for row, _ in lines] == [
        (str(line.no), f"{line.quantity:,}", line.unit_price, line.amount)
        for line in page.lines]
    engines_used = {engine for _, extra in lines
                    for label, engine in engines_of(extra[CELLS]).items()
                    if label.startswith(("序号", "数量"))}
    assert engines_used == {"tesseract", "rapidocr"}


def test_which_combination_holds_together() -> None:
    assert crosscheck.holds({"line": "3", "quantity": "57", "price": "32.10",
                             "amount": "1,829.70"}, 3)
    assert not crosscheck.holds({"line": "3", "quantity": "7", "price": "32.10",
                                 "amount": "1,829.70"}, 3)
    assert not crosscheck.holds({"line": "4", "quantity": "57", "price": "32.10",
                                 "amount": "1,829.70"}, 3)
    assert crosscheck.variants("4.418", "quantity") == ["4.418", "4,418"]
    assert crosscheck.variants("39254", "price") == ["39254", "392.54"]
    assert crosscheck.variants("57", "quantity") == ["57"]
    assert crosscheck.roles(["序号/No.", "物料编码/SKU", "数量/Qty", "单价/Unit Price",
                             "金额/Amount"]) == {"line": 0, "quantity": 2, "price": 3,
                                                 "amount": 4}

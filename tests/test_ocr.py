"""Faxed and scanned POs through OCR, with real tesseract on generated pages: what is read
right, what goes to review and why (every routing reason), and every bad input."""

from __future__ import annotations

import dataclasses
import io
import struct
import sys
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from conftest import MAPPINGS, ROOT
from PIL import Image

from ingest.api import ingest
from ingest.config import load_settings
from ingest.errors import InputError
from ingest.ocr_checks import snap
from ingest.readers import engines
from ingest.readers.ocrpage import code_letters
from ingest.readers.scan import CELLS, CONFIDENCE, ENGINE, PAGE, TEXT_LAYER, read_scan
from ingest.readers.tesseract import Line
from ingest.writers.formats import unguarded

sys.path.insert(0, str(ROOT / "bench"))
import ocr_corpus as corpus
import pytesseract
import textpdf

SEED = 3


@pytest.fixture(scope="module")
def items() -> list[corpus.Product]:
    return corpus.products(SEED)


@pytest.fixture(scope="module")
def products_file(tmp_path_factory: pytest.TempPathFactory,
                  items: list[corpus.Product]) -> Path:
    path = tmp_path_factory.mktemp("products") / "products.csv"
    corpus.write_products(path, items)
    return path


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", dpi=(200, 200))
    return out.getvalue()


def run(paths: list[Path], tmp_path: Path, products: Path | None,
        monkeypatch: pytest.MonkeyPatch) -> tuple[Any, pl.DataFrame, pl.DataFrame]:
    if products is None:
        monkeypatch.delenv("ORDERMILL_PRODUCTS", raising=False)
    else:
        monkeypatch.setenv("ORDERMILL_PRODUCTS", str(products))
    report = ingest(paths, tmp_path / "out", mappings_dir=MAPPINGS)
    assert report.batch_dir is not None and report.manifest is not None
    orders = unguarded(pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False))
    rejects = pl.read_csv(report.batch_dir / "rejects.csv", infer_schema=False)
    return report, orders, rejects


def expected(page: corpus.Truth) -> list[tuple[str, str, str, str, str]]:
    """(line_no, sku, quantity, unit_price, line_total) as orders.csv writes them."""
    return [(str(line.no), line.sku, str(line.quantity),
             f"{Decimal(line.unit_price.replace(',', '')):.2f}",
             f"{Decimal(line.amount.replace(',', '')):.2f}") for line in page.lines]


def written(orders: pl.DataFrame) -> list[tuple[str, ...]]:
    return [tuple(row) for row in orders.select(
        "line_no", "sku", "quantity", "unit_price", "line_total").rows()]


def test_a_clean_page_reads_exactly(items: list[corpus.Product]) -> None:
    page, data, suffix = corpus.page_of(0, 0, items, SEED, lines=8)
    sheet = read_scan("po.png", suffix, data)
    header = sheet.kinds.index("header")
    assert sheet.rows[header] == list(corpus.HEADER)
    lines = [(row, extra) for row, kind, extra in zip(sheet.rows, sheet.kinds, sheet.extra,
                                                      strict=True) if kind == "line"]
    assert [row[:2] + row[3:] for row, _ in lines] == [
        [str(line.no), line.sku, f"{line.quantity:,}", line.unit_price, line.amount]
        for line in page.lines]
    # Every row says where it came from and how sure the engine was.
    assert {extra[PAGE] for _, extra in lines} == {"1"}
    assert all(extra[ENGINE].startswith("tesseract ") for _, extra in lines)
    assert all(0 <= float(extra[CONFIDENCE]) <= 100 for _, extra in lines)
    # The form area, line by line, split into cells at wide gaps.
    form = [cells for cells, kind in zip(sheet.rows, sheet.kinds, strict=True)
            if kind == "form"]
    assert any(page.po_number in cell for cells in form for cell in cells)


def test_clean_and_fax_pages_end_to_end_no_line_passes_wrong(
        tmp_path: Path, items: list[corpus.Product], products_file: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    truths = {}
    paths = []
    for level in (0, 1, 2):
        page, data, suffix = corpus.page_of(level, 2, items, SEED, lines=6)
        path = tmp_path / f"L{level}{suffix}"
        path.write_bytes(data)
        paths.append(path)
        truths[str(path)] = page
    report, orders, rejects = run(paths, tmp_path, products_file, monkeypatch)
    # The clean page goes through whole, with its form fields.
    clean = orders.filter(pl.col("source") == str(paths[0]))
    page0 = truths[str(paths[0])]
    assert written(clean) == expected(page0), rejects.select("codes", "messages").rows()
    assert set(clean["order_id"]) == {page0.po_number}
    assert set(clean["currency"]) == {"CNY"}
    assert set(clean["order_total"]) == {f"{Decimal(page0.total.replace(',', '')):.2f}"}
    # No silent misread: every line output is exactly the line on the page.
    for source, page in truths.items():
        out = orders.filter(pl.col("source") == source)
        assert set(written(out)) <= set(expected(page)), source
    entries = {e["path"]: e for e in report.manifest["inputs"]}
    assert str(paths[0]) in entries
    for source in truths.keys() & entries.keys():  # (a fax whose header is lost: review)
        entry = entries[source]
        assert entry["rows_in"] == entry["clean"] + entry["rejected"]
        assert entry["mapping"] == "po-scan"


def test_without_a_product_list_every_ocr_sku_goes_to_review(
        tmp_path: Path, items: list[corpus.Product], monkeypatch: pytest.MonkeyPatch) -> None:
    _, data, _ = corpus.page_of(0, 7, items, SEED, lines=5)
    path = tmp_path / "po.png"
    path.write_bytes(data)
    _, orders, rejects = run([path], tmp_path, None, monkeypatch)
    assert orders.height == 0
    assert set(rejects["codes"]) == {"unknown-sku"}
    assert "no product list is configured" in rejects["messages"][0]


def test_every_routing_reason(tmp_path: Path, items: list[corpus.Product],
                              products_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = corpus.random.Random(9)
    page = corpus.truth(0, 40, items, rng, lines=6)
    lines = list(page.lines)
    lines[1] = dataclasses.replace(lines[1], amount="12,345.67")  # qty × price ≠ amount
    lines[2] = dataclasses.replace(lines[2], sku="QQ77-77-XYZ")  # in no product list
    lines[4] = dataclasses.replace(lines[4], no=9)  # out of sequence
    flagged = dataclasses.replace(page, lines=lines)
    wrong_total = dataclasses.replace(corpus.truth(0, 41, items, rng, lines=4),
                                      total="1.00")
    first, second = tmp_path / "flagged.png", tmp_path / "total.png"
    first.write_bytes(png(corpus.render(flagged)))
    second.write_bytes(png(corpus.render(wrong_total)))
    _, orders, rejects = run([first, second], tmp_path, products_file, monkeypatch)
    assert orders.height == 0  # a PO with a line in review is held back whole
    codes = dict(zip(zip(rejects["source"], rejects["序号/No."], strict=True),
                     rejects["codes"], strict=True))
    assert codes[(str(first), "2")] == "ocr-amount-mismatch"
    assert codes[(str(first), "3")] == "unknown-sku"
    assert codes[(str(first), "9")] == "ocr-line-sequence"
    # The other lines: held back with their PO, which as read does not add up either.
    assert {codes[(str(first), n)] for n in ("1", "4", "6")} == {"order-total-mismatch"}
    assert {c for (source, _), c in codes.items() if source == str(second)} == {
        "ocr-total-mismatch"}
    message = rejects.filter(pl.col("codes") == "ocr-amount-mismatch")["messages"][0]
    assert "12345.67" in message and "lowest cell confidence" in message


def test_a_misread_sku_snaps_to_the_product_list_only_when_clearly_nearest() -> None:
    products = frozenset({"T5-10-GR8", "ZN4-40-304", "N16-16-201", "N6-16-201"})
    assert snap("15-10-GR8", products) == "T5-10-GR8"  # T read as 1
    assert snap("Z7N4-40-304", products) is None or snap("ZN4.40-304", products) == (
        "ZN4-40-304")
    assert snap("N16-16-201", products) == "N16-16-201"
    assert snap("N1-16-201", products) is None  # as near to N16-… as to N6-…: not guessed
    assert snap("QQ77-77-XYZ", products) is None


def test_an_upside_down_page_is_turned(items: list[corpus.Product]) -> None:
    page, data, _ = corpus.page_of(0, 3, items, SEED, lines=4)
    turned = png(Image.open(io.BytesIO(data)).rotate(180))
    sheet = read_scan("po.png", ".png", turned)
    assert any("upside down" in note for note in sheet.notes)
    skus = [row[1] for row, kind in zip(sheet.rows, sheet.kinds, strict=True)
            if kind == "line"]
    assert skus == [line.sku for line in page.lines]


def test_a_scanned_pdf_and_a_multipage_tiff(items: list[corpus.Product]) -> None:
    first, data, _ = corpus.page_of(0, 4, items, SEED, lines=3)
    second, more, _ = corpus.page_of(0, 5, items, SEED, lines=3)
    images = [Image.open(io.BytesIO(d)).point(lambda v: 255 if v > 150 else 0).convert("1")
              for d in (data, more)]
    pdf = io.BytesIO()
    images[0].save(pdf, "PDF", resolution=200)
    sheet = read_scan("po.pdf", ".pdf", pdf.getvalue())
    assert any("rasterised at 200 dpi" in note for note in sheet.notes)
    assert [row[1] for row, kind in zip(sheet.rows, sheet.kinds, strict=True)
            if kind == "line"] == [line.sku for line in first.lines]
    tiff = io.BytesIO()
    images[0].save(tiff, "TIFF", compression="group4", save_all=True,
                   append_images=[images[1]], dpi=(200, 200))
    sheet = read_scan("fax.tif", ".tif", tiff.getvalue())
    rows = [(extra[PAGE], row[1]) for row, kind, extra in zip(
        sheet.rows, sheet.kinds, sheet.extra, strict=True) if kind == "line"]
    assert rows == [("1", line.sku) for line in first.lines] + [
        ("2", line.sku) for line in second.lines]


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels (its data is a few bytes)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


ENCRYPTED_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"4 0 obj<</Filter/Standard/V 1/R 2/O<" + b"41" * 32 + b">/U<" + b"42" * 32
    + b">/P -4>>endobj\n"
    b"trailer<</Root 1 0 R/Size 5/Encrypt 4 0 R/ID[<0123456789abcdef0123456789abcdef>"
    b"<0123456789abcdef0123456789abcdef>]>>\n%%EOF\n")


@pytest.mark.parametrize(("name", "make", "code"), [
    ("blank.png", lambda fax: png(Image.new("L", (1654, 2339), 255)), "no-table-found"),
    ("photo.jpg", lambda fax: _noise_jpeg(), "no-table-found"),
    ("bomb.png", lambda fax: _png_header(30_000, 30_000), "image-bomb"),
    ("cut.tif", lambda fax: fax[: len(fax) // 3], "unreadable-scan"),
    ("not-really.tif", lambda fax: b"II*\x00garbage" * 10, "unreadable-scan"),
    ("stub.pdf", lambda fax: b"%PDF-1.4\n%%EOF", "unreadable-scan"),
    ("locked.pdf", lambda fax: ENCRYPTED_PDF, "encrypted-pdf"),
])
def test_bad_inputs_get_a_clear_reason(name: str, make: Any, code: str,
                                       items: list[corpus.Product]) -> None:
    _, fax, _ = corpus.page_of(1, 6, items, SEED, lines=3)
    with pytest.raises(InputError) as caught:
        read_scan(name, Path(name).suffix, make(fax))
    assert caught.value.code == code, caught.value.reason


def _noise_jpeg() -> bytes:
    rng = corpus.random.Random(5)
    image = Image.new("L", (800, 600))
    image.putdata([rng.randrange(90, 256) for _ in range(800 * 600)])
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def test_too_many_pages_are_refused_before_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERMILL_MAX_PAGES", "2")
    pages = [Image.new("1", (200, 200), 1) for _ in range(3)]
    tiff = io.BytesIO()
    pages[0].save(tiff, "TIFF", save_all=True, append_images=pages[1:])
    with pytest.raises(InputError) as caught:
        read_scan("long.tif", ".tif", tiff.getvalue())
    assert caught.value.code == "too-large" and "ORDERMILL_MAX_PAGES" in caught.value.reason


def lines_of(sheet: Any) -> list[tuple[str, list[str]]]:
    """(page, cells) of every table row read."""
    return [(extra[PAGE], row) for row, kind, extra in zip(
        sheet.rows, sheet.kinds, sheet.extra, strict=True) if kind == "line"]


def cells_of(page: corpus.Truth) -> list[list[str]]:
    return [[str(line.no), line.sku, line.name, f"{line.quantity:,}", line.unit_price,
             line.amount] for line in page.lines]


def test_a_text_layer_pdf_is_read_from_its_text_never_ocrd(
        tmp_path: Path, items: list[corpus.Product], monkeypatch: pytest.MonkeyPatch) -> None:
    rng = corpus.random.Random(11)
    pages = [corpus.truth(0, 50, items, rng, lines=4), corpus.truth(0, 51, items, rng, lines=3)]
    data = textpdf.text_po(pages)
    sheet = read_scan("po.pdf", ".pdf", data)
    # Both pages, each cell exactly as written (no OCR: no misread, no confidence below 100).
    assert lines_of(sheet) == [("1", cells) for cells in cells_of(pages[0])] + [
        ("2", cells) for cells in cells_of(pages[1])]
    assert {extra[ENGINE] for extra in sheet.extra if extra} == {TEXT_LAYER}
    assert sum("read from the PDF's text layer (not OCR'd)" in n for n in sheet.notes) == 2
    # End to end: a text layer is not OCR, so its lines are not routed to review (no
    # product list is configured, which would send every OCR'd line there).
    one = tmp_path / "po.pdf"
    one.write_bytes(textpdf.text_po(pages[:1]))
    report, orders, rejects = run([one], tmp_path, None, monkeypatch)
    assert rejects.height == 0
    assert written(orders) == expected(pages[0])
    assert set(orders["order_id"]) == {pages[0].po_number}
    entry = report.manifest["inputs"][0]
    assert entry["ocr"]["engines"] == [TEXT_LAYER]


def test_a_scanners_invisible_ocr_layer_is_not_taken_as_text(
        items: list[corpus.Product]) -> None:
    # A "searchable PDF": the scan with another program's OCR as invisible text over it.
    page, data, _ = corpus.page_of(0, 12, items, SEED, lines=3)
    searchable = pytesseract.image_to_pdf_or_hocr(Image.open(io.BytesIO(data)),
                                                  extension="pdf", config="--dpi 200")
    sheet = read_scan("searchable.pdf", ".pdf", searchable)
    assert any("invisible text over the scan" in note for note in sheet.notes)
    assert all(extra[ENGINE].startswith("tesseract ") for extra in sheet.extra if extra)
    assert [cells[1] for _, cells in lines_of(sheet)] == [line.sku for line in page.lines]


def test_scanned_pages_keep_their_own_resolution(items: list[corpus.Product]) -> None:
    # A 150 dpi scan in a PDF is rasterised at 150 dpi (not upscaled to 200), and a PNG at
    # 300 dpi keeps its pixels.
    page, data, _ = corpus.page_of(0, 13, items, SEED, lines=3)
    image = Image.open(io.BytesIO(data))
    small = image.resize((image.width * 3 // 4, image.height * 3 // 4))
    pdf = io.BytesIO()
    small.save(pdf, "PDF", resolution=150)
    from ingest.readers.pages import load_pages
    [loaded] = list(load_pages("scan.pdf", ".pdf", pdf.getvalue()))
    assert loaded.dpi == 150 and abs(loaded.image.width - small.width) <= 1
    big = image.resize((image.width * 3 // 2, image.height * 3 // 2))
    [loaded] = list(load_pages("scan.png", ".png", _png(big, 300)))
    assert loaded.dpi == 300 and loaded.image.size == big.size
    sheet = read_scan("scan.pdf", ".pdf", pdf.getvalue())
    assert any("rasterised at 150 dpi" in note for note in sheet.notes)
    assert [cells[1] for _, cells in lines_of(sheet)] == [line.sku for line in page.lines]


def _png(image: Image.Image, dpi: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", dpi=(dpi, dpi))
    return out.getvalue()


def test_pages_on_their_side_are_turned_and_read(items: list[corpus.Product]) -> None:
    page, data, _ = corpus.page_of(1, 14, items, SEED, lines=4)
    fax = Image.open(io.BytesIO(data))
    for angle in (90, 270):
        sheet = read_scan("side.png", ".png", _png(fax.rotate(angle, expand=True), 200))
        assert any("lay on its side" in note for note in sheet.notes), (angle, sheet.notes)
        assert [cells[1] for _, cells in lines_of(sheet)] == [
            line.sku for line in page.lines], angle


def test_a_multipage_scanned_pdf_is_read_page_by_page_in_parallel(
        items: list[corpus.Product], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERMILL_OCR_WORKERS", "2")
    truths, images = [], []
    for index in (15, 16, 17):
        page, data, _ = corpus.page_of(1, index, items, SEED, lines=3)
        truths.append(page)
        images.append(Image.open(io.BytesIO(data)).convert("1"))
    pdf = io.BytesIO()
    images[0].save(pdf, "PDF", resolution=200, save_all=True, append_images=images[1:])
    sheet = read_scan("faxes.pdf", ".pdf", pdf.getvalue())
    assert [(p, cells[1]) for p, cells in lines_of(sheet)] == [
        (str(number), line.sku) for number, page in enumerate(truths, start=1)
        for line in page.lines]
    assert sheet.details["pages"] == 3


def test_a_300_page_pdf_is_refused_at_once_or_read_whole_when_allowed(
        items: list[corpus.Product], monkeypatch: pytest.MonkeyPatch) -> None:
    # 300 pages: two POs among 298 blank pages (a stack run through a scanner).
    first, data, _ = corpus.page_of(0, 18, items, SEED, lines=2)
    last, more, _ = corpus.page_of(0, 19, items, SEED, lines=2)
    blank = Image.new("1", (850, 1100), 1)
    pages = [Image.open(io.BytesIO(data)).convert("1"), *([blank] * 298),
             Image.open(io.BytesIO(more)).convert("1")]
    pdf = io.BytesIO()
    pages[0].save(pdf, "PDF", resolution=200, save_all=True, append_images=pages[1:])
    with pytest.raises(InputError) as caught:  # (the default limit: 100 pages)
        read_scan("stack.pdf", ".pdf", pdf.getvalue())
    assert caught.value.code == "too-large" and "300 pages" in caught.value.reason
    monkeypatch.setenv("ORDERMILL_MAX_PAGES", "300")
    sheet = read_scan("stack.pdf", ".pdf", pdf.getvalue())
    assert [(p, cells[1]) for p, cells in lines_of(sheet)] == [
        ("1", line.sku) for line in first.lines] + [("300", line.sku) for line in last.lines]
    assert sheet.details["pages"] == 300
    assert sheet.details["pages_without_table"] == list(range(2, 300))


def test_review_lines_carry_a_picture_of_their_row_and_every_field_its_confidence(
        tmp_path: Path, items: list[corpus.Product], monkeypatch: pytest.MonkeyPatch) -> None:
    page, data, suffix = corpus.page_of(1, 20, items, SEED, lines=3)
    path = tmp_path / f"fax{suffix}"
    path.write_bytes(data)
    report, _, rejects = run([path], tmp_path, None, monkeypatch)  # (all to review)
    assert rejects.height == 3
    for evidence, box in zip(rejects["evidence"], rejects["ocr:box"], strict=True):
        picture = Image.open(report.batch_dir / evidence)
        left, top, right, bottom = map(int, box.split(","))
        assert picture.format == "PNG" and evidence.startswith("evidence/")
        assert abs(picture.width - (right - left)) <= 12 and abs(
            picture.height - (bottom - top)) <= 12
    # Each cell's confidence and engine, in the rejects and in the manifest.
    assert all("物料编码/SKU " in cells and "tesseract " in cells for cells in rejects[CELLS])
    entry = report.manifest["inputs"][0]
    assert set(entry["ocr"]["rows"]) == set(rejects["source_row"])
    assert entry["form"]["order_id"] == page.po_number
    assert entry["form_lineage"]["order_id"].startswith("confidence ")
    # (the form is read by RapidOCR where it is installed: ingest.readers.engines)
    assert engines.engine_for("form") in entry["form_lineage"]["order_id"]


def test_the_product_list_is_named_in_ordermill_toml(
        tmp_path: Path, items: list[corpus.Product], products_file: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORDERMILL_PRODUCTS", raising=False)
    _, data, _ = corpus.page_of(0, 21, items, SEED, lines=3)
    path = tmp_path / "po.png"
    path.write_bytes(data)
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "products.csv").write_bytes(products_file.read_bytes())
    config = tmp_path / "conf" / "ordermill.toml"
    config.write_text('products = "products.csv"\n', encoding="utf-8")
    settings = load_settings({}, str(config), {})
    assert settings.products == tmp_path / "conf" / "products.csv"
    report = ingest([path], tmp_path / "out", mappings_dir=MAPPINGS, settings=settings,
                    state_dir=tmp_path / "state")
    assert report.manifest is not None
    assert report.manifest["totals"]["clean"] == 3 and report.manifest["totals"]["rejected"] == 0


def _huge_tiff() -> bytes:
    """A TIFF whose header claims 30,000 x 30,000 pixels."""
    out = io.BytesIO()
    Image.new("1", (8, 8), 1).save(out, "TIFF", compression="group4")
    data = bytearray(out.getvalue())  # (little-endian: PIL writes "II")
    ifd = struct.unpack_from("<I", data, 4)[0]
    count = struct.unpack_from("<H", data, ifd)[0]
    for entry in range(count):  # ImageWidth (256) and ImageLength (257), rewritten
        at = ifd + 2 + 12 * entry
        tag, kind = struct.unpack_from("<HH", data, at)
        if tag in (256, 257):
            if kind == 3:
                struct.pack_into("<H", data, at + 8, 30_000)
            else:
                struct.pack_into("<I", data, at + 8, 30_000)
    return bytes(data)


def test_a_30000_pixel_square_tiff_is_refused_before_decoding() -> None:
    with pytest.raises(InputError) as caught:
        read_scan("huge.tif", ".tif", _huge_tiff())
    assert caught.value.code == "image-bomb", caught.value.reason


# -- the corpus's other layouts and typefaces ----------------------------------------------

def test_the_corpus_takes_its_layouts_and_typefaces_in_turn(
        items: list[corpus.Product]) -> None:
    pages = [corpus.page_of(0, index, items, SEED, lines=2, layouts=list(corpus.LAYOUTS),
                            fonts=list(corpus.FONTS))[0] for index in range(4)]
    assert {p.layout for p in pages[:3]} == set(corpus.LAYOUTS)
    assert {p.font for p in pages} == set(corpus.FONTS)
    # The same page in every layout and face: only its looks (and units) differ.
    again = corpus.page_of(0, 1, items, SEED, lines=2)[0]
    assert dataclasses.replace(pages[1], layout="classic", font="microhei",
                               lines=again.lines) == again
    assert [line.sku for line in pages[1].lines] == [line.sku for line in again.lines]
    uom = next(p for p in pages if p.layout == "item-uom")
    assert all(line.uom in corpus.UNITS for line in uom.lines)


@pytest.mark.parametrize(("layout", "font"), [("item-uom", "dejavu-serif"),
                                              ("below", "dejavu-sans")])
def test_other_layouts_are_read_by_the_generic_mapping(
        layout: str, font: str, tmp_path: Path, items: list[corpus.Product],
        products_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Columns in another order under other labels (物料编码/Item, 料号/Part No., 行号/Line,
    a 单位/UOM column) and the form fields beside the company's name or under the table:
    the clean page goes through whole, the fax passes no line wrong."""
    truths = {}
    for level in (0, 1):
        page, data, suffix = corpus.page_of(level, 20, items, SEED, lines=4, layouts=[layout],
                                            fonts=[font])
        path = tmp_path / f"{layout}-L{level}{suffix}"
        path.write_bytes(data)
        truths[str(path)] = page
    clean_path, clean = next(iter(truths.items()))
    sheet = read_scan(clean_path, Path(clean_path).suffix, Path(clean_path).read_bytes())
    assert sheet.rows[sheet.kinds.index("header")] == list(corpus.LAYOUTS[layout].header)
    report, orders, rejects = run([Path(p) for p in truths], tmp_path, products_file,
                                  monkeypatch)
    out = orders.filter(pl.col("source") == clean_path)
    assert written(out) == expected(clean), rejects.select("codes", "messages").rows()
    assert set(out["order_id"]) == {clean.po_number}
    assert set(out["order_total"]) == {f"{Decimal(clean.total.replace(',', '')):.2f}"}
    for source, page in truths.items():
        assert set(written(orders.filter(pl.col("source") == source))) <= set(expected(page))
    entries = {e["path"]: e for e in report.manifest["inputs"]}
    assert entries[clean_path]["mapping"] == "po-scan"
    # The code column's other names are not reported missing.
    assert "missing_columns" not in entries[clean_path]


def test_a_zero_in_a_form_codes_capitals_is_the_letter_o() -> None:
    def read(text: str) -> list[str]:
        return code_letters(Line([text], 0, 90.0, "x")).cells

    assert read("订单号/PO#: P0-2026-10000") == ["订单号/PO#: PO-2026-10000"]
    for kept in ("PO-2026-10000", "日期/Date: 2026-08-01", "+86 21 6922 0301", "A10-3",
                 "合计/Total: 1,000.00"):
        assert read(kept) == [kept]


def test_a_total_whose_separators_ocr_misread_is_taken_when_its_digits_are_the_lines_sum(
) -> None:
    # Standard faxes read 542,509.01 as 542.509.01 (bench/README.md, "OCR"): it does not
    # parse, but its digits are the lines' sum, which always has two decimals as printed
    # totals have, so it is that amount. Other digits leave it unread (the PO to review).
    from ingest.columns import RAW, ROW
    from ingest.ocr_checks import _total_by_digits

    frame = pl.DataFrame({
        ROW: [0, 1, 2, 3],
        "order_id": ["A", "A", "B", "C"],
        "line_total": [Decimal("500000.00"), Decimal("42509.01"), Decimal("7.50"),
                       Decimal("3.00")],
        "order_total": [None, None, None, Decimal("3.00")],
        RAW + "order_total": ["542.509.01", "542.509.01", "75.00", "3.00"],
    }, schema_overrides={"line_total": pl.Decimal(18, 2), "order_total": pl.Decimal(18, 2)})
    fixed = frame.select(_total_by_digits({"order_id", "line_total", "order_total"},
                                          pl.lit(True)))["order_total"].to_list()
    assert fixed == [Decimal("542509.01"), Decimal("542509.01"), None, Decimal("3.00")]

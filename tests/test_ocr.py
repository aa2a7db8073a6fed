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
from ingest.errors import InputError
from ingest.ocr_checks import snap
from ingest.readers.scan import CONFIDENCE, ENGINE, PAGE, read_scan
from ingest.writers.formats import unguarded

sys.path.insert(0, str(ROOT / "bench"))
import ocr_corpus as corpus

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

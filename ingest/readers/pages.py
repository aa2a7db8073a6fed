"""Reading, the second stage: a scan's pages (PNG, JPEG, TIFF, PDF) as gray images, bounded.

Every page is sized before it is decoded and refused over ``ORDERMILL_MAX_PAGE_PIXELS``
(``image-bomb``): a 30,000 x 30,000 PNG of white packs into a few hundred KB and would
decode to 900 MB. A document of more than ``ORDERMILL_MAX_PAGES`` pages is refused
(``too-large``) before any page is read.

- Images are read at their own resolution, never upscaled; a fax's 200 x 100 dpi (every
  other line) is stretched to square pixels, since the reading measures shapes.
- Multi-page TIFFs (1-bit G3/G4 faxes) give one page per frame.
- PDFs (pypdfium2): a page with a text layer gives its words and their boxes, never OCR'd,
  and a picture of the page for its ruling lines; a scanned page is rasterised at the
  resolution of the scan it holds (its largest image), so a 200 dpi fax stays 200 dpi.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

from PIL import Image, ImageOps, UnidentifiedImageError

from ingest.errors import InputError
from ingest.readers.limits import Limit

PAGE_PIXELS = Limit("ORDERMILL_MAX_PAGE_PIXELS", 80_000_000,
                    "a page is too big to be a scanned PO (a decompression bomb?)", "pixels")
PAGES = Limit("ORDERMILL_MAX_PAGES", 100, "the document has too many pages for a PO", "pages")
DEFAULT_DPI = 200  # an image that states no resolution; a PDF page without images
MAX_DPI = 400  # a PDF page's raster at most, whatever its images say (never upscaled)
TEXT_LAYER_CHARS = 20  # a PDF page with fewer characters than this is taken as a scan
RULING_DPI = 150  # a text-layer page's picture, for its ruling lines only


@dataclass(frozen=True)
class Word:
    """A word of a PDF's text layer, its box in the page picture's pixels."""

    text: str
    left: float
    top: float
    right: float
    bottom: float


@dataclass
class Page:
    number: int  # 1-based
    image: Image.Image  # mode "L", square pixels
    dpi: int
    words: list[Word] | None = None  # a PDF text layer: read as text, never OCR'd
    notes: list[str] = field(default_factory=list)


def load_pages(name: str, suffix: str, data: bytes) -> Iterator[Page]:
    """The document's pages one at a time (a page's pixels are let go once the caller moves
    on). Raises InputError (``unreadable-scan``, ``encrypted-pdf``, ``image-bomb``,
    ``too-large``)."""
    if suffix == ".pdf" or data[:5] == b"%PDF-":
        yield from _pdf_pages(name, data)
    else:
        yield from _image_pages(name, data)


def _image_pages(name: str, data: bytes) -> Iterator[Page]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
            frames = getattr(image, "n_frames", 1)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(name, f"is not an image ordermill can decode ({exc})",
                         code="unreadable-scan") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(name, "is an image of absurd size (a decompression bomb): refused "
                         "before it was decoded", code="image-bomb") from None
    PAGES.check(name, frames)
    for index in range(frames):
        try:
            image.seek(index)
            width, height = image.size
            PAGE_PIXELS.check(name, width * height, f"page {index + 1} is {width:,} x "
                              f"{height:,} pixels", code="image-bomb")
            dpi_x, dpi_y = _dpi(image)
            page = ImageOps.exif_transpose(image).convert("L")
        except InputError:
            raise
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise InputError(name, f"page {index + 1} cannot be decoded: it is damaged or "
                             f"cut short ({exc})", code="unreadable-scan") from None
        notes = []
        if dpi_y and dpi_x and abs(dpi_x - dpi_y) > 1:
            # A standard-mode fax: 204 x 98 dpi. Square the pixels by its finer axis.
            page = page.resize((page.width, round(page.height * dpi_x / dpi_y)),
                               Image.Resampling.BILINEAR)
            notes.append(f"page {index + 1}: {dpi_x:.0f} x {dpi_y:.0f} dpi (fax standard "
                         "mode), stretched to square pixels")
        yield Page(index + 1, page, round(dpi_x or DEFAULT_DPI), notes=notes)


def _dpi(image: Image.Image) -> tuple[float, float]:
    raw = image.info.get("dpi")
    if not raw:
        return 0.0, 0.0
    try:
        x, y = float(raw[0]), float(raw[1])
    except (TypeError, ValueError, IndexError):
        return 0.0, 0.0
    return (x, y) if x > 1 and y > 1 else (0.0, 0.0)


def _pdf_pages(name: str, data: bytes) -> Iterator[Page]:
    import pypdfium2 as pdfium  # (only for PDFs: 10 MB of native library)

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise InputError(name, "is a password-protected PDF: ordermill cannot open it; "
                             "ask the sender for a copy without a password",
                             code="encrypted-pdf") from None
        raise InputError(name, f"is not a PDF ordermill can open ({exc}): damaged or cut "
                         "short?", code="unreadable-scan") from None
    try:
        PAGES.check(name, len(document))
        for index in range(len(document)):
            page = document[index]
            try:
                yield _pdf_page(name, index, page)
            finally:
                page.close()
    finally:
        document.close()


def _pdf_page(name: str, index: int, page: object) -> Page:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    assert isinstance(page, pdfium.PdfPage)
    width_pt, height_pt = page.get_size()
    textpage = page.get_textpage()
    hidden = False
    try:
        chars = textpage.count_chars()
        # Invisible text over a scan is another program's OCR (a scanner's "searchable
        # PDF"): unchecked, so the page is read as the scan it is, with its confidences.
        hidden = chars >= TEXT_LAYER_CHARS and _invisible_text(page)
        if chars >= TEXT_LAYER_CHARS and not hidden:
            scale = RULING_DPI / 72
            words = _words(textpage, chars, scale, height_pt)
            picture = _render(name, index, page, scale, width_pt, height_pt)
            return Page(index + 1, picture, RULING_DPI, words,
                        [f"page {index + 1}: read from the PDF's text layer (not OCR'd)"])
    finally:
        textpage.close()
    # A scanned page: at the resolution of the largest image on it.
    dpi = DEFAULT_DPI
    best = 0
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2):
        assert isinstance(obj, pdfium.PdfImage)
        pixels = obj.get_px_size()
        left, _, right, _ = obj.get_bounds()
        if pixels[0] * pixels[1] > best and right > left:
            best = pixels[0] * pixels[1]
            dpi = round(pixels[0] / ((right - left) / 72))
    dpi = max(1, min(dpi, MAX_DPI))  # (the scan's own resolution: never more)
    picture = _render(name, index, page, dpi / 72, width_pt, height_pt)
    note = f"page {index + 1}: a scan, rasterised at {dpi} dpi"
    if hidden:
        note += (" (its text layer is invisible text over the scan, another program's OCR: "
                 "not taken)")
    return Page(index + 1, picture, dpi, notes=[note])


def _invisible_text(page: object) -> bool:
    """Whether every text object of the page is invisible (text render mode 3)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    assert isinstance(page, pdfium.PdfPage)
    modes = [pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw) for obj in page.get_objects(
        filter=(pdfium_c.FPDF_PAGEOBJ_TEXT,), max_depth=3)]
    return bool(modes) and all(m == pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE for m in modes)


def _render(name: str, index: int, page: object, scale: float, width_pt: float,
            height_pt: float) -> Image.Image:
    import pypdfium2 as pdfium

    assert isinstance(page, pdfium.PdfPage)
    pixels = round(width_pt * scale) * round(height_pt * scale)
    PAGE_PIXELS.check(name, pixels, f"page {index + 1} would be {pixels:,} pixels",
                      code="image-bomb")
    bitmap = page.render(scale=scale, grayscale=True)
    picture: Image.Image = bitmap.to_pil().convert("L")
    return picture


def _words(textpage: object, chars: int, scale: float, height_pt: float) -> list[Word]:
    """The text layer's words: runs of characters without a space, with their boxes (PDF
    points, origin bottom left) as the page picture's pixels (origin top left)."""
    import pypdfium2 as pdfium

    assert isinstance(textpage, pdfium.PdfTextPage)
    text = textpage.get_text_range(0, chars)
    words: list[Word] = []
    current: list[tuple[str, tuple[float, float, float, float]]] = []

    def flush() -> None:
        if current:
            lefts, bottoms, rights, tops = zip(*(box for _, box in current), strict=True)
            words.append(Word("".join(c for c, _ in current), min(lefts) * scale,
                              (height_pt - max(tops)) * scale, max(rights) * scale,
                              (height_pt - min(bottoms)) * scale))
            current.clear()

    for i, char in enumerate(text[:chars]):
        if char.isspace() or char == "\x00":
            flush()
            continue
        # (loose: the font's full height, so a stop or a dash is as tall as a digit)
        box = textpage.get_charbox(i, loose=True)
        if current and box[0] - current[-1][1][2] > (box[3] - box[1]) * 0.25:
            flush()  # a gap wider than a space: a new word
        current.append((char, box))
    flush()
    return words

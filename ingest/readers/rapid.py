"""Reading, the second stage: Chinese text on a scanned page (names, addresses, dates) with
RapidOCR.

RapidOCR (``rapidocr-onnxruntime``: PaddleOCR's PP-OCRv4 detection and recognition models,
shipped inside the wheel, run by onnxruntime; nothing is downloaded at run time) reads
Chinese far better than tesseract's ``chi_sim`` (Debian ships only its small "fast" model).
Measured on the synthetic faxed POs (shared notes, "OCR of faxed purchase orders", second
round): product names 0-0.5 % character errors on clean to standard fax against 9-35 % for
tesseract, dates written ``2026年8月11日`` 100 % against 80-90 %, 19 of 21 key fields of
public real scans against tesseract's 9. The notes saw it drop or double repeated digits in
single number cells, so numbers and codes are tesseract's first (``ingest.readers.engines``
decides which engine reads what); here, on cells cut to their ink and cleaned of specks,
its misses were separators, and it is the second look at rows whose numbers do not hold
together (``ingest.readers.crosscheck``).

Two uses here, both on one core (onnxruntime's intra- and inter-op threads set to 1, as
tesseract runs with ``OMP_THREAD_LIMIT=1``):

- ``read_cells``: a column's cells, each cut to its ink, recognised without detection (about
  0.1 CPU s per 1,000 pixels of text line at the model's 48 px height);
- ``read_lines``: the form area around the table: text boxes detected on a copy at most
  ``DET_SIDE`` pixels wide (the page's text is large at 200 dpi: 0.07 CPU s at 800 px
  against 0.23 s at full size, the same boxes), recognised at full resolution, then grouped
  into lines and cut into cells at wide gaps, as ``ingest.readers.tesseract.read_lines``
  does.

The engine is loaded on first use (0.4-0.8 CPU s) and kept for the process. Confidence is
RapidOCR's recognition score (the mean of its characters' probabilities) times 100.
"""

from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from importlib import metadata
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from ingest.readers.tesseract import INK, SPLIT_GAP, Line, Read, clean

PACKAGE = "rapidocr-onnxruntime"
MODULE = "rapidocr_onnxruntime"
DET_SIDE = 800  # text boxes are found on a copy with its longer side at most this
TEXT_SCORE = 0.5  # a box recognised below this score is dropped (RapidOCR's default)
# A semicolon between digits, before three more, is a thousands comma misread (``1;424,217.20``
# for a printed total, bench/README.md "OCR")
GROUP_SEMICOLON = re.compile(r"(?<=\d);(?=\d{3}(?:\D|$))")
MARGIN = 6  # white pixels kept around a cell's ink
SPECK = 6  # blobs of fewer ink pixels are fax noise (1-bit specks, 2 px once a 200 x 100
# dpi fax is stretched to square pixels)
REGION_MARGIN = 12


def installed() -> bool:
    """Whether the package is there (not whether it loads: see ``engine``)."""
    return importlib.util.find_spec(MODULE) is not None


@lru_cache(maxsize=1)
def name() -> str:
    """``rapidocr 1.4.4``."""
    return f"rapidocr {metadata.version(PACKAGE)}"


@lru_cache(maxsize=1)
def engine() -> Any:
    """The loaded engine, one per process. Raises ImportError (or the engine's own error)
    when it cannot load: the caller falls back to tesseract."""
    from rapidocr_onnxruntime import RapidOCR

    # det_limit_type "max": never upscale the copy boxes are found on ("min", the default,
    # blew a 500 px wide form area up to 736 px high: 0.8 s instead of 0.05); one image a
    # recognition batch: padding a batch to its widest line cost 0.85 s against 0.55.
    return RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, print_verbose=False,
                    det_limit_type="max", rec_batch_num=1)


def usable() -> bool:
    """Installed and loads (the result is kept: a broken install is not retried per page)."""
    return _loads()


@lru_cache(maxsize=1)
def _loads() -> bool:
    if not installed():
        return False
    try:
        engine()
    except Exception:  # (ImportError, onnxruntime's errors, a missing model file)
        return False
    return True


def _gray(image: Image.Image) -> NDArray[np.uint8]:
    return np.asarray(image.convert("L"))


def _bgr(gray: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return np.repeat(gray[:, :, None], 3, axis=2)


def _despeckled(gray: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The image with its specks (blobs of ink under ``SPECK`` pixels) made white: a fax's
    noise, which RapidOCR otherwise reads as trailing dots (``销轴W4×20...``) and which
    stretched a cell's ink box. A full stop at 200 dpi is about 16 pixels, and stays."""
    import cv2  # (installed with RapidOCR: it is one of its dependencies)

    mask = (gray < INK).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < SPECK)
    small = small[small > 0]  # (label 0 is the background)
    if small.size == 0:
        return gray
    cleaned = gray.copy()
    cleaned[np.isin(labels, small)] = 255
    return cleaned


def _ink_box(gray: NDArray[np.uint8], row_ink: int, column_ink: int, margin: int
             ) -> tuple[int, int, int, int] | None:
    """The box (left, top, right, bottom) of the rows holding at least ``row_ink`` ink
    pixels and the columns holding ``column_ink``, with a margin: a fax's specks (single
    pixels) and streaks (a pixel or two a row) do not stretch it."""
    mask = gray < INK
    rows = np.flatnonzero(mask.sum(axis=1) >= row_ink)
    if rows.size == 0:
        return None
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    columns = np.flatnonzero(mask[top:bottom].sum(axis=0) >= column_ink)
    if columns.size == 0:
        return None
    left, right = int(columns[0]), int(columns[-1]) + 1
    height, width = gray.shape
    return (max(0, left - margin), max(0, top - margin), min(width, right + margin),
            min(height, bottom + margin))


def read_cells(cells: list[Image.Image]) -> list[Read]:
    """Each cell's text (one line of it), recognised without detection."""
    if not cells:
        return []
    crops: list[NDArray[np.uint8] | None] = []
    for cell in cells:
        gray = _despeckled(_gray(cell))
        box = _ink_box(gray, 1, 1, MARGIN)
        crops.append(None if box is None else gray[box[1]:box[3], box[0]:box[2]])
    todo = [_bgr(c) for c in crops if c is not None]
    found: list[tuple[str, float]] = engine().text_rec(todo)[0] if todo else []
    reads: list[Read] = []
    results = iter(found)
    for crop in crops:
        if crop is None:
            reads.append(Read("", -1.0, ""))
            continue
        text, score = next(results)
        text = clean(str(text))
        reads.append(Read(text, round(float(score) * 100, 1), name()) if text
                     else Read("", -1.0, ""))
    return reads


def read_lines(region: Image.Image, offset: int = 0) -> list[Line]:
    """A form area's lines, each split into cells at wide gaps (``PO#: 123    Date: ...`` is
    two cells), top to bottom. Boxes are found on a copy at most ``DET_SIDE`` pixels wide
    and read from the page at its own resolution."""
    if region.height < 8 or region.width < 8:
        return []
    gray = _despeckled(_gray(region))
    box = _ink_box(gray, max(12, gray.shape[1] // 100), 3, REGION_MARGIN)
    if box is None:
        return []
    left0, top0, right0, bottom0 = box
    full = gray[top0:bottom0, left0:right0]
    scale = min(1.0, DET_SIDE / max(full.shape))
    small = full if scale == 1.0 else np.asarray(Image.fromarray(full).resize(
        (max(1, round(full.shape[1] * scale)), max(1, round(full.shape[0] * scale))),
        Image.Resampling.BILINEAR))
    ocr = engine()
    found, _ = ocr.text_det(_bgr(small))
    if found is None or len(found) == 0:
        return []
    boxes = [np.asarray(points, dtype=np.float32) / scale for points in found]
    crops = ocr.get_crop_img_list(_bgr(full), boxes)
    texts, _ = ocr.text_rec(crops)
    # The orientation classifier (0 or 180 degrees; it turns what it is given, so a copy):
    # a line it finds upside down is a line not read right, whatever its recognition score,
    # which stayed at 54-72 for an upside-down page's form. The scan reader then turns the
    # page (ingest.readers.scan, UPSIDE_DOWN_BELOW).
    _, turned, _ = ocr.text_cls(list(crops))
    words: list[tuple[float, float, float, float, str, float]] = []
    for points, (text, score), (angle, sure) in zip(boxes, texts, turned, strict=True):
        text = GROUP_SEMICOLON.sub(",", clean(str(text)))
        if not text or float(score) < TEXT_SCORE:
            continue
        upright = 1.0 - float(sure) if str(angle) == "180" else 1.0
        xs, ys = points[:, 0], points[:, 1]
        words.append((float(xs.min()) + left0, float(ys.min()) + top0,
                      float(xs.max()) + left0, float(ys.max()) + top0, text,
                      float(score) * upright * 100))
    return _lines(words, offset)


def _lines(words: list[tuple[float, float, float, float, str, float]], offset: int
           ) -> list[Line]:
    """Boxes grouped into lines by their middles, cut into cells at wide gaps."""
    rows: list[list[tuple[float, float, float, float, str, float]]] = []
    for word in sorted(words, key=lambda w: ((w[1] + w[3]) / 2, w[0])):
        middle, height = (word[1] + word[3]) / 2, word[3] - word[1]
        if rows:
            last = rows[-1]
            last_middle = sum((w[1] + w[3]) / 2 for w in last) / len(last)
            if abs(last_middle - middle) < 0.5 * height:
                last.append(word)
                continue
        rows.append([word])
    lines = []
    for row in rows:
        row.sort(key=lambda w: w[0])
        height = sorted(w[3] - w[1] for w in row)[len(row) // 2]
        cells: list[list[str]] = [[]]
        end: float | None = None
        for left, _, right, _, text, _ in row:
            if end is not None and left - end > SPLIT_GAP * height:
                cells.append([])
            cells[-1].append(text)
            end = right
        texts = [clean(" ".join(c)) for c in cells]
        lines.append(Line([t for t in texts if t], round(min(w[1] for w in row)) + offset,
                          sum(w[5] for w in row) / len(row), name()))
    lines.sort(key=lambda line: line.top)
    return [line for line in lines if line.cells]

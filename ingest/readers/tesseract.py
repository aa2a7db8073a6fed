"""Reading, the second stage: text out of a page's pieces with tesseract (pytesseract).

pytesseract starts a tesseract process per call (about 80 ms with ``eng``, 180 ms with
``chi_sim+eng``, even for a tiny crop), so cells are never read one call each: a column's
cells are stacked into one strip with gaps and read in one call (``read_strip``), with the
column's character whitelist; each word goes back to the cell it lies in. Tesseract runs
with ``OMP_THREAD_LIMIT=1``: its default threading was about 5x slower per page here.

Every text comes with its confidence (tesseract's, 0-100: the lowest of its words) and the
engine that read it. Confidence orders a reviewer's queue; it does not decide what is
right (see ``ingest.ocr_checks``).
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageOps

from ingest.errors import InputError
from ingest.readers.limits import Limit

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
OCR_SECONDS = Limit("ORDERMILL_OCR_SECONDS", 120, "seconds one tesseract call may take", "s")

INK = 140  # gray level under which a pixel is ink
GAP = 24  # white pixels between stacked cells
PAD = 12
DIGITS = "0123456789.,-"
CODES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-./_#"
LANGS = ("eng", "chi_sim")
CJK_SPACE = re.compile(r"(?<=[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef])\s+"
                       r"(?=[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef])")
SPLIT_GAP = 2.2  # a gap wider than this many text heights splits a form line into cells


@dataclass(frozen=True)
class Read:
    text: str
    confidence: float  # 0-100; -1 when nothing was read
    engine: str  # what read it (``tesseract 5.3.0``, ``pdf text layer``); "" for nothing


@dataclass(frozen=True)
class Line:
    """A line of the form area: its cells (split at wide gaps) and where it is."""

    cells: list[str]
    top: int
    confidence: float
    engine: str


@lru_cache(maxsize=1)
def engine() -> str:
    """``tesseract 5.3.0``; raises InputError (``ocr-unavailable``) when it cannot run."""
    if shutil.which("tesseract") is None:
        raise InputError("tesseract", "the OCR engine is not installed: apt-get install "
                         "tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim",
                         code="ocr-unavailable")
    import pytesseract

    try:
        version = str(pytesseract.get_tesseract_version()).split()[0]
        have = set(pytesseract.get_languages(config=""))
    except Exception as exc:  # (pytesseract raises its own and OS errors)
        raise InputError("tesseract", f"the OCR engine does not run: {exc}",
                         code="ocr-unavailable") from None
    missing = [lang for lang in LANGS if lang not in have]
    if missing:
        raise InputError("tesseract", "tesseract lacks the language data "
                         + ", ".join(missing) + ": apt-get install "
                         + " ".join(f"tesseract-ocr-{m.replace('_', '-')}" for m in missing),
                         code="ocr-unavailable")
    return f"tesseract {version}"


def clean(text: str) -> str:
    """NFKC, no spaces between Chinese characters (chi_sim puts them there)."""
    return CJK_SPACE.sub("", unicodedata.normalize("NFKC", text)).strip()


def read_strip(cells: list[Image.Image], kind: str) -> list[Read]:
    """The cells of one column, read in one call: ``kind`` "number", "code" or "text"."""
    if not cells:
        return []
    import pytesseract

    cells = [_trimmed(c) for c in cells]
    width = max(c.width for c in cells) + 2 * PAD
    height = sum(c.height for c in cells) + GAP * (len(cells) - 1) + 2 * PAD
    strip = Image.new("L", (width, height), 255)
    bands: list[tuple[int, int]] = []
    y = PAD
    for cell in cells:
        strip.paste(cell, (PAD, y))
        bands.append((y, y + cell.height))
        y += cell.height + GAP
    if kind == "number":
        config = f"--psm 6 -c tessedit_char_whitelist={DIGITS}"
        lang = "eng"
    elif kind == "code":
        config = f"--psm 6 -c tessedit_char_whitelist={CODES}"
        lang = "eng"
    else:
        config, lang = "--psm 6", "chi_sim+eng"
    data = pytesseract.image_to_data(strip, lang=lang, config=config,
                                     output_type=pytesseract.Output.DICT,
                                     timeout=OCR_SECONDS.value())
    # Words in tesseract's reading order (a cell's Chinese and Latin words sit at slightly
    # different heights: sorting by position would shuffle them).
    words: list[list[tuple[str, float]]] = [[] for _ in cells]
    for text, top, h, conf in zip(data["text"], data["top"], data["height"], data["conf"],
                                  strict=True):
        if not str(text).strip():
            continue
        middle = top + h / 2
        for index, (start, end) in enumerate(bands):
            if start - GAP / 2 <= middle < end + GAP / 2:
                words[index].append((str(text), float(conf)))
                break
    reads = []
    name = engine()
    for found in words:
        joiner = " " if kind == "text" else ""
        text = tidy(clean(joiner.join(w for w, _ in found)), kind)
        reads.append(Read(text, min((c for _, c in found), default=-1.0),
                          name if text else ""))
    return reads


NOT_NUMBER = re.compile(r"[^0-9.,]")
COMMA_DECIMALS = re.compile(r"^[0-9,]*,[0-9]{2}$")


def tidy(text: str, kind: str) -> str:
    """What a whitelist lets through anyway, taken off: specks read as stops or dashes at
    the ends, quotes; in a number, a decimal comma (``68,62``: the stop of a 1-bit fax
    often reads as a comma) made a point. Whatever is still wrong, the checks see."""
    if kind == "number":
        text = NOT_NUMBER.sub("", text).strip(".,")
        if COMMA_DECIMALS.match(text) and "." not in text:
            text = text[:-3] + "." + text[-2:]
    elif kind == "code":
        text = text.strip(".-_,")
    return text


def _trimmed(cell: Image.Image, margin: int = 6) -> Image.Image:
    """The cell cut to its ink and a margin: stacked cells then start at one left edge
    (numbers right-aligned at different places in a strip were misread: 11 as 1)."""
    box = ImageOps.invert(cell).point(lambda v: 255 if v > 255 - INK else 0).getbbox()
    if box is None:
        return cell
    left, top, right, bottom = box
    return cell.crop((max(0, left - margin), max(0, top - margin),
                      min(cell.width, right + margin), min(cell.height, bottom + margin)))


def read_lines(region: Image.Image, offset: int = 0) -> list[Line]:
    """A form area's lines (``chi_sim+eng``), each split into cells at wide gaps, so that
    ``PO#: 123    Date: 2026-08-11`` is two cells, as a spreadsheet would hold them."""
    if region.height < 8 or region.width < 8:
        return []
    import pytesseract

    data = pytesseract.image_to_data(region, lang="chi_sim+eng", config="--psm 4",
                                     output_type=pytesseract.Output.DICT,
                                     timeout=OCR_SECONDS.value())
    grouped: dict[tuple[int, int, int], list[tuple[int, int, int, int, str, float]]] = {}
    for text, left, top, w, h, conf, block, par, line in zip(
            data["text"], data["left"], data["top"], data["width"], data["height"],
            data["conf"], data["block_num"], data["par_num"], data["line_num"], strict=True):
        if str(text).strip():
            grouped.setdefault((block, par, line), []).append(
                (left, top, w, h, str(text), float(conf)))
    lines = []
    for words in grouped.values():
        words.sort()
        height = sorted(h for _, _, _, h, _, _ in words)[len(words) // 2]
        cells: list[list[str]] = [[]]
        end = None
        for left, _, w, _, text, _ in words:
            if end is not None and left - end > SPLIT_GAP * height:
                cells.append([])
            cells[-1].append(text)
            end = left + w
        texts = [clean(" ".join(c)) for c in cells]
        lines.append(Line([t for t in texts if t], min(t for _, t, _, _, _, _ in words)
                          + offset, sum(c for *_, c in words) / len(words), engine()))
    lines.sort(key=lambda line: line.top)
    return [line for line in lines if line.cells]

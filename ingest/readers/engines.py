"""Reading, the second stage: which OCR engine reads which part of a scanned page.

The scan reader (``ingest.readers.scan``) asks here for each column of the ruled table, by
the column's kind, and for the form area around it:

- ``number`` and ``code`` columns: tesseract, cells stacked into one strip a kind read
  with the kind's character whitelist (``ingest.readers.tesseract``; ``read_columns``).
  RapidOCR dropped or doubled repeated digits in single number cells in the notes' trials
  (shared notes, second round), and a whitelist keeps a SKU's ``0`` from being read as a
  Chinese character. A row whose numbers do not hold together gets RapidOCR's reading as a
  second look (``ingest.readers.crosscheck``);
- ``text`` columns (names, descriptions; the header labels) and the form area (PO number,
  date, buyer, phone, address): RapidOCR where it is installed and loads
  (``ingest.readers.rapid``), else tesseract's ``chi_sim+eng``.

``ORDERMILL_TEXT_OCR=tesseract`` keeps the text with tesseract although RapidOCR is there
(to compare the two, or to rule one out); ``rapidocr`` insists on it (a scan then waits,
``ocr-unavailable``, where it is missing); ``auto`` (the default) takes it where it loads.

Every cell read carries its confidence and the name of the engine that read it.
"""

from __future__ import annotations

import os
import re
import unicodedata

from PIL import Image

from ingest.errors import InputError
from ingest.readers import crosscheck, rapid, tesseract
from ingest.readers.tesseract import Line, Read

TEXT_ENGINE_ENV = "ORDERMILL_TEXT_OCR"
LINE_NUMBER_LABELS = {"no", "no.", "#", "序号", "行号", "line", "item no.", "line no."}
CHOICES = ("auto", "rapidocr", "tesseract")


def text_engine() -> str:
    """``rapidocr`` or ``tesseract``: who reads text columns and the form area.

    Raises InputError (``ocr-unavailable``) when RapidOCR is asked for and cannot load, or
    the setting is not one of ``CHOICES``."""
    wanted = os.environ.get(TEXT_ENGINE_ENV, "auto").strip().lower() or "auto"
    if wanted not in CHOICES:
        raise InputError(TEXT_ENGINE_ENV, f"{TEXT_ENGINE_ENV}={wanted!r} is none of "
                         + ", ".join(CHOICES), code="ocr-unavailable")
    if wanted == "tesseract":
        return "tesseract"
    if rapid.usable():
        return "rapidocr"
    if wanted == "rapidocr":
        raise InputError("rapidocr", f"{TEXT_ENGINE_ENV}=rapidocr, but RapidOCR is not "
                         f"installed or does not load: pip install --no-deps "
                         f"{rapid.PACKAGE} and its dependencies (see the Makefile)",
                         code="ocr-unavailable")
    return "tesseract"


def engine_for(kind: str) -> str:
    """The engine's full name (``tesseract 5.3.0``, ``rapidocr 1.4.4``) for a column kind
    (``number``, ``code``, ``text``) or ``form`` (the area around the table)."""
    if kind in ("number", "code") or text_engine() == "tesseract":
        return tesseract.engine()
    return rapid.name()


def describe() -> str:
    """Every engine a page's reading uses: ``tesseract 5.3.0 + rapidocr 1.4.4``."""
    names = dict.fromkeys(engine_for(kind) for kind in ("number", "text"))
    return " + ".join(names)


def read_column(cells: list[Image.Image], kind: str) -> list[Read]:
    """A column's cells, by the engine for its kind (``header`` reads as ``text``)."""
    kind = "text" if kind == "header" else kind
    if engine_for(kind).startswith("rapidocr"):
        return rapid.read_cells(cells)
    return tesseract.read_strip(cells, kind)


def read_columns(rows: int, columns: list[tuple[list[int], list[Image.Image], str, str]]
                 ) -> list[list[Read]]:
    """A table's columns, each given as the rows it has ink in, those cells' crops, its kind
    and its header label; returns each column's reads (one per crop), in the order given.

    One call per engine and kind: pytesseract starts a process per call, and that start,
    not the reading, was most of a strip's cost (a page's four number columns: 0.6 CPU s one
    strip each, 0.2 s as one strip). A line-number column (``序号/No.``) is read in a strip
    of its own: stacked with the wide amounts, tesseract lost ``11`` on 5 of 20 clean and
    fax-fine pages, and read every one alone (bench/README.md, "OCR"). Then the rows whose
    numbers do not hold together get RapidOCR's reading too (``ingest.readers.crosscheck``).
    """
    batches: dict[str, list[int]] = {}
    for index, (_, _, kind, label) in enumerate(columns):
        key = "line number" if kind == "number" and _line_number(label) else kind
        batches.setdefault(key, []).append(index)
    found: dict[int, list[Read]] = {}
    for indexes in batches.values():
        cells = [cell for i in indexes for cell in columns[i][1]]
        reads = read_column(cells, columns[indexes[0]][2])
        start = 0
        for i in indexes:
            count = len(columns[i][1])
            found[i] = reads[start:start + count]
            start += count
    result = [found[i] for i in range(len(columns))]
    if text_engine() == "rapidocr":
        crosscheck.second_look(rows, [(filled, crops, kind) for filled, crops, kind, _ in columns],
                               result, [label for *_, label in columns], Read)
    return result


def _line_number(label: str) -> bool:
    parts = {unicodedata.normalize("NFKC", p).strip().casefold()
             for p in re.split(r"[/\n]", label) if p.strip()}
    return bool(parts & LINE_NUMBER_LABELS)


def read_form(region: Image.Image) -> list[Line]:
    """The form area's lines, by the engine for text."""
    if engine_for("form").startswith("rapidocr"):
        return rapid.read_lines(region)
    return tesseract.read_lines(region)

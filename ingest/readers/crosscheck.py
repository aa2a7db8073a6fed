"""Reading, the second stage: a second engine's look at the number cells of a table row that
does not hold together as read.

Tesseract reads a page's number columns cheaply (one strip per kind), but on fax quality
it misreads digits (``1`` as ``4``, ``57`` as ``7``). RapidOCR, on the same cells cut to
their ink and cleaned of specks, read them better but costs about 0.9 CPU s a page for all
of them, and the two were never both wrong on the same cell: measured on the 40 pages of
``bench/ocr.py`` (seed 1), number cells misread by tesseract 0/1/19/12 on L0-L3, by RapidOCR
0/0/6/2, by both 0. So a row gets the second look only when it does not hold together as
tesseract read it:

- its quantity × unit price is not its amount, or
- its line number is not the one before it plus one (the first row: 1), or
- one of its number cells is empty.

(Not on low confidence: tesseract's confidence on fax digits is often low when they are
right, and a re-read costs CPU; confidence routes badly, shared notes.)

Its number cells are then read by RapidOCR as well, and the row takes the one combination
of the two readings (and of their plain variants: ``4.418`` as ``4,418``, ``39254`` as
``392.54``) whose quantity × unit price is its amount and whose line number follows; when
no combination, or more than one, does, the row keeps tesseract's reading and the checks
(``ingest.ocr_checks``) send it to review as before. Choosing by the row's own arithmetic
cannot make a wrong row look right unless both engines misread it into another product
that still adds up, and the printed total is checked after that (``ocr-total-mismatch``).

Which column is which comes from the header labels (``ROLES``); a table without quantity,
price and amount columns gets no second look.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from PIL import Image

from ingest.readers import rapid, tesseract

ROLES: dict[str, tuple[str, ...]] = {
    "line": ("no", "no.", "#", "序号", "行号", "line", "line no."),
    "quantity": ("qty", "quantity", "数量"),
    "price": ("price", "unit price", "单价"),
    "amount": ("amount", "金额", "小计", "line total"),
}
CENTS = Decimal("0.01")
GROUPED = re.compile(r"^\d{1,3}(?:[.,]\d{3})+$")
BARE_CENTS = re.compile(r"^\d{3,}$")


def roles(labels: list[str]) -> dict[str, int]:
    """role -> column index, by the header labels (each role once)."""
    found: dict[str, int] = {}
    for index, label in enumerate(labels):
        parts = {unicodedata.normalize("NFKC", p).strip().casefold()
                 for p in re.split(r"[/\n]", label) if p.strip()}
        for role, words in ROLES.items():
            if role not in found and parts & set(words):
                found[role] = index
    return found


def number(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "")) if text else None
    except InvalidOperation:
        return None


def variants(text: str, role: str) -> list[str]:
    """The text, and what it plainly may have been: a thousands point read for a comma in
    a quantity (``4.418``), a price or amount whose decimal point was lost (``39254``)."""
    found = [text]
    if role == "quantity" and GROUPED.match(text):
        found.append(text.replace(".", ","))
    if role in ("price", "amount") and BARE_CENTS.match(text):
        found.append(f"{text[:-2]}.{text[-2:]}")
    return found


def holds(values: dict[str, str], expected_line: int | None) -> bool:
    """Whether a row's readings hold together: q × p = amount, the line number follows."""
    if expected_line is not None and values.get("line", "") != str(expected_line):
        return False
    quantity, price, amount = (number(values.get(r, "")) for r in ("quantity", "price",
                                                                      "amount"))
    if quantity is None or price is None or amount is None:
        return False
    return (quantity * price).quantize(CENTS) == amount


Make = Callable[[str, float, str], tesseract.Read]  # (text, confidence, engine) -> a read


def second_look(rows: int, columns: list[tuple[list[int], list[Image.Image], str]],
                reads: list[list[tesseract.Read]], labels: list[str], make: Make
                ) -> list[list[tesseract.Read]]:
    """``reads`` (per column, one per filled row of ``columns``: the row indexes, the cell
    crops, the kind) with the number cells of each row that does not hold together replaced
    by the one combination of both engines' readings that does. Rows are taken in order, so
    a line number settled here is what the next row's follows. Changes ``reads`` in place
    and returns it."""
    where = roles(labels)
    if not {"quantity", "price", "amount"} <= where.keys() or not rapid.usable():
        return reads
    numeric = {role: column for role, column in where.items()
               if columns[column][2] == "number"}
    # row -> role -> (position in its column's reads, crop)
    cells: list[dict[str, tuple[int, Image.Image]]] = [{} for _ in range(rows)]
    for role, column in numeric.items():
        filled, crops, _ = columns[column]
        for position, (row, crop) in enumerate(zip(filled, crops, strict=True)):
            cells[row][role] = (position, crop)
    name = rapid.name()
    previous: int | None = 0
    for row in range(rows):
        expected = previous + 1 if previous is not None and "line" in numeric else None
        here = list(cells[row])
        first = {role: reads[numeric[role]][cells[row][role][0]] for role in here}
        values = {role: read.text for role, read in first.items()}
        if here and (len(here) < len(numeric) or not holds(values, expected)):
            values = _settle(row, here, first, expected, cells, numeric, reads, make, name)
        line = number(values.get("line", ""))
        previous = int(line) if line is not None and line == line.to_integral() else None
    return reads


def _settle(row: int, here: list[str], first: dict[str, tesseract.Read],
            expected: int | None, cells: list[dict[str, tuple[int, Image.Image]]],
            numeric: dict[str, int], reads: list[list[tesseract.Read]], make: Make,
            name: str) -> dict[str, str]:
    """One row's number cells read by RapidOCR too; the one combination that holds is
    taken. Returns the row's values as they now stand."""
    second = dict(zip(here, rapid.read_cells([cells[row][role][1] for role in here]),
                      strict=True))
    other = {role: tesseract.tidy(read.text, "number") for role, read in second.items()}
    options = [sorted({*variants(first[role].text, role), *variants(other[role], role)}
                      - {""}) for role in here]
    fits = {combo for combo in itertools.product(*options)
            if holds(dict(zip(here, combo, strict=True)), expected)}
    if len(fits) != 1:
        return {role: read.text for role, read in first.items()}
    (combo,) = fits
    for role, text in zip(here, combo, strict=True):
        if text == first[role].text:
            continue
        if text in variants(other[role], role):
            read = make(text, second[role].confidence, name)
        else:  # (a plain variant of tesseract's own reading)
            read = make(text, first[role].confidence, first[role].engine)
        reads[numeric[role]][cells[row][role][0]] = read
    return dict(zip(here, combo, strict=True))

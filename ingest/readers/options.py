"""Reading, the second stage: how a reader reads an input, as a mapping or a person says.

The readers own these options; a mapping file's ``[reader]`` table is parsed into them by
``ingest.mapping.loader``, and ``--encoding`` / ``--sheet`` override them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReaderOptions:
    encoding: str = "auto"  # auto | utf-8 | utf-8-sig | gb18030 | utf-16 ... (``ENCODINGS``)
    delimiter: str = "auto"  # auto | "," | "\t" | ";" | "|"
    header_row: int | None = None  # 1-based; default: found by detection
    # regex on a row's first cell (or its first two, comma-joined) marking rows below the table
    footer: str | None = None
    sheet: str | int | None = None  # workbooks: sheet name or 0-based index; default the first
    # The table sits in a form (a purchase order: labels around it that the mapping reads):
    # a text file keeps the rows around its table and ends it as a workbook's ends (at
    # totals, notes or a blank run: ``ingest.readers.layout``), so a PO saved as CSV reads
    # like the workbook it was saved from. Set for mappings with form-label fields.
    form: bool = False

"""Reading, the second stage: how big a file's structure may be before it is read.

A hostile or broken file must not stop the nightly run: calamine sizes a sheet's grid from
its farthest cells (one value at XFD1048576 asks for 512 GiB and aborts the process), a few
MB of zip can unpack to GBs, a header can hold a million names. Each limit is checked from
the file's own structure (zip entries, the sheet XML's cell references, the header line,
line lengths) before the costly read, and a file over one is refused with the ``too-large``
file code, a reason naming the limit, the file's figure and the setting that raises it.

Defaults are far above real exports (a 1,000,000-line, 40-column sheet is 40M cells); each
is set by an environment variable, read when it is checked (so a test or a run can set it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ingest.errors import InputError


@dataclass(frozen=True)
class Limit:
    env: str  # the environment variable that sets it
    default: int
    what: str  # what is counted, for the reason ("cells in a sheet's grid")
    unit: str = ""  # shown after the numbers ("MiB"); the setting is in this unit

    def value(self) -> int:
        raw = os.environ.get(self.env, "").strip().replace("_", "")
        if not raw:
            return self.default
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{self.env}={raw!r} is not a whole number") from None
        return value if value > 0 else self.default

    def check(self, name: str, figure: int, detail: str = "", code: str = "too-large"
              ) -> None:
        """Raise the file's InputError when ``figure`` is over the limit."""
        limit = self.value()
        if figure <= limit:
            return
        unit = f" {self.unit}" if self.unit else ""
        reason = (f"{self.what}: {figure:,}{unit}{' (' + detail + ')' if detail else ''}; "
                  f"the limit is {limit:,}{unit}, checked before reading; if the file is "
                  f"genuine, raise it with {self.env}={figure}")
        raise InputError(name, reason, code=code)


MiB = 1 << 20

# Workbooks
SHEET_CELLS = Limit("ORDERMILL_MAX_SHEET_CELLS", 50_000_000,
                    "the sheet's grid of cells (rows x columns, from its first value to its "
                    "farthest) is too big", "cells")
SHEETS = Limit("ORDERMILL_MAX_SHEETS", 1_000, "the workbook has too many sheets", "sheets")
UNPACKED_MIB = Limit("ORDERMILL_MAX_UNPACKED_MB", 4_096,
                     "the workbook unpacks to too many bytes", "MiB")
ZIP_RATIO = Limit("ORDERMILL_MAX_ZIP_RATIO", 200,
                  "a part of the workbook unpacks to too many times its packed size", "x")
RATIO_GRACE = 16 * MiB  # parts smaller than this unpacked are not held to the ratio
# Text exports
COLUMNS = Limit("ORDERMILL_MAX_COLUMNS", 16_384, "a row holds too many fields", "fields")
LINE_MIB = Limit("ORDERMILL_MAX_LINE_MB", 64, "a line is too long", "MiB")


def mib(size: int) -> int:
    """Bytes in MiB, rounded up (a figure over a MiB limit is never shown as equal to it)."""
    return -(-size // MiB)

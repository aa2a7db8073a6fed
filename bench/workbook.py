"""Benchmark workbook-100k: the rejects workbook for 100,000 rejected rows of 30 columns.

    .venv/bin/python bench/workbook.py                  # 100,000 rows, 3 runs each
    .venv/bin/python bench/workbook.py --rows 20000 --runs 1

ordermill's writer (``ingest.writers.workbook.write_workbook``: the summary sheet, one
input's sheet with its cells marked, one red fill and one comment per row, the hidden
marker sheet) against the reference, measured in the same run on the same cells: a bare
openpyxl write-only dump of the same header and values (strings, no style). Each takes its
turn in a child process of its own, so peak RSS is each one's own (``wait4``). Target: at
most 3x the bare dump, memory flat.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

COLUMNS = 30


def frame(rows: int):  # type: ignore[no-untyped-def]
    """The rejected rows: source_row, codes, messages, then 30 text columns (IDs, dates,
    amounts, names, a formula-like value now and then), all strings as read."""
    import polars as pl

    i = pl.int_range(rows, eager=True)
    data = {
        "source_row": (i + 2).cast(pl.String),
        "codes": pl.Series(["invalid-money"] * rows),
        "messages": pl.Series(["unit_price: '12.345' in column c07 is not an amount of money"]
                              * rows),
    }
    for c in range(COLUMNS):
        name = f"c{c:02d}"
        if c == 0:
            data[name] = "4712" + i.cast(pl.String).str.zfill(15)
        elif c == 3:
            data[name] = pl.Series(["2024-11-12 08:00:00"] * rows)
        elif c == 7:
            data[name] = pl.Series(["12.345"] * rows)
        elif c == 9:
            data[name] = pl.Series(["+8613812345678"] * rows)
        else:
            data[name] = ("value " + i.cast(pl.String) + f" of {name}")
    return pl.DataFrame(data)


def ordermill(rows: int, path: Path) -> None:
    import polars as pl

    from ingest.writers.workbook import SheetData, write_workbook

    table = frame(rows)
    columns = [f"c{c:02d}" for c in range(COLUMNS)]
    marks = table.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("__pos"),
                         pl.lit("c07").alias("column"), pl.lit("reject").alias("kind"),
                         pl.col("messages").alias("message"))
    sheet = SheetData("/srv/drop/export.csv", "tmall", "tmall", columns, table, marks,
                      pl.Series(["reject"] * rows), rows)
    write_workbook([sheet], path, "20261206T000000Z-000000")


def bare(rows: int, path: Path) -> None:
    from openpyxl import Workbook

    table = frame(rows)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("rejects")
    sheet.append(table.columns)
    for row in table.iter_rows():
        sheet.append(row)
    book.save(path)


def child(tool: str, rows: int) -> tuple[float, float]:
    """Run one tool in a child process: (wall seconds of the write, peak RSS in MB)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        process = subprocess.Popen([sys.executable, __file__, "--child", tool,
                                    "--rows", str(rows), "--result", str(out)])
        _, status, usage = os.wait4(process.pid, 0)
        if status:
            raise SystemExit(f"{tool} failed ({status})")
        result = json.loads(out.read_text())
        return result["seconds"], usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child")
    parser.add_argument("--result")
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "rejects.xlsx"
            started = time.perf_counter()
            (ordermill if args.child == "ordermill" else bare)(args.rows, path)
            seconds = time.perf_counter() - started
        Path(args.result).write_text(json.dumps({"seconds": seconds}))
        return
    times: dict[str, list[float]] = {"ordermill": [], "bare": []}
    peaks: dict[str, list[float]] = {"ordermill": [], "bare": []}
    for _ in range(args.runs):  # (turns: drift hits both alike)
        for tool in times:
            seconds, peak = child(tool, args.rows)
            times[tool].append(seconds)
            peaks[tool].append(peak)
    median = {tool: statistics.median(t) for tool, t in times.items()}
    print(f"workbook-{args.rows:,} rows x {COLUMNS} columns, {args.runs} run(s) each")
    print("| tool | median s | runs s | peak RSS MB |")
    print("| --- | --- | --- | --- |")
    for tool, label in (("ordermill", "ordermill write_workbook"),
                        ("bare", "bare openpyxl write-only dump")):
        runs = ", ".join(f"{t:.1f}" for t in times[tool])
        print(f"| {label} | {median[tool]:.2f} | {runs} | {max(peaks[tool]):,.0f} |")
    print(f"ratio ordermill / bare: {median['ordermill'] / median['bare']:.2f} x (target 3 x)")


if __name__ == "__main__":
    main()

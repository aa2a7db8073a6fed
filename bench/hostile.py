"""Full-size hostile inputs, run by hand (minutes, gigabytes of disk): what the small ones in
tests/test_hostile_run.py stand for. Each is ingested alone; the exit code, the time and the
peak memory are printed as a table (README, "Hostile inputs at full size").

    .venv/bin/python bench/hostile.py [--keep DIR] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the minimal workbook writer of the tests
from test_hostile_readers import HEADER, _row, workbook  # noqa: E402

ORDERMILL = str(Path(sys.executable).parent / "ordermill")
SHOPIFY = HERE.parent / "samples" / "shopify" / "orders_export_1.csv"


def far_cell(path: Path) -> None:
    workbook(path, _row(1, list(zip("ABCDEFG", HEADER, strict=True)))
             + _row(1048576, [("XFD", "x")]))


def spaces_bomb(path: Path, gib: int = 3) -> None:
    """A sheet of ``gib`` GiB of spaces, a few MB zipped (written a MiB at a time)."""
    workbook(path, _row(1, list(zip("ABCDEFG", HEADER, strict=True))))
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive, archive.open(
            "xl/worksheets/sheet2.xml", "w", force_zip64=True) as sheet:
        block = b" " * (1 << 20)
        for _ in range(gib << 10):
            sheet.write(block)


def spaces_in_the_sheet(path: Path, gib: int = 3) -> None:
    """The first sheet itself: its header row, then ``gib`` GiB of spaces inside it."""
    plain = path.with_suffix(".plain.xlsx")
    workbook(plain, _row(1, list(zip("ABCDEFG", HEADER, strict=True))))
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(
            path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                archive.writestr(info, source.read(info))
                continue
            text = source.read(info)
            cut = text.index(b"</sheetData>")
            with archive.open(info.filename, "w", force_zip64=True) as sheet:
                sheet.write(text[:cut])
                block = b" " * (1 << 20)
                for _ in range(gib << 10):
                    sheet.write(block)
                sheet.write(text[cut:])
    plain.unlink()


def many_sheets(path: Path) -> None:
    workbook(path, _row(1, list(zip("ABCDEFG", HEADER, strict=True))), sheets=10_000)


def wide_header(path: Path) -> None:
    path.write_text(",".join(f"c{i}" for i in range(1_000_000)) + "\n1,2\n", encoding="utf-8")


def long_cell(path: Path, mib: int = 512) -> None:
    with path.open("wb") as out:
        out.write(SHOPIFY.read_bytes().splitlines()[0] + b"\n#1001,")
        block = b"x" * (1 << 20)
        for _ in range(mib):
            out.write(block)
        out.write(b"\n")


def mac_csv(path: Path, copies: int = 20_000) -> None:
    lines = SHOPIFY.read_bytes().replace(b"\r\n", b"\n").split(b"\n")
    body = b"\r".join(lines[1:]).strip(b"\r")
    with path.open("wb") as out:
        out.write(lines[0] + b"\r")
        for _ in range(copies // max(len(lines) - 1, 1)):
            out.write(body + b"\r")


Kind = tuple[str, Callable[[Path], None], dict[str, str]]
LIFTED = str(1 << 40)
KINDS: dict[str, Kind] = {
    "far-cell.xlsx": ("one value at XFD1048576", far_cell, {}),
    "bomb.xlsx": ("a sheet of 3 GiB of spaces, zipped", spaces_bomb, {}),
    "sheets.xlsx": ("10,000 sheets", many_sheets, {}),
    "wide.csv": ("a header of 1,000,000 names", wide_header, {}),
    "long.csv": ("one cell of 512 MiB", long_cell, {}),
    "mac.csv": ("Mac Excel CSV, CR line ends, 20,000 lines", mac_csv, {}),
    # The same shapes with the up-front limits lifted: only the parser's child process
    # stands between them and the run.
    "far-cell-unchecked.xlsx": ("one value at XFD1048576, grid limit lifted", far_cell,
                                {"ORDERMILL_MAX_SHEET_CELLS": LIFTED}),
    "bomb-unchecked.xlsx": ("3 GiB of spaces in the sheet, zip limits lifted, 20 s allowed",
                            spaces_in_the_sheet,
                            {"ORDERMILL_MAX_ZIP_RATIO": LIFTED,
                             "ORDERMILL_MAX_UNPACKED_MB": LIFTED,
                             "ORDERMILL_READ_SECONDS": "20"}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, help="make the files here and keep them")
    parser.add_argument("--only", nargs="+", choices=sorted(KINDS), help="these inputs only")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="ordermill-hostile-"))
    folder.mkdir(parents=True, exist_ok=True)
    print("| input | what | exit | seconds | peak RSS MB | first line of stderr |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, (what, make, env) in KINDS.items():
        if args.only and name not in args.only:
            continue
        path = folder / name
        if not path.exists():
            make(path)
        started = time.monotonic()
        child = subprocess.Popen(
            [ORDERMILL, "ingest", str(path), "--out", str(folder / "out"), "--state-dir",
             str(folder / "state"), "--force"], stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, env={**os.environ, **env})
        try:
            _, stderr = child.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            child.kill()
            _, stderr = child.communicate()
            stderr = "timed out after 600 s\n" + stderr
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds = time.monotonic() - started
        first = (stderr.strip().splitlines() or [""])[0][:120].replace("|", "/")
        print(f"| {name} | {what} | {child.returncode} | {seconds:.1f} | "
              f"{usage.ru_maxrss // 1024:,} (max so far) | {first} |", flush=True)
        if args.keep is None:
            path.unlink()
    if args.keep is None:
        os.system(f"rm -rf {folder}")


if __name__ == "__main__":
    main()

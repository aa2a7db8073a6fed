"""Damaged and hostile workbooks, each built here as real bytes: a clear result with the
README's exit code and no traceback, in bounded time and memory."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
from conftest import run_cli

from ingest.api import ingest
from ingest.readers import cfb

FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE2 compound file (CFB v3, 512-byte sectors): one FAT sector, one
    directory sector, each stream padded to 4096 bytes so no mini stream is needed."""
    assert len(streams) <= 3
    data_sectors: list[bytes] = []
    entries = [_entry("Root Entry", 5, child=1, start=END, size=0)]
    fat = [FATSECT, END]
    for index, (name, payload) in enumerate(streams.items(), start=1):
        body = payload.ljust(max(4096, -(-len(payload) // 512) * 512), b"\0")
        start = 2 + len(data_sectors)
        count = len(body) // 512
        fat += [start + i + 1 for i in range(count - 1)] + [END]
        data_sectors += [body[i * 512:(i + 1) * 512] for i in range(count)]
        right = index + 1 if index < len(streams) else NOSTREAM
        entries.append(_entry(name, 2, right=right, start=start, size=len(payload)))
    directory = b"".join(entries).ljust(512, b"\0")
    fat_sector = struct.pack(f"<{len(fat)}I", *fat).ljust(512, b"\xff")
    header = bytearray(512)
    header[:8] = cfb.MAGIC
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, 1, 0, 4096, END, 0, END, 0)
    struct.pack_into("<109I", header, 76, 0, *([FREE] * 108))
    return bytes(header) + fat_sector + directory + b"".join(data_sectors)


def _entry(name: str, kind: int, left: int = NOSTREAM, right: int = NOSTREAM,
           child: int = NOSTREAM, start: int = END, size: int = 0) -> bytes:
    encoded = name.encode("utf-16-le") + b"\0\0"
    return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", left, right, child) + b"\0" * 16 + b"\0" * 4 + b"\0" * 16
            + struct.pack("<IQ", start, size))


def unreadable(tmp_path: Path, source: Path) -> dict[str, str]:
    report = ingest([source], tmp_path / "out")
    assert report.manifest is not None and report.manifest["totals"]["unreadable"] == 1
    entry: dict[str, str] = report.manifest["unreadable"][0]
    return entry


def test_password_protected_workbook_is_named_as_such(tmp_path: Path) -> None:
    info = struct.pack("<HHI", 4, 4, 0x40) + b"<encryption/>"  # agile encryption header
    data = compound_file({"EncryptionInfo": info, "EncryptedPackage": b"\x10" * 5000})
    for name in ("locked.xlsx", "locked.xls"):  # not mistaken for a broken .xls either
        source = tmp_path / name
        source.write_bytes(data)
        assert cfb.kind(source.read_bytes()) == "encrypted"
        entry = unreadable(tmp_path / name.replace(".", "-"), source)
        assert entry["code"] == "encrypted-workbook"
        assert "password-protected" in entry["reason"]
    result = run_cli("ingest", str(tmp_path / "locked.xlsx"), "--out", str(tmp_path / "cli"))
    assert result.returncode == 3
    assert "password-protected" in result.stderr and "Traceback" not in result.stderr


def test_legacy_xls_with_an_xlsx_name_is_told_to_be_renamed(tmp_path: Path) -> None:
    source = tmp_path / "old.xlsx"
    source.write_bytes(compound_file({"Workbook": b"\x09\x08" + b"\0" * 100}))
    entry = unreadable(tmp_path, source)
    assert entry["code"] == "unreadable-workbook" and "rename it to .xls" in entry["reason"]


def test_truncated_xlsx_is_a_damaged_zip(tmp_path: Path) -> None:
    whole = tmp_path / "whole.xlsx"
    workbook = openpyxl.Workbook()
    for row in range(200):
        workbook.active.append([f"line {row}", row, "x" * 40])
    workbook.save(whole)
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    entry = unreadable(tmp_path, cut)
    assert entry["code"] == "unreadable-workbook"
    assert "truncated or corrupt zip" in entry["reason"]
    result = run_cli("ingest", str(cut), "--out", str(tmp_path / "cli"))
    assert result.returncode == 3 and "Traceback" not in result.stderr


def test_sheet_without_a_recognisable_table(tmp_path: Path) -> None:
    source = tmp_path / "letter.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active["B2"] = "Dear supplier, please call us about next month's order."
    workbook.create_sheet("empty")
    workbook.save(source)
    entry = unreadable(tmp_path, source)
    assert entry["code"] == "unknown-channel"
    assert "no mapping recognises this file" in entry["reason"]
    empty = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(empty)
    entry = unreadable(tmp_path / "e", empty)
    assert entry["code"] == "unknown-channel" and "holds no table" in entry["reason"]
    result = run_cli("ingest", str(source), "--out", str(tmp_path / "cli"))
    assert result.returncode == 3 and "Traceback" not in result.stderr


HEADER = ["Name", "Financial Status", "Lineitem quantity", "Lineitem name", "Lineitem price",
          "Created at", "Currency"]
LINE = ["#1001", "paid", 2, "Tea", 5, "2024-03-05 14:22:10 -0500", "USD"]


def styled_to_the_bottom(tmp_path: Path, empty_cells: bool) -> Path:
    """A small table in a sheet formatted down to Excel's last row: a million styled rows
    (optionally with styled empty cells) and a dimension of A1:Z1048576."""
    small = tmp_path / "small.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER)
    workbook.active.append(LINE)
    workbook.save(small)
    if empty_cells:
        rows = b"".join(b'<row r="%d" s="1" customFormat="1"><c r="A%d" s="1"/>'
                        b'<c r="Z%d" s="1"/></row>' % (n, n, n) for n in range(3, 1048577))
    else:
        rows = b"".join(b'<row r="%d" s="1" customFormat="1"/>' % n
                        for n in range(3, 1048577))
    target = tmp_path / ("cells.xlsx" if empty_cells else "rows.xlsx")
    with zipfile.ZipFile(small) as source, zipfile.ZipFile(target, "w",
                                                            zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", rows + b"</sheetData>")
                data = data.replace(b'<dimension ref="A1:G2"', b'<dimension ref="A1:Z1048576"')
            out.writestr(info, data)
    return target


def test_a_million_empty_styled_rows_read_as_the_small_table(tmp_path: Path) -> None:
    for empty_cells in (False, True):
        source = styled_to_the_bottom(tmp_path, empty_cells)
        report = ingest([source], tmp_path / f"out{empty_cells}",
                        state_dir=tmp_path / f"state{empty_cells}")
        assert report.manifest is not None
        entry = report.manifest["inputs"][0]
        assert (entry["rows_in"], entry["clean"], entry["rejected"]) == (1, 1, 0)
        assert int(report.exit_code) == 0


def test_a_sheet_16384_columns_wide(tmp_path: Path) -> None:
    source = tmp_path / "wide.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(LINE)
    sheet.append([*LINE[:1], "paid", 1, "Cup", 3, LINE[5], "USD"])
    sheet["A3"] = "#1002"
    sheet["XFD3"] = "stray value in the last column Excel has"
    workbook.save(source)
    report = ingest([source], tmp_path / "out")
    assert report.manifest is not None and report.batch_dir is not None
    entry = report.manifest["inputs"][0]
    assert (entry["rows_in"], entry["clean"], entry["rejected"]) == (2, 1, 1)
    rejects = pl.read_csv(report.batch_dir / "rejects.csv", infer_schema=False)
    assert rejects["codes"].to_list() == ["too-many-fields"]
    # A header 16,384 columns wide: read, recognised by its signature, extra names unused.
    sheet["XFD1"] = "Last column"
    workbook.save(source)
    report = ingest([source], tmp_path / "out2", force=True)
    assert report.manifest is not None
    assert report.manifest["inputs"][0]["rows_in"] == 2

"""The nightly run against a folder of hostile inputs, as cron runs it: whatever arrives, the
run ends with a documented exit code and no traceback, in bounded time and memory, every
input is accounted for (read, quarantined with its reason, or left for the next run), no
written cell can run as a formula, and nothing is written outside the run's folders.

Small versions of each kind, so the suite runs in CI; ``bench/hostile.py`` makes the
full-size bombs (run by hand)."""

from __future__ import annotations

import codecs
import json
import os
import random
import resource
import shutil
import subprocess
import time
from pathlib import Path

import polars as pl
from conftest import ORDERMILL, SAMPLES
from test_hostile_readers import HEADER, _row, workbook

from ingest.codes import ExitCode
from ingest.writers.formats import FORMULA_START

PAYLOADS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0",
            "=HYPERLINK(\"http://x\")", "'=1+1", "＝1+1"]
SHOPIFY = SAMPLES / "shopify" / "orders_export_1.csv"


def hostile_folder(drop: Path) -> dict[str, str]:
    """Write the hostile inputs into ``drop``; name -> what it is."""
    kinds: dict[str, str] = {}

    def put(name: str | bytes, data: bytes, what: str) -> None:
        path = drop / os.fsdecode(name) if isinstance(name, str) else Path(
            os.fsdecode(os.path.join(os.fsencode(drop), name)))
        path.write_bytes(data)
        kinds[os.fsdecode(name)] = what

    good = SHOPIFY.read_bytes()
    text = good.decode("utf-8")
    put("empty.csv", b"", "empty")
    put("spaces.csv", b"   \n\n  \n", "blank")
    put("nul.csv", good[:400] + b"\x00\x00" + good[400:], "NUL bytes")
    put("utf16.csv", codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "UTF-16 LE with BOM")
    put("utf32.csv", codecs.BOM_UTF32_BE + text.encode("utf-32-be"), "UTF-32 BE with BOM")
    put("bom-twice.csv", codecs.BOM_UTF8 * 2 + good, "two BOMs")
    put("broken-gb18030.csv", "订单编号,买家会员名\n".encode("gb18030")[:-3] + b"\x81\x30\xff\n",
        "broken GB18030")
    put("truncated.csv", good[: len(good) * 2 // 3], "cut in the middle of a row")
    put("deep-quotes.csv", good.replace(b"\n", b'"' * 50 + b"\n", 3), "runs of quotes")
    put("cr-ends.csv", good.replace(b"\r\n", b"\n").replace(b"\n", b"\r"), "CR line ends")
    put("binary.csv", bytes(random.Random(7).randrange(256) for _ in range(4096)), "noise")
    sample = pl.read_csv(SHOPIFY, infer_schema=False)
    cycle = [PAYLOADS[i % len(PAYLOADS)] for i in range(sample.height)]
    poisoned = sample.with_columns(
        pl.when(pl.col(name).is_not_null()).then(pl.Series(cycle)).alias(name)
        for name in ("Lineitem name", "Lineitem sku", "Shipping Name"))
    put("formulas.csv", poisoned.write_csv().encode("utf-8"), "formula payloads")
    put(b"caf\xe9-latin1.csv", good, "a name that is not UTF-8")
    for cut in (50, 333, 1500):
        put(f"mutant-{cut}.csv", good[:cut], f"the sample cut at byte {cut}")
    workbook(drop / "far-cell.xlsx", _row(1, list(zip("ABCDEFG", HEADER, strict=True)))
             + _row(1048576, [("XFD", "x")]))
    kinds["far-cell.xlsx"] = "a value at XFD1048576"
    workbook(drop / "bomb.xlsx", "", sheet_xml=b'<?xml version="1.0"?><worksheet>'
             + b" " * (32 << 20) + b"</worksheet>")
    kinds["bomb.xlsx"] = "a sheet unpacking 32 MiB of spaces from 32 KiB"
    (drop / "not-a-zip.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    kinds["not-a-zip.xlsx"] = "a damaged zip"
    os.mkfifo(drop / "pipe.csv")
    kinds["pipe.csv"] = "a named pipe"
    os.mkfifo(drop / "pipe.eml")
    kinds["pipe.eml"] = "a named pipe under a mail's name"
    shutil.copy(SHOPIFY, drop / "good.csv")
    kinds["good.csv"] = "a good export"
    return kinds


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def test_a_folder_of_hostile_inputs_never_stops_the_nightly_run(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "drop").mkdir(parents=True)
    kinds = hostile_folder(work / "drop")
    config = work / "ordermill.toml"
    config.write_text('out_dir = "out"\nstate_dir = "state"\narchive_dir = "archive"\n'
                      'quarantine_dir = "quarantine"\n\n[[sources]]\nname = "drop"\n'
                      'path = "drop"\nchannel = "shopify"\n', encoding="utf-8")
    outside = files_under(tmp_path) - files_under(work)
    started = time.monotonic()
    # Bounded memory: the run may not take more than 4 GiB of address space.
    limit = 4 << 30
    result = subprocess.run(
        [str(ORDERMILL), "run", "--config", str(config), "--json"], cwd=work,
        capture_output=True, text=True, timeout=180, check=False,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)),
        env={k: v for k, v in os.environ.items() if not k.startswith("ORDERMILL_")})
    took = time.monotonic() - started
    assert result.returncode == ExitCode.UNREADABLE, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert took < 120
    body = json.loads(result.stdout)
    manifest = json.loads((Path(body["batch_dir"]) / "manifest.json").read_text("utf-8"))
    # Every input accounted for: read (rows in = clean + rejected + duplicates), or named
    # as unreadable with a catalogued code.
    read = {Path(i["path"]).name: i for i in manifest["inputs"]}
    unreadable = {Path(u["path"]).name: u["code"] for u in manifest["unreadable"]}
    skipped = {Path(s["path"]).name for s in body["skipped"]}  # the same bytes twice
    shown = {n.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
             for n in kinds}
    assert set(read) | set(unreadable) | skipped == shown, (read.keys(), unreadable, skipped)
    assert len(skipped) == 1 and not set(read) & set(unreadable)
    for entry in read.values():
        assert entry["rows_in"] == entry["clean"] + entry["rejected"] + entry["duplicates"]
    assert unreadable["far-cell.xlsx"] == "too-large"
    assert unreadable["bomb.xlsx"] == "workbook-bomb"
    assert unreadable["empty.csv"] == "empty-file"
    assert unreadable["pipe.csv"] == "not-a-file"  # named, never opened
    assert unreadable["pipe.eml"] == "not-a-file"
    assert read["formulas.csv"]["rows_in"] > 0 and read["formulas.csv"]["clean"] > 0
    # (the sample's lines, read through every wide encoding; output once, so duplicates)
    assert read["utf16.csv"]["rows_in"] == read["utf32.csv"]["rows_in"] == 14
    # No written cell runs as a formula.
    for name in ("orders.csv", "rejects.csv"):
        frame = pl.read_csv(Path(body["batch_dir"]) / name, infer_schema=False,
                            truncate_ragged_lines=True)
        for column in frame.columns:
            assert not frame[column].str.contains(f"^{FORMULA_START}").any(), (name, column)
    # Nothing outside the run's folders; the drop folder emptied into archive and quarantine
    # (the named pipe stays, named each night: moving it to another file system would read
    # it).
    assert files_under(tmp_path) - files_under(work) == outside
    assert {p.name for p in (work / "drop").iterdir()} <= {"pipe.csv", "pipe.eml"}
    quarantined = {p.name for p in (work / "quarantine" / "drop").iterdir()}
    assert "far-cell.xlsx" in quarantined and "far-cell.xlsx.reason.txt" in quarantined

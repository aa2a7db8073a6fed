"""Each input is isolated: the workbook parser runs in a child process with memory and time
limits, so a native abort or a hang takes only that input; and every reader hashes exactly
the bytes it parses, so what the ledger records is what was ingested."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import openpyxl
import pytest
from conftest import MAPPINGS, ROOT
from test_hostile_readers import TABLE, _row, workbook

from ingest.api import ingest
from ingest.errors import InputError
from ingest.inputs import Input
from ingest.mapping.loader import load_mappings
from ingest.readers import isolated, open_document
from ingest.readers import xlsx as xlsx_module
from ingest.reading import read_input

ACME = ROOT / "samples" / "po" / "acme-PO-4500012345.xlsx"
SHOPIFY = ROOT / "samples" / "shopify" / "orders_export_1.csv"
TMALL = ROOT / "tests" / "fixtures" / "tmall-combined.csv"


def stray_workbook(folder: Path) -> Path:
    """One value at XFD1048576: calamine sizes its grid from it (512 GiB)."""
    return workbook(folder / "stray.xlsx", TABLE + _row(1048576, [("XFD", "x")]))


def test_a_parser_abort_takes_only_its_input(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # The up-front check is lifted, so only the child's memory limit stands between the
    # stray cell and the process: calamine aborts in the child, not in the run.
    monkeypatch.setenv("ORDERMILL_MAX_SHEET_CELLS", str(1 << 40))
    monkeypatch.setenv("ORDERMILL_READ_MEMORY_MB", "1024")
    drop = tmp_path / "drop"
    drop.mkdir()
    stray = stray_workbook(drop)
    acme = Path(shutil.copy(ACME, drop / "a-po.xlsx"))  # read after the crash: a new child
    report = ingest([stray, acme, SHOPIFY], tmp_path / "out", state_dir=tmp_path / "state")
    assert [(e["path"], e["code"]) for e in report.unreadable] == [(str(stray),
                                                                    "reader-crashed")]
    reason = report.unreadable[0]["reason"]
    assert "SIGABRT" in reason and "memory allocation of" in reason
    assert "ORDERMILL_READ_MEMORY_MB" in reason and "1,024 MiB" in reason
    assert report.manifest is not None
    read = {entry["path"]: entry for entry in report.manifest["inputs"]}
    assert read[str(acme)]["clean"] > 0 and read[str(SHOPIFY)]["clean"] > 0


def test_a_parser_that_overruns_its_time_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    # A hang, as the child sees it: a call that does not come back within the time allowed.
    monkeypatch.setenv("ORDERMILL_READ_SECONDS", "1")
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        isolated.call("hang.xlsx", time.sleep, 60)
    assert time.monotonic() - started < 10
    assert caught.value.code == "read-timeout" and caught.value.path == "hang.xlsx"
    assert "1 s" in caught.value.reason and "ORDERMILL_READ_SECONDS" in caught.value.reason
    # The stopped child is replaced: the next workbook reads.
    with open_document(Input.from_path(ACME)) as doc:
        assert doc.sheets()


def test_an_error_in_the_child_comes_back_as_words() -> None:
    with pytest.raises(isolated.Failure, match="ValueError: invalid literal"):
        isolated.call("x.xlsx", int, "not a number")


def test_the_childs_memory_limit_is_never_above_the_runs_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERMILL_READ_MEMORY_MB", "3000")
    assert isolated.READ_MEMORY_MIB.value() == 3000
    monkeypatch.delenv("ORDERMILL_READ_MEMORY_MB")
    assert isolated.READ_MEMORY_MIB.value() >= 2048  # half the machine, at least 2 GiB


@pytest.mark.parametrize("chunk_bytes", [None, 4096], ids=["whole", "in-pieces"])
@pytest.mark.parametrize("sample", [SHOPIFY, TMALL, ACME], ids=["utf8", "gb18030", "xlsx"])
def test_the_digest_is_of_the_bytes_read(sample: Path, chunk_bytes: int | None) -> None:
    result = read_input(Input.from_path(sample), load_mappings(MAPPINGS),
                        chunk_bytes=chunk_bytes)
    data = sample.read_bytes()
    assert (result.sha256, result.size) == (hashlib.sha256(data).hexdigest(), len(data))
    if chunk_bytes and sample.suffix == ".csv":
        assert result.in_pieces  # (the hashing handle, not the whole-file path)
    result.cleanup()


def test_bytes_hashed_before_the_read_must_be_the_bytes_read(tmp_path: Path) -> None:
    # Hashed when it was listed (a file of a size ingested before is hashed to tell), then
    # rewritten in place before its read with its size and times put back: only the bytes
    # themselves tell, and the input is left for the next run.
    path = Path(shutil.copy(SHOPIFY, tmp_path / "orders.csv"))
    listed = Input.from_path(path)
    before = listed.sha256()
    times = path.stat()
    data = path.read_bytes()
    with path.open("r+b") as handle:  # (same inode)
        handle.write(data.replace(b"#1001", b"#9001", 1))
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert listed.fingerprint() == (times.st_size, times.st_mtime_ns, times.st_ino,
                                    times.st_dev)
    with pytest.raises(InputError) as caught:
        read_input(listed, load_mappings(MAPPINGS), digest=before)
    assert caught.value.code == "changed-during-run"
    assert read_input(listed, load_mappings(MAPPINGS), digest=listed.sha256()).rows_in > 0


def test_workbooks_read_ahead_read_as_in_turn(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # While one input is worked on, the parser's process reads the next small workbooks:
    # the batch is the one reading them in turn gives.
    drop = tmp_path / "drop"
    drop.mkdir()
    for n in range(4):
        acme_po(drop / f"po-{n}.xlsx", f"450001234{n}")
    shutil.copy(SHOPIFY, drop / "shop.csv")
    sent: list[str] = []
    real = isolated.ahead

    def counted(name: str, *args: object) -> object:
        ticket = real(name, *args)  # type: ignore[arg-type]
        if ticket is not None:
            sent.append(Path(name).name)
        return ticket

    monkeypatch.setattr(isolated, "ahead", counted)
    ahead = ingest([drop], tmp_path / "ahead", state_dir=tmp_path / "s1")
    assert len(sent) >= 3  # (the first workbook is read ahead of its own turn too)
    monkeypatch.setattr(xlsx_module, "read_ahead", lambda inputs: None)
    in_turn = ingest([drop], tmp_path / "in-turn", state_dir=tmp_path / "s2")
    assert ahead.manifest is not None and in_turn.manifest is not None
    assert ahead.manifest["inputs"] == in_turn.manifest["inputs"]
    assert ahead.batch_dir is not None and in_turn.batch_dir is not None
    ours = (ahead.batch_dir / "orders.csv").read_text(encoding="utf-8")
    theirs = (in_turn.batch_dir / "orders.csv").read_text(encoding="utf-8")
    assert ours.replace(ahead.batch_dir.name, "B") == theirs.replace(in_turn.batch_dir.name, "B")


def test_a_workbook_changed_after_it_was_read_ahead_is_read_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "po.xlsx"
    shutil.copy(ACME, path)
    one = Input.from_path(path)
    xlsx_module.read_ahead([one])
    acme_po(path, "4500099999")  # (a new size or time: the bytes read ahead are not used)
    read = read_input(one, load_mappings(MAPPINGS))
    assert read.details["form"]["order_id"] == "4500099999"  # type: ignore[index]
    assert read.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def acme_po(target: Path, number: str) -> Path:
    """The ACME sample with another PO number (saved by openpyxl: its Amount formulas
    without values, the same in every copy)."""
    book = openpyxl.load_workbook(ACME)
    book.active["B6"] = number  # type: ignore[index]
    book.save(target)
    return target

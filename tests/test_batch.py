"""Batch publishing: formats keep money exact, the batch appears whole or not at all."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from conftest import SAMPLES

from ingest.api import ingest
from ingest.errors import EnvironmentFailure, UsageError
from ingest.schema import SCHEMA_VERSION
from ingest.writers import batch

TMALL = SAMPLES.parent / "tests" / "fixtures" / "tmall-combined.csv"


def test_parquet_keeps_decimal_and_utc_datetime_types(tmp_path: Path) -> None:
    report = ingest([TMALL], tmp_path / "out", output_format="parquet")
    orders = pl.read_parquet(report.batch_dir / "orders.parquet")
    assert orders.schema["unit_price"] == pl.Decimal(18, 2)
    assert orders.schema["line_total"] == pl.Decimal(18, 2)
    assert orders.schema["ordered_at"] == pl.Datetime("us", "UTC")
    assert orders.schema["order_id"] == pl.String
    first = orders.row(0, named=True)
    assert first["unit_price"] == Decimal("1299.00")
    assert first["order_id"] == "3712345678901234567"


def test_ndjson_writes_money_as_strings_and_instants_in_utc(tmp_path: Path) -> None:
    report = ingest([TMALL], tmp_path / "out", output_format="ndjson")
    lines = (report.batch_dir / "orders.ndjson").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert first["unit_price"] == "1299.00"
    assert first["ordered_at"] == "2024-11-10T16:01:02Z"
    assert first["order_id"] == "3712345678901234567"


def test_manifest_counts_and_hashes_every_output(tmp_path: Path) -> None:
    report = ingest([TMALL], tmp_path / "out")
    assert report.batch_dir is not None
    manifest = json.loads((report.batch_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["batch_id"] == report.batch_dir.name
    (entry,) = manifest["inputs"]
    assert len(entry["sha256"]) == 64 and entry["channel"] == "tmall"
    assert entry["rows_in"] == entry["clean"] + entry["rejected"] + entry["duplicates"] == 14
    outputs = {o["file"]: o for o in manifest["outputs"]}
    # (the masked phone 138****6666 is a warning: its line is clean, the phone left empty)
    assert outputs["orders.csv"]["rows"] == 8 and outputs["rejects.csv"]["rows"] == 6
    assert outputs["warnings.csv"]["rows"] == entry["warnings"] == 1
    import hashlib
    for name, output in outputs.items():
        data = (report.batch_dir / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == output["sha256"]


def test_rejects_open_in_excel_utf8_with_bom(tmp_path: Path) -> None:
    report = ingest([TMALL], tmp_path / "out")
    raw = (report.batch_dir / "rejects.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw[3:].decode("utf-8").splitlines()[0].split(",")
    assert header[:5] == ["source", "source_row", "channel", "codes", "messages"]
    assert "订单编号" in header  # then the row's raw source values


def test_a_failed_write_leaves_no_batch_and_no_staging(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_rejects_writer(frame: pl.DataFrame, path: Path) -> None:
        path.write_text("half", encoding="utf-8")
        raise OSError("disk full")

    working_writer = batch.write_rejects
    monkeypatch.setattr(batch, "write_rejects", broken_rejects_writer)
    # (a write the machine refuses is an environment failure naming the folder: exit 74)
    with pytest.raises(EnvironmentFailure, match=r"cannot write to .*out: disk full"):
        ingest([TMALL], tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []
    # Nothing reached the ledger either: the same file is ingested in full next time.
    monkeypatch.setattr(batch, "write_rejects", working_writer)
    again = ingest([TMALL], tmp_path / "out")
    assert again.manifest is not None and again.manifest["totals"]["clean"] == 8


def test_batches_never_overwrite_each_other(tmp_path: Path) -> None:
    first = ingest([TMALL], tmp_path / "out")
    second = ingest([TMALL], tmp_path / "out", force=True)
    assert first.batch_dir != second.batch_dir
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [first.batch_id, second.batch_id])


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown output format 'xml'"):
        ingest([TMALL], tmp_path / "out", output_format="xml")

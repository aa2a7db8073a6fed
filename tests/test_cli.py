"""Every exit code and every user-facing error, through the installed console script."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import MAPPINGS, ROOT, SAMPLES, run_cli

TMALL = SAMPLES.parent / "tests" / "fixtures" / "tmall-combined.csv"
SHOPIFY = SAMPLES / "shopify" / "orders_export_1.csv"


def no_traceback(stderr: str) -> bool:
    return "Traceback" not in stderr


def clean_shopify_file(tmp_path: Path) -> Path:
    """The Shopify sample cut to its first five orders, which are all good."""
    lines = SHOPIFY.read_text(encoding="utf-8").splitlines(keepends=True)
    # Lines 1-9 hold the header and orders #1001-#1005 (one quoted note spans two lines).
    good = tmp_path / "good.csv"
    good.write_text("".join(lines[:10]), encoding="utf-8")
    return good


def test_exit_0_when_every_row_is_clean(tmp_path: Path) -> None:
    result = run_cli("ingest", str(clean_shopify_file(tmp_path)), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "8 lines: 8 clean, 0 rejected ->" in result.stderr


def test_exit_1_when_rows_are_rejected_with_one_line_summary(tmp_path: Path) -> None:
    result = run_cli("ingest", str(SAMPLES), "--out", str(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    # (248 = 142 + 89 + 6 waiting + 11 order rows joined into their items' lines: both
    # Tmall pairs, 2016-2019 and 2021+, in one run; the two mailed POs' parts are inputs;
    # the faxed PO's 6 lines go to review: no product list is configured)
    assert lines[0].startswith("28 files, 248 lines: 142 clean (30 warnings), 89 rejected, "
                               "6 waiting, 11 order rows joined -> ")
    batch = Path(lines[0].split(" -> ")[1])
    assert (batch / "orders.csv").is_file() and (batch / "manifest.json").is_file()


def test_json_prints_the_manifest_on_stdout(tmp_path: Path) -> None:
    result = run_cli("ingest", str(TMALL), "--out", str(tmp_path), "--json")
    body = json.loads(result.stdout)
    assert body["manifest"]["totals"] == {"files": 1, "unreadable": 0, "rows_in": 14,
                                          "clean": 8, "rejected": 6, "duplicates": 0,
                                          "updates": 0, "waiting": 0, "warnings": 1}
    assert body["exit_code"] == 1 and body["batch_dir"].endswith(body["batch_id"])
    assert result.stderr == ""


def test_exit_2_for_a_bad_option(tmp_path: Path) -> None:
    result = run_cli("ingest", str(TMALL), "--out", str(tmp_path), "--format", "xml")
    assert result.returncode == 2
    assert "xml" in result.stderr and no_traceback(result.stderr)


def test_exit_2_for_an_unknown_channel(tmp_path: Path) -> None:
    result = run_cli("ingest", str(TMALL), "--out", str(tmp_path), "--channel", "etsy")
    assert result.returncode == 2
    assert "unknown channel or mapping 'etsy'; known: " in result.stderr
    assert "shopify, tmall" in result.stderr


def test_exit_2_for_a_broken_mapping_names_file_key_and_suggests(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, mappings)
    broken = mappings / "tmall.toml"
    broken.write_text(broken.read_text(encoding="utf-8").replace(
        'order_id = "订单编号"', 'oder_id = "订单编号"'), encoding="utf-8")
    result = run_cli("ingest", str(TMALL), "--out", str(tmp_path / "out"),
                     "--mappings", str(mappings))
    assert result.returncode == 2
    assert f"{broken}: fields.oder_id: is not a field of the standard schema " \
           "(did you mean 'order_id'?)" in result.stderr
    assert no_traceback(result.stderr)
    assert not (tmp_path / "out").exists()


def test_exit_2_for_invalid_toml(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "x.toml").write_text("channel = \n", encoding="utf-8")
    result = run_cli("ingest", str(TMALL), "--out", str(tmp_path / "o"), "--mappings",
                     str(mappings))
    assert result.returncode == 2
    assert "x.toml: is not valid TOML" in result.stderr


def test_exit_3_for_an_unrecognised_file_shows_header_and_nearest(tmp_path: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("订单编号,买家会员名,金额\n1,a,2\n", encoding="utf-8")
    result = run_cli("ingest", str(odd), str(TMALL), "--out", str(tmp_path / "out"))
    assert result.returncode == 3
    assert "no mapping recognises this file; its header reads: 订单编号, 买家会员名, 金额" \
        in result.stderr
    assert "nearest: tmall (2 of 5 signature columns; missing: 订单状态, 宝贝标题, 购买数量)" \
        in result.stderr
    # The other input was still processed.
    assert "2 files, 14 lines: 8 clean (1 warning), 6 rejected, 1 unreadable" in result.stderr


def test_exit_3_for_each_unreadable_kind(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"PK\x03\x04\x00\x00\x00binary")
    not_xlsx = tmp_path / "fake.xlsx"
    not_xlsx.write_text("not a workbook", encoding="utf-8")
    unknown = tmp_path / "notes.docx"
    unknown.write_bytes(b"PK\x03\x04")
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4")
    missing = tmp_path / "missing.csv"
    out = tmp_path / "out"
    result = run_cli("ingest", *map(str, [empty, binary, not_xlsx, unknown, scan, missing]),
                     "--out", str(out), "--json")
    assert result.returncode == 3
    assert no_traceback(result.stderr)
    manifest = json.loads(result.stdout)["manifest"]
    reasons = {Path(u["path"]).name: u["code"] for u in manifest["unreadable"]}
    assert reasons == {"empty.csv": "empty-file", "binary.csv": "binary-file",
                       "fake.xlsx": "unreadable-workbook", "notes.docx": "unsupported-format",
                       "scan.pdf": "unreadable-scan",
                       "missing.csv": "missing-file"}
    for name in reasons:
        assert f"cannot read {tmp_path / name}: " in result.stderr
    assert "is not an xlsx workbook (not a zip archive)" in result.stderr


def test_help_documents_exit_codes_and_examples() -> None:
    result = run_cli("ingest", "--help")
    assert result.returncode == 0
    for text in ("0 every row clean", "1 some rows rejected", "2 usage or configuration",
                 "3 an input could not be read", "ordermill ingest samples/ --out out"):
        assert text in result.stdout


def test_no_arguments_shows_help() -> None:
    result = run_cli()
    assert "ingest" in result.stdout + result.stderr
    assert no_traceback(result.stderr)


def test_folder_input_is_expanded_and_sources_are_absolute_paths(tmp_path: Path) -> None:
    # Lineage names one file whatever folder the run started in (and a file called -rf.csv
    # never reads as an option downstream).
    result = run_cli("ingest", "samples", "--out", str(tmp_path), "--json", cwd=ROOT)
    manifest = json.loads(result.stdout)["manifest"]
    paths = [i["path"] for i in manifest["inputs"]]
    assert paths == sorted(paths) and len(paths) == 28
    assert f"{ROOT}/samples/shopify/orders_export_1.csv" in paths
    assert f"{ROOT}/samples/tmall/ExportOrderList202411120800.csv" in paths
    assert f"{ROOT}/samples/po/acme-PO-4500012345.xlsx" in paths
    assert f"{ROOT}/samples/mail/acme-PO-4500012399.eml/PO-4500012399.xlsx" in paths
    orders = pl.read_csv(Path(json.loads(result.stdout)["batch_dir"]) / "orders.csv",
                         infer_schema=False)
    assert set(orders["source"]) <= set(paths)


def test_encoding_override_and_its_fix_it_message(tmp_path: Path) -> None:
    forced = run_cli("ingest", str(TMALL), "--out", str(tmp_path), "--encoding", "utf-8")
    assert forced.returncode == 3
    assert "cannot be decoded as utf-8" in forced.stderr
    assert "check --encoding" in forced.stderr
    right = run_cli("ingest", str(TMALL), "--out", str(tmp_path), "--encoding", "GBK")
    assert right.returncode == 1 and "8 clean" in right.stderr
    unknown = run_cli("ingest", str(TMALL), "--out", str(tmp_path), "--encoding", "klingon")
    assert unknown.returncode == 2 and "unknown encoding 'klingon'" in unknown.stderr


def test_output_formats_are_the_registered_writers() -> None:
    import cli
    from ingest import writers
    from ingest.config import ConfigError, load_settings

    assert [f.value for f in cli.OutputFormat] == list(writers.WRITERS) == [
        "csv", "parquet", "ndjson"]
    writers.register("tsv", "tsv", writers.formats.write_csv)
    try:  # a format registered later is a format everywhere: setting, check, writer
        assert load_settings({"format": "tsv"}, None, {}).output_format == "tsv"
        assert writers.writer_for("tsv") == ("tsv", writers.formats.write_csv)
        with pytest.raises(ConfigError, match=r"use csv, parquet, ndjson or tsv$"):
            load_settings({"format": "xml"}, None, {})
    finally:
        del writers.WRITERS["tsv"]


def test_help_and_readme_name_every_file_kind_a_reader_takes() -> None:
    from ingest.readers import READERS

    shown = " ".join(run_cli("ingest", "--help").stdout.split())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    inputs = readme.split("\n## Inputs\n", 1)[1].split("\n## ", 1)[0]
    for suffix in READERS:
        assert suffix in shown, suffix
        assert f"`{suffix}`" in inputs, suffix

# ruff: noqa: E501  (the rows of the order sheet are CSV lines, kept whole)
"""Order rules: each bundled example with its golden hits, holds released once, merges
across runs, reference data missing, stale and malformed, hostile rule files."""

from __future__ import annotations

import json
import os
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT

from ingest.api import approve_holds, holds, ingest, rules_check, rules_preview, undo_merge
from ingest.config import Settings, load_settings
from ingest.errors import OrdermillError
from ingest.rules.model import RuleError, load_rules
from ingest.rules.reference import ReferenceError

MAPPINGS = ROOT / "tests" / "fixtures" / "rules"
HEADER = ("order_no,ordered,paid,status,customer,consignee,country,province,address,style,"
          "size,qty,price,due,notes,hs,origin")


def due(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


# (row 2 ...) one order per case of the issue; A1 has an urgent FJ line, A8 five sizes.
ROWS = [
    f"A1,2026-01-05 10:00,2026-01-05 10:01,paid,C1,张三,CN,广东省,深圳路1号,FJ-100,S,2,10.00,{due(2)},,,",
    f"A1,2026-01-05 10:00,2026-01-05 10:01,paid,C1,张三,CN,广东省,深圳路1号,TS-200,M,1,20.00,{due(10)},,,",
    f"A2,2026-01-05 11:00,2026-01-05 11:01,paid,C2,李四,CN,北京市,长安街2号,TS-200,L,1,20.00,{due(10)},需要GSP证书,,",
    f"A3,2026-01-05 12:00,2026-01-05 12:01,paid,C3,Ann,US,CA,1 Main St,TS-200,M,1,20.00,{due(10)},,6109,CN",
    f"A4,2026-01-05 12:00,2026-01-05 12:01,paid,C3,Ann,US,CA,1 Main St,TS-300,M,1,20.00,{due(10)},,61,CN",
    f"A5,2026-01-05 12:00,2026-01-05 12:01,paid,C4,王五,CN,浙江省,西湖路5号,ZERO-1,M,1,20.00,{due(10)},,,",
    f"A6,2026-01-05 13:00,2026-01-05 13:01,paid,C2,李四,CN,北京市,长安街2号,TS-200,L,1,20.00,{due(10)},,,",
    *[f"A8,2026-01-05 14:00,2026-01-05 14:01,paid,C4,王五,CN,浙江省,西湖路5号,TS-200,{size},1,"
      f"20.00,{due(1)},,," for size in ("XS", "S", "M", "L", "XL")],
    f"A9,2026-01-05 15:00,2026-01-05 15:01,paid,C2,李四,CN,北京市,长安街2号,FJ-100,L,1,20.00,{due(1)},,,",
]


# The config's part naming the sheet's reference data (and merging repeat orders).
REFERENCE_CONFIG = f"""\
mappings_dir = "{MAPPINGS}"
[reference.stock]
path = "stock.csv"
[reference.credit]
path = "credit.csv"
[reference.product]
path = "products.parquet"
[merge]
within_hours = 24
"""


def write_order_sheet(folder: Path) -> None:
    """The order sheet and its reference data (stock, credit, product master) in ``folder``;
    the config is the test's own."""
    (folder / "po.csv").write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    (folder / "stock.csv").write_text(
        "sku,available\nFJ-100,5\nTS-200,9\nTS-300,3\nZERO-1,0\n", encoding="utf-8")
    (folder / "credit.csv").write_text(
        "customer,limit,used\nC1,1000.00,990.00\nC2,1000.00,100.00\n", encoding="utf-8")
    pl.DataFrame({"sku": ["TS-300"], "hs_code": ["6109100000"], "origin": ["CN"],
                  "active": ["true"]}).write_parquet(folder / "products.parquet")


@pytest.fixture()
def setup(tmp_path: Path) -> tuple[Path, Settings]:
    write_order_sheet(tmp_path)
    (tmp_path / "ordermill.toml").write_text(f"""
rules = ["{ROOT / 'rules'}"]
state_dir = "state"
out_dir = "out"
{REFERENCE_CONFIG}""", encoding="utf-8")
    return tmp_path, load_settings(config=str(tmp_path / "ordermill.toml"))


def run(folder: Path, settings: Settings, name: str = "po.csv") -> tuple[Path, dict]:  # type: ignore[type-arg]
    report = ingest([folder / name], settings=settings)
    assert report.batch_dir is not None and report.manifest is not None
    return report.batch_dir, report.manifest


def test_each_bundled_rule_has_its_golden_hits(setup: tuple[Path, Settings]) -> None:
    folder, settings = setup
    shown = rules_preview(ROOT / "rules", folder / "po.csv", settings)
    hits = {h["rule"]: h["rows"] for h in shown.hits}
    assert hits == {
        "credit-low": [2, 3],                      # C1 used 990 of 1000: the whole order
        "customs-data-missing": [5, 6],            # US: HS 6109 too short; 61 on the line
        "urgent-fj": [2, 14],                      # FJ due in 2 and 1 days
        "bom-check": [9, 10, 11, 12, 13],          # five sizes in A8
        "gsp-certificate": [4],
        "route-fj-workshop": [2, 14],
        "route-south": [3],                        # (the FJ line stopped at its own rule)
        "route-north": [4, 8],
        "priority-tmall": [],
        "out-of-stock": [7],
    }
    assert not (folder / "out").exists() and not (folder / "state").exists()  # nothing written


def test_ingest_applies_every_action(setup: tuple[Path, Settings]) -> None:
    folder, settings = setup
    batch, manifest = run(folder, settings)
    orders = pl.read_csv(batch / "orders.csv", infer_schema=False)
    by_row = {r["source_row"]: r for r in orders.iter_rows(named=True)}
    assert sorted(by_row) == ["10", "11", "12", "13", "14", "4", "8", "9"]
    assert by_row["4"]["flags"] == "compliance" and by_row["4"]["warehouse"] == "WH-TIANJIN"
    assert by_row["9"]["flags"] == "bom-check"
    assert by_row["14"]["flags"] == "urgent" and by_row["14"]["warehouse"] == "WH-FUJIAN"
    rejects = pl.read_csv(batch / "rejects.csv", infer_schema=False)
    assert dict(zip(rejects["source_row"], rejects["codes"], strict=True)) == {
        "5": "customs-data-missing", "6": "customs-data-missing", "7": "out-of-stock"}
    assert "(rule out-of-stock)" in rejects["messages"][2]
    held = pl.read_csv(batch / "holds.csv", infer_schema=False)
    assert held["order_id"].to_list() == ["A1", "A1"]
    assert set(held["approver"]) == {"sales-manager"}
    assert manifest["totals"]["held"] == 2
    counts = {c["rule"]: c["lines"] for c in manifest["rules"]["counts"]}
    assert counts["credit-low"] == 2 and counts["out-of-stock"] == 1
    assert counts["bom-check"] == 5 and counts["urgent-fj"] == 1


def test_a_hold_is_released_by_approval_exactly_once(setup: tuple[Path, Settings]) -> None:
    folder, settings = setup
    run(folder, settings)
    [hold] = holds(settings)
    assert hold["status"] == "pending" and hold["order_id"] == "A1"
    outcome, report = approve_holds(settings, [hold["hold_id"]], "Li Na")
    assert outcome == {hold["hold_id"]: "approved"}
    assert report is not None and report.batch_dir is not None
    released = pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False)
    assert released["order_id"].to_list() == ["A1", "A1"]
    again, second = approve_holds(settings, [hold["hold_id"]], "Li Na")
    assert again == {hold["hold_id"]: "released"} and second is None
    [after] = holds(settings)
    assert after["status"] == "released" and after["approved_by"] == "Li Na"
    # The same export again: its lines, released once, are duplicates now.
    report = ingest([folder / "po.csv"], settings=settings, force=True)
    assert report.manifest is not None
    assert report.manifest["totals"]["clean"] == 0
    assert report.manifest["totals"].get("held", 0) == 0


def test_merges_reach_across_runs_and_undo_keeps_everything(
        setup: tuple[Path, Settings]) -> None:
    folder, settings = setup
    _, manifest = run(folder, settings)
    groups = {g["merge_group"]: g["orders"] for g in manifest["rules"]["merges"]}
    assert groups["ops-po:A2"] == ["ops-po:A2", "ops-po:A6", "ops-po:A9"]
    later = f"A7,2026-01-06 09:00,2026-01-06 09:01,paid,C2,李四,CN,北京市,长安街2号,TS-200,L,1,20.00,{due(10)},,,"
    cod = f"A10,2026-01-06 09:30,,unpaid,C2,李四,CN,北京市,长安街2号,TS-200,L,1,20.00,{due(10)},,,"
    (folder / "po2.csv").write_text("\n".join([HEADER, later, cod]) + "\n", encoding="utf-8")
    batch, manifest = run(folder, settings, "po2.csv")
    orders = pl.read_csv(batch / "orders.csv", infer_schema=False)
    assert dict(zip(orders["order_id"], orders["merge_group"], strict=True)) == {
        "A7": "ops-po:A2", "A10": "ops-po:A10"}  # cash on delivery never merges
    assert manifest["rules"]["merges"][0]["earlier"] == ["ops-po:A2", "ops-po:A6", "ops-po:A9"]
    assert undo_merge(settings, "ops-po:A2", "Li Na", "two shipments wanted")
    assert not undo_merge(settings, "ops-po:A2", "Li Na")
    (folder / "po3.csv").write_text(HEADER + "\n" + later.replace("A7,", "A11,").replace(
        "2026-01-06 09:", "2026-01-06 10:") + "\n", encoding="utf-8")
    batch, _ = run(folder, settings, "po3.csv")
    assert pl.read_csv(batch / "orders.csv", infer_schema=False)["merge_group"].to_list() == [
        "ops-po:A11"]


def test_reference_data_missing_stale_and_malformed(setup: tuple[Path, Settings]) -> None:
    folder, settings = setup
    (folder / "stock.csv").rename(folder / "gone.csv")
    with pytest.raises(ReferenceError, match=r"stock .*no such file"):
        ingest([folder / "po.csv"], settings=settings)
    (folder / "gone.csv").rename(folder / "stock.csv")
    old = time.time() - 48 * 3600
    os.utime(folder / "stock.csv", (old, old))
    with pytest.raises(ReferenceError, match=r"48\.0 hours old"):
        ingest([folder / "po.csv"], settings=settings)
    text = (folder / "ordermill.toml").read_text(encoding="utf-8")
    (folder / "ordermill.toml").write_text(text.replace(
        'path = "stock.csv"', 'path = "stock.csv"\non_stale = "warn"'), encoding="utf-8")
    warned = load_settings(config=str(folder / "ordermill.toml"))
    _, manifest = run(folder, warned)
    assert "used anyway" in manifest["rules"]["warnings"][0]
    assert [r["stale"] for r in manifest["rules"]["reference"] if r["table"] == "stock"] == [True]
    (folder / "stock.csv").write_text("sku,available\nTS-200,lots\n", encoding="utf-8")
    with pytest.raises(ReferenceError, match=r"available do not parse .*row 2: 'lots'"):
        ingest([folder / "po.csv"], settings=warned, force=True)
    (folder / "stock.csv").write_text("item,count\nTS-200,1\n", encoding="utf-8")
    with pytest.raises(ReferenceError, match="no column 'sku'"):
        ingest([folder / "po.csv"], settings=warned, force=True)


def write_rule(tmp_path: Path, when: str, **extra: str) -> Path:
    body = "".join(f'{k} = "{v}"\n' for k, v in extra.items())
    path = tmp_path / "r.toml"
    path.write_text(f'[[rule]]\nname = "r"\naction = "flag"\nflag = "x"\nwhen = """{when}"""\n'
                    + body, encoding="utf-8")
    return path


def test_a_typo_is_named_with_its_position_and_the_nearest_field(tmp_path: Path) -> None:
    with pytest.raises(RuleError) as caught:
        rules_check([write_rule(tmp_path, 'starts_with(skuu, "FJ")')])
    assert caught.value.syntax is not None and caught.value.syntax.position == 12
    assert "unknown field 'skuu' (did you mean 'sku'?)" in str(caught.value)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(("when", "problem"), [
    ("(" * 50 + "true" + ")" * 50, "nested more than"),
    ("(" * 300 + "true" + ")" * 300, "more than 400 tokens"),
    ("sku == '" + "x" * 10_000 + "'", "characters long"),
    ("sku == '" + "x" * 300 + "'", "at most 200"),
    ('__import__("os").system("id")', "expected an operator or the end, found '.'"),
    ('__import__("os")', "unknown function '__import__'"),
    ('open("/etc/passwd")', "unknown function 'open'"),
    ("sku.__class__", "unknown reference table 'sku'"),
    ('eval("1")', "unknown function 'eval'"),
    ("1 +", "expected a value"),
    ("sku == 1", "cannot compare text with number"),
    ('matches(sku, "(")', "not a pattern"),
    ('matches(sku, "a{1000}{1000}{1000}")', "not a pattern"),
])
def test_hostile_rule_files_are_refused(tmp_path: Path, when: str, problem: str) -> None:
    with pytest.raises(RuleError, match=problem.replace("(", r"\(").replace("'", "'")):
        load_rules([write_rule(tmp_path, when)])


def test_a_pattern_cannot_backtrack_for_ever(tmp_path: Path) -> None:
    rules = load_rules([write_rule(tmp_path, 'matches(buyer_message, "^(a+)+$")')])
    from ingest.rules.apply import RuleRun, apply_rules
    frame = pl.DataFrame({"__row": list(range(2000)), "order_id": ["1"] * 2000,
                          "buyer_message": ["a" * 5000 + "b"] * 2000})
    for name in ("sku",):
        frame = frame.with_columns(pl.lit(None, pl.String).alias(name))
    started = time.perf_counter()
    applied = apply_rules(frame, RuleRun(rules), "x", "__row")
    assert time.perf_counter() - started < 10
    assert not applied.hits["r"].any()


def test_a_rule_file_is_data_only(tmp_path: Path) -> None:
    bad = tmp_path / "r.toml"
    bad.write_text('[[rule]]\nname = "r"\naction = "flag"\nflag = "x"\nwhen = "true"\n'
                   'include = "/etc/passwd"\n', encoding="utf-8")
    with pytest.raises(RuleError, match="unknown key 'include'"):
        load_rules([bad])
    bad.write_text('[settings]\nx = 1\n', encoding="utf-8")
    with pytest.raises(OrdermillError, match="unknown table or key 'settings'"):
        load_rules([bad])


def test_manifest_is_json_serialisable(setup: tuple[Path, Settings]) -> None:
    folder, settings = setup
    batch, _ = run(folder, settings)
    assert json.loads((batch / "manifest.json").read_text("utf-8"))["rules"]["counts"]


def test_counts_of_a_file_read_in_pieces_match_and_duplicates_come_off(
        setup: tuple[Path, Settings], monkeypatch: pytest.MonkeyPatch) -> None:
    """A big file's counts are taken in the rules' pass, piece by piece; lines the batch
    drops later (duplicates) come off them. The same as counting the output lines."""
    import shutil

    from ingest import reading
    from ingest.rules.counts import total
    folder, settings = setup
    _, whole = run(folder, settings)
    shutil.rmtree(folder / "state")
    shutil.rmtree(folder / "out")
    monkeypatch.setattr(reading, "CHUNK_BYTES", 300)
    counted = []
    monkeypatch.setattr(reading, "total",
                        lambda parts: counted.append(len(parts)) or total(parts))
    _, pieces = run(folder, settings)
    assert counted and counted[0] > 1  # (counted in the pass, piece by piece)
    assert pieces["totals"] == whole["totals"]
    assert pieces["rules"]["counts"] == whole["rules"]["counts"]
    again = ingest([folder / "po.csv"], settings=settings, force=True).manifest
    assert again is not None and again["totals"]["duplicates"] == whole["totals"]["clean"]
    assert {c["rule"] for c in again["rules"]["counts"]} == {  # (no flag, no route)
        "out-of-stock", "customs-data-missing", "credit-low"}

"""Each export layout's sample (tests/golden.py CASES, one per mapping file) is recognised as
its channel and as its own layout (the manifest names the mapping), and every row of it is
accounted for once: rows_in = clean + rejected + duplicates + waiting + joined. Real files:
the bundled samples, written by samples/make_samples.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import MAPPINGS
from golden import CASES, ROOT, pair_halves, sample_files
from openpyxl import load_workbook

from ingest.api import ingest
from ingest.mapping.loader import load_mappings
from ingest.readers.base import normalise_name

MAPPINGS_BY_NAME = {m.name: m for m in load_mappings(MAPPINGS)}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layout_sample_is_read_by_its_own_mapping_and_every_row_counted(
        name: str, tmp_path: Path) -> None:
    files = sample_files(CASES[name])
    report = ingest([str(f) for f in files], tmp_path / "out", state_dir=tmp_path / "state")
    inputs = report.manifest["inputs"]
    assert isinstance(inputs, list) and inputs
    halves = pair_halves(name, MAPPINGS_BY_NAME.values())
    if halves:  # a two-file export: read by its halves' mappings, both files joined
        assert {entry["mapping"] for entry in inputs} <= halves
        assert len(inputs) == 2 and all(entry.get("pair") for entry in inputs)
    else:
        assert [entry["mapping"] for entry in inputs] == [name]
    for entry in inputs:
        mapping = MAPPINGS_BY_NAME[entry["mapping"]]
        assert entry["channel"] == mapping.channel
        assert entry["layout"] == mapping.layout
        assert entry["rows_in"] > 0
        assert entry["rows_in"] == (entry["clean"] + entry["rejected"] + entry["duplicates"]
                                    + entry["waiting"] + entry.get("joined", 0)), entry


def test_full_width_parentheses_in_a_real_header_match_the_mapping() -> None:
    """Pinduoduo's pre-2020 order sheet writes 商品总价（元） with full-width parentheses (the
    only column of the file that does); its mapping says 商品总价(元), read as one (NFKC)."""
    sample = ROOT / CASES["pinduoduo-pre2020"]
    header = [c.value for c in next(load_workbook(sample).active.iter_rows(max_row=1))]
    assert "商品总价（元）" in header and "商品总价(元)" not in header
    assert normalise_name("商品总价（元）") == normalise_name("商品总价(元)")
    mapping = MAPPINGS_BY_NAME["pinduoduo-pre2020"]
    assert "商品总价(元)" in mapping.header_contains


def test_real_headers_are_reproduced_in_the_samples() -> None:
    """Spot checks of quirks the evidence shows: JD-2016's trailing comma on every line, the
    1688 payment column 订单付款时间 (never 付款时间), 抖店's TAB inside quoted IDs and `-`."""
    jd = (ROOT / CASES["jd"]).read_bytes().decode("gb18030").splitlines()
    assert all(line.endswith(",") for line in jd)
    assert jd[0].startswith("订单号,商品ID,商品名称,订购数量,支付方式,下单时间,京东价,订单金额,")
    sheet = load_workbook(ROOT / CASES["1688"]).active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert len(header) == 49 and "订单付款时间" in header and "付款时间" not in header
    douyin = (ROOT / CASES["douyin-2025"]).read_text(encoding="utf-8-sig").splitlines()
    assert douyin[1].startswith('"\t6923')
    assert ",-," in douyin[1]

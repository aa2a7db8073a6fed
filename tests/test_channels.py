"""The bundled marketplace channels: each sample is recognised as its own channel and no
other, and the order shapes (eBay summary rows, Amazon per-item shipping) come out whole."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from conftest import MAPPINGS, SAMPLES
from golden import CASES, MAIL_CASES, ROOT, case_name, pair_halves, sample_files

from ingest.api import ingest
from ingest.inputs import Input
from ingest.mapping.detect import detect
from ingest.mapping.loader import load_mappings
from ingest.readers import open_document
from ingest.readers.base import find_header
from ingest.writers.formats import unguarded


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_is_detected_as_its_own_channel_and_no_other(name: str) -> None:
    """A case is a mapping's name (a channel's layout) or, for a two-file export, its
    channel: the sample is recognised as that mapping, and carries no other channel's
    signature (a channel's other layouts may share names, but lose the detection)."""
    mappings = load_mappings(MAPPINGS)
    by_name = {m.name: m for m in mappings}
    halves = pair_halves(name, mappings)  # (a two-file export's halves are its two mappings)
    channel = by_name[next(iter(halves))].channel if halves else by_name[name].channel
    for sample in sample_files(CASES[name]):
        with open_document(Input.from_path(sample)) as document:
            found = detect(document, mappings).mapping
            assert found.channel == channel
            assert found.name in (halves or {name}), f"{sample.name} is read by {found.name}"
            for mapping in mappings:
                if mapping.channel == channel:
                    continue
                peek = document.peek(mapping.reader)
                assert find_header(peek, mapping.header_contains) is None, (
                    f"{sample.name} also carries the signature of {mapping.channel}")


def test_every_sample_folder_is_a_golden_case() -> None:
    folders = {p.name for p in SAMPLES.iterdir() if p.is_dir() and p.name != "__pycache__"}
    cases = [*CASES.values(), *MAIL_CASES.values()]
    assert folders == {f.parent.name for sample in cases for f in sample_files(sample)}
    # one case per mapping (layout), named after it; a two-file export is one case, named
    # after its channel and layout (tmall, tmall-2021; tmall.toml's one-file layout is a
    # test fixture's)
    mappings = load_mappings(MAPPINGS)
    assert {case_name(m) for m in mappings} - {"tmall"} == set(CASES) - {"tmall"}
    assert {n: len(pair_halves(n, mappings)) for n in CASES if pair_halves(n, mappings)} == {
        "tmall": 2, "tmall-2021": 2}


def _ingest(sample: str, tmp_path: Path) -> tuple[pl.DataFrame, dict[str, object]]:
    report = ingest([str(ROOT / sample)], tmp_path / "out", state_dir=tmp_path / "state")
    assert report.batch_dir is not None
    orders = unguarded(pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False))
    return orders, report.manifest


def test_ebay_summary_rows_are_layout_and_their_cells_reach_the_items(tmp_path: Path) -> None:
    orders, manifest = _ingest(CASES["ebay"], tmp_path)
    entry = manifest["inputs"][0]  # type: ignore[index]
    # two multi-item orders: their summary rows are not lines, and are counted
    assert entry["layout_rows"]["order_summary"] == 2
    assert entry["rows_in"] == entry["clean"] + entry["rejected"] + entry["duplicates"]
    berlin = orders.filter(pl.col("order_id") == "21-11504-22304")
    assert berlin["line_no"].to_list() == ["1", "2", "3"]
    assert set(berlin["ship_phone"]) == {"+493012345678"}  # national German number
    assert set(berlin["shipping_amount"]) == {"15.00"}  # the order's, on every line
    assert set(berlin["ship_city"]) == {"Berlin"}
    leeds = orders.filter(pl.col("order_id") == "19-11503-22303")
    assert leeds["ship_phone"].to_list() == ["+447700900123"]
    assert leeds["ship_country"].to_list() == ["GB"]


def test_amazon_shipping_is_summed_per_order_and_item_price_divided(tmp_path: Path) -> None:
    orders, _ = _ingest(CASES["amazon"], tmp_path)
    three = orders.filter(pl.col("order_id") == "111-2223334-4445556")
    # 3.99 + 3.99 + 0.00 per item: the order's shipping, exactly, on each line
    assert set(three["shipping_amount"]) == {"7.98"}
    assert three["unit_price"].to_list() == ["14.00", "49.99", "7.50"]  # 42.00 / 3 ...
    assert three["line_total"].to_list() == ["42.00", "44.99", "15.00"]


def test_1688_merged_order_cells_reach_every_item_row(tmp_path: Path) -> None:
    orders, _ = _ingest(CASES["1688"], tmp_path)
    first = orders.filter(pl.col("order_id") == "2198765432101234567")
    assert first.height == 3
    assert set(first["paid_at"]) == {"2025-11-05T01:32:40Z"}  # 订单付款时间
    assert set(first["ship_phone"]) == {"+8613812345678"}
    assert set(first["shipping_amount"]) == {"15.00"}

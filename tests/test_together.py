"""Small inputs are mapped and checked together (``ingest.together``): each one's result must
be the result of mapping it alone, for every sample, for copies of one file in one group,
and for the shapes where the concatenation could mix inputs up (one order number in two
inputs, order-level checks, derived line numbers, a failure in one input)."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import MAPPINGS, SAMPLES
from polars.testing import assert_frame_equal

import ingest.together as together_module
from ingest.api import ingest
from ingest.inputs import Input
from ingest.mapping.loader import load_mappings
from ingest.mapping.model import Mapping
from ingest.reading import CheckedInput, ReadHalf, read_any, read_input
from ingest.together import Together

# (The halves of a two-file export, samples/tmall/, are mapped once joined: test_pairs.py.)
SAMPLE_FILES = sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.suffix.lower() in (
    ".csv", ".txt", ".xlsx") and p.parent.name != "tmall")


def _frames(parts: list[pl.LazyFrame]) -> pl.DataFrame | None:
    return pl.concat([p.collect() for p in parts]) if parts else None


def assert_same(alone: CheckedInput, together: CheckedInput) -> None:
    assert (together.name, together.sha256, together.size, together.mapping.name) == (
        alone.name, alone.sha256, alone.size, alone.mapping.name)
    assert (together.header, together.rows_in, together.waiting, together.details) == (
        alone.header, alone.rows_in, alone.waiting, alone.details)
    for name in ("raw", "hashes", "reasons", "rejected_orders"):
        assert_frame_equal(getattr(together, name), getattr(alone, name)), name
    for name in ("lines", "warnings"):
        mine, theirs = _frames(getattr(together, name)), _frames(getattr(alone, name))
        assert (mine is None) == (theirs is None), name
        if mine is not None and theirs is not None:
            assert_frame_equal(mine, theirs)


def read_together(inputs: list[Input], mappings: list[Mapping], group_rows: int = 100_000
                  ) -> list[CheckedInput]:
    together = Together(group_rows=group_rows)
    results = [read_any(one, mappings, together=together) for one in inputs]
    assert together.complete() == []
    checked = [r for r in results if not isinstance(r, ReadHalf)]
    assert len(checked) == len(results)
    return checked


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_each_sample_mapped_with_copies_of_itself_as_alone(path: Path) -> None:
    mappings = load_mappings(MAPPINGS)
    data = path.read_bytes()
    # Three copies in one group: the same order numbers in each, checked input by input.
    copies = [Input.from_bytes(f"copy{n}-{path.name}", data) for n in range(3)]
    alone = [read_input(one, mappings) for one in copies]
    for mine, theirs in zip(read_together(copies, mappings), alone, strict=True):
        assert_same(theirs, mine)


def test_every_sample_in_one_run_as_alone() -> None:
    mappings = load_mappings(MAPPINGS)
    inputs = [Input.from_path(p) for p in SAMPLE_FILES]
    alone = [read_input(one, mappings) for one in inputs]
    # Groups cut small too: a group is mapped once it holds this many rows.
    for rows in (100_000, 7):
        for mine, theirs in zip(read_together(inputs, mappings, rows), alone, strict=True):
            assert_same(theirs, mine)


ORDERS_MAPPING = """\
channel = "shop"
[detect]
header_contains = ["Order", "Item", "Qty", "Price", "Order Total"]
[parse]
timezone = "UTC"
[constants]
order_status = "paid"
currency = "USD"
[fields]
order_id = "Order"
ordered_at = "Date"
sku = "Item"
quantity = "Qty"
unit_price = "Price"
order_total = "Order Total"
"""


def test_one_order_number_in_two_inputs_is_checked_in_each_alone(tmp_path: Path) -> None:
    # Order A in two inputs: two lines (total 10.00) in one, one line (5.00) in the other.
    # Mixed up, its line numbers would run on (1, 2, 3) and its total would not add up.
    (tmp_path / "shop.toml").write_text(ORDERS_MAPPING, encoding="utf-8")
    mappings = load_mappings(tmp_path)
    first = Input.from_bytes("a.csv", b"Order,Date,Item,Qty,Price,Order Total\n"
                             b"A,2024-11-12 10:00:00,X,1,4.00,10.00\n"
                             b"A,2024-11-12 10:00:00,Y,1,6.00,10.00\n")
    second = Input.from_bytes("b.csv", b"Order,Date,Item,Qty,Price,Order Total\n"
                              b"A,2024-11-12 10:00:00,X,1,5.00,5.00\n")
    alone = [read_input(one, mappings) for one in (first, second)]
    together = read_together([first, second], mappings)
    for mine, theirs in zip(together, alone, strict=True):
        assert_same(theirs, mine)
    lines = [_frames(c.lines) for c in together]
    assert [f["line_no"].to_list() for f in lines if f is not None] == [[1, 2], [1]]
    assert all(c.reasons.height == 0 for c in together)


def test_an_input_whose_mapping_fails_is_unreadable_and_the_others_are_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "shop.toml").write_text(ORDERS_MAPPING, encoding="utf-8")
    drop = tmp_path / "drop"
    drop.mkdir()
    for name, item in (("a.csv", "X"), ("b.csv", "BOOM"), ("c.csv", "Z")):
        (drop / name).write_bytes(b"Order,Date,Item,Qty,Price,Order Total\n"
                                  + f"{name},2024-11-12 10:00:00,{item},1,4.00,4.00\n".encode())
    real = together_module.map_and_check

    def failing(table: object, *args: object, **kwargs: object) -> object:
        frame = table.table.frame  # type: ignore[attr-defined]
        if frame.filter(pl.col("Item") == "BOOM").height:
            raise RuntimeError("a library's failure on a shape nobody foresaw")
        return real(table, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(together_module, "map_and_check", failing)
    report = ingest([drop], tmp_path / "out", state_dir=tmp_path / "state",
                    mappings_dir=tmp_path)
    assert [(u["path"].rsplit("/", 1)[-1], u["code"]) for u in report.unreadable] == [
        ("b.csv", "reader-failed")]
    assert "a library's failure" in report.unreadable[0]["reason"]
    assert [Path(i["path"]).name for i in report.manifest["inputs"]] == ["a.csv", "c.csv"]
    assert report.manifest["totals"]["clean"] == 2


def test_ingest_of_a_folder_gives_what_inputs_read_alone_give(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    folder = tmp_path / "drop"
    shutil.copytree(SAMPLES / "po", folder)
    for name in ("acme-PO-4500012345.xlsx", "huaxin-PO-HX-20241118-007.xlsx"):
        shutil.copy(SAMPLES / "po" / name, folder / f"again-{name}")
    mine = ingest([folder], tmp_path / "together", state_dir=tmp_path / "s1")
    monkeypatch.setattr(together_module.Together, "add",
                        lambda self, read: pytest.fail("mapped together"))
    monkeypatch.setattr("ingest.reading.SMALL_BYTES", -1)  # (nothing is small: each alone)
    theirs = ingest([folder], tmp_path / "alone", state_dir=tmp_path / "s2")
    assert mine.manifest is not None and theirs.manifest is not None
    assert mine.manifest["totals"] == theirs.manifest["totals"]
    assert mine.manifest["inputs"] == theirs.manifest["inputs"]
    for name in ("orders.csv", "rejects.csv", "warnings.csv"):
        assert mine.batch_dir is not None and theirs.batch_dir is not None
        ours = (mine.batch_dir / name).read_text(encoding="utf-8")
        alone = (theirs.batch_dir / name).read_text(encoding="utf-8")
        assert ours.replace(mine.batch_dir.name, "B") == alone.replace(theirs.batch_dir.name, "B")

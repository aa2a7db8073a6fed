"""Big text files are read and checked in pieces (memory that does not grow with the file).
The result must be the whole-file result: for every text sample, cut into pieces of a few
hundred bytes, and for the shapes that make pieces hard."""

from __future__ import annotations

import io
import itertools
import re
from pathlib import Path

import polars as pl
import pytest
from conftest import MAPPINGS, SAMPLES
from polars.testing import assert_frame_equal

import ingest.reading as reading_module
import ingest.runs as runs_module
from ingest.api import ingest
from ingest.events import Events
from ingest.inputs import Input
from ingest.mapping.loader import load_mapping, load_mappings
from ingest.mapping.model import Mapping
from ingest.readers.csv import _record_pieces
from ingest.reading import CheckedInput, ReadHalf, read_input
from ingest.verdicts import finish

WHOLE = 1 << 40
# (The halves of a two-file export, samples/tmall/, are read whole: tests/test_pairs.py.)
TEXT_SAMPLES = sorted([*(p for p in SAMPLES.rglob("*") if p.suffix.lower() in (".csv", ".txt")
                         and p.parent.name != "tmall"),
                       SAMPLES.parent / "tests" / "fixtures" / "tmall-combined.csv"])


def outcome(paths: list[Path], chunk_bytes: int, mappings: list[Mapping] | None = None,
            ) -> tuple[list[CheckedInput], list[tuple[object, ...]]]:
    prepared = [read_input(Input.from_path(p), mappings or load_mappings(MAPPINGS),
                           chunk_bytes=chunk_bytes)
                for p in paths]
    results = finish(prepared, "batch").results
    return prepared, [(r.rows_in, r.duplicates, r.details, r.clean, r.rejects, r.waiting,
                       pl.concat(r.warning_parts).collect() if r.warning_parts else None)
                      for r in results]


def assert_same(whole: list[tuple[object, ...]], pieces: list[tuple[object, ...]]) -> None:
    assert len(whole) == len(pieces)
    for a, b in zip(whole, pieces, strict=True):
        assert a[:3] == b[:3]
        assert isinstance(a[3], pl.DataFrame) and isinstance(b[3], pl.DataFrame)
        assert isinstance(a[4], pl.DataFrame) and isinstance(b[4], pl.DataFrame)
        assert_frame_equal(a[3], b[3])
        assert a[5] == b[5]  # waiting
        if a[6] is not None or b[6] is not None:  # warnings
            assert isinstance(a[6], pl.DataFrame) and isinstance(b[6], pl.DataFrame)
            assert_frame_equal(a[6], b[6])
        assert_frame_equal(a[4], b[4])


def in_pieces(prepared: list[CheckedInput]) -> bool:
    return all(p.in_pieces for p in prepared)


@pytest.mark.parametrize("chunk_bytes", [300, 2000])
@pytest.mark.parametrize("sample", TEXT_SAMPLES, ids=lambda p: p.parent.name)
def test_every_text_sample_in_pieces_gives_the_whole_file_result(
        sample: Path, chunk_bytes: int) -> None:
    _, whole = outcome([sample], WHOLE)
    prepared, pieces = outcome([sample], chunk_bytes)
    assert in_pieces(prepared), "the sample was read whole: the test would prove nothing"
    assert_same(whole, pieces)
    rows_in, _, _, clean, rejects, waiting, _ = pieces[0]
    assert isinstance(clean, pl.DataFrame) and isinstance(rejects, pl.DataFrame)
    assert rows_in == clean.height + rejects.height + waiting
    # Every sample holds bad rows on purpose, but for a layout whose rows all wait (Amazon
    # Unshipped orders: no prices), which are never checked.
    assert rejects.height or (waiting == rows_in and not clean.height), "no bad rows"


TOY = """
channel = "toy"
[detect]
header_contains = ["Order", "Line", "Qty"]
[reader]
footer = "^Total"
[fields]
order_id = "Order"
line_no = "Line"
quantity = "Qty"
unit_price = "Price"
sku = "SKU"
shipping_amount = "Shipping"
ordered_at = "Ordered"
order_status = "Status"
[constants]
currency = "CNY"
[values.order_status]
done = "completed"
"""
HEADER = "Order,Line,Qty,Price,SKU,Shipping,Ordered,Status,Note\n"


def toy_row(order: int, line: int, note: str = "", shipping: str = "5.00",
            qty: str = "1") -> str:
    return (f"{order:06d},{line},{qty},10.00,SKU-{order}-{line},{shipping},"
            f"2024-11-11 10:00:00,done,{note}\n")


def toy(tmp_path: Path, body: str, name: str = "toy.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes((HEADER + body).encode(encoding))
    return path


def toy_mappings(tmp_path: Path) -> list[Mapping]:
    path = tmp_path / "toy.toml"
    path.write_text(TOY, encoding="utf-8")
    return [load_mapping(path)]


def compare(tmp_path: Path, paths: list[Path], chunk_bytes: int = 120) -> list[tuple[
        object, ...]]:
    mappings = toy_mappings(tmp_path)
    _, whole = outcome(paths, WHOLE, mappings)
    prepared, pieces = outcome(paths, chunk_bytes, mappings)
    assert in_pieces(prepared[:1])  # (a one-line file is smaller than a piece)
    assert_same(whole, pieces)
    return pieces


def test_values_with_line_breaks_quotes_and_delimiters_are_never_cut(tmp_path: Path) -> None:
    notes = ['"two\nlines"', '"say ""hi"", then\nleave,\nnow"', '"a,b"', '"\n\n"', "plain"]
    body = "".join(toy_row(i, 1, notes[i % len(notes)]) for i in range(60))
    pieces = compare(tmp_path, [toy(tmp_path, body)], chunk_bytes=90)
    clean = pieces[0][3]
    assert isinstance(clean, pl.DataFrame) and clean.height == 60


def test_orders_are_never_split_between_pieces(tmp_path: Path) -> None:
    # Each order has lines that disagree on shipping only when seen whole: a split order
    # would pass on both sides of the cut.
    body = "".join(toy_row(order, line, shipping="5.00" if line < 3 else "7.00")
                   for order in range(20) for line in range(1, 4))
    pieces = compare(tmp_path, [toy(tmp_path, body)], chunk_bytes=100)
    rejects = pieces[0][4]
    assert isinstance(rejects, pl.DataFrame) and rejects.height == 60
    assert set(rejects["codes"]) == {"order-amount-mismatch"}


def test_an_order_whose_lines_stand_apart_is_read_whole(tmp_path: Path) -> None:
    # Order 0's lines are the first and the last row: pieces could not see it whole, so the
    # file is read whole (the mismatch is still found).
    body = toy_row(0, 1) + "".join(toy_row(i, 1) for i in range(1, 30)) + toy_row(
        0, 2, shipping="9.00")
    mappings = toy_mappings(tmp_path)
    path = toy(tmp_path, body)
    prepared, pieces = outcome([path], 120, mappings)
    assert not in_pieces(prepared)
    _, whole = outcome([path], WHOLE, mappings)
    assert_same(whole, pieces)
    rejects = pieces[0][4]
    assert isinstance(rejects, pl.DataFrame)
    assert rejects["source_row"].to_list() == [2, 32]


def test_blank_footer_short_long_and_cut_rows_keep_their_numbers(tmp_path: Path) -> None:
    body = "".join(toy_row(i, 1) for i in range(10)) + "\n,,,,\n" + "000010,1,1\n" + \
        "".join(toy_row(i, 1) for i in range(11, 20)) + "000020,1,1,10.00,S,5.00,x,done,a,b\n" \
        + "".join(toy_row(i, 1) for i in range(21, 30)) + "Total,,,,\n" + '000030,1,1,"cut'
    pieces = compare(tmp_path, [toy(tmp_path, body)], chunk_bytes=150)
    _, _, details, _, rejects, _, _ = pieces[0]
    assert isinstance(rejects, pl.DataFrame) and isinstance(details, dict)
    assert details["layout_rows"] == {"above_header": 0, "blank": 2, "footer": 1}
    codes = dict(zip(rejects["source_row"], rejects["codes"], strict=True))
    assert codes[14] == "too-few-fields" and codes[24] == "too-many-fields"
    assert codes[max(codes)] == "truncated-row"


def test_gb18030_is_decoded_piece_by_piece(tmp_path: Path) -> None:
    body = "".join(toy_row(i, 1, note="买家留言：尽快发货¥") for i in range(80))
    compare(tmp_path, [toy(tmp_path, body, encoding="gb18030")], chunk_bytes=97)


def test_utf8_bom_and_crlf_line_ends(tmp_path: Path) -> None:
    body = "".join(toy_row(i, 1, note='"x\r\ny"') for i in range(40)).replace("\n", "\r\n")
    path = tmp_path / "crlf.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER.replace("\n", "\r\n") + body).encode())
    compare(tmp_path, [path], chunk_bytes=110)


def test_a_quote_inside_an_unquoted_field_reads_the_file_whole_and_leniently(
        tmp_path: Path) -> None:
    body = "".join(toy_row(i, 1) for i in range(30)) + toy_row(30, 1, note='27" screen')
    mappings = toy_mappings(tmp_path)
    path = toy(tmp_path, body)
    _, pieces = outcome([path], 120, mappings)
    _, whole = outcome([path], WHOLE, mappings)
    assert_same(whole, pieces)
    details = pieces[0][2]
    assert isinstance(details, dict) and details["notes"]


def test_rows_held_back_by_another_input_show_their_own_values(tmp_path: Path) -> None:
    # Order 7 is fine in a.csv (read in pieces, which keeps only rows of its own rejected
    # orders) but has a bad line in b.csv: a.csv's lines of it are held back, and the report
    # shows them as a.csv wrote them.
    a = toy(tmp_path, "".join(toy_row(i, 1, note=f"note {i}") for i in range(30)), "a.csv")
    b = toy(tmp_path, toy_row(7, 2, qty="-1"), "b.csv")
    pieces = compare(tmp_path, [a, b])
    rejects_a = pieces[0][4]
    assert isinstance(rejects_a, pl.DataFrame)
    held = rejects_a.row(0, named=True)
    assert (held["source_row"], held["codes"], held["Note"]) == (9, "incomplete-order",
                                                                  "note 7")


@pytest.mark.parametrize("block_bytes", [1, 5, 13, 40])
def test_pieces_end_at_record_ends_and_lose_no_byte(block_bytes: int) -> None:
    data = b'a,"b\nc"\n"x""\n"",y"\nlast,"q"\n\n' * 7 + b'tail,"open'
    blocks = [data[i:i + block_bytes] for i in range(0, len(data), block_bytes)]
    pieces = list(_record_pieces(blocks))
    assert b"".join(p for p, _ in pieces) == data
    assert [last for _, last in pieces] == [False] * (len(pieces) - 1) + [True]
    assert pieces[-1][0] == b'tail,"open'  # what is left: the cut record
    for piece, _ in pieces[:-1]:
        assert piece.endswith(b"\n") and piece.count(b'"') % 2 == 0
    # One piece per block that holds a record end: it ends at the block's last one.
    record_ends = [m.end() for m in re.finditer(rb"\n", data)
                   if data[:m.start()].count(b'"') % 2 == 0]
    in_block = [[e for e in record_ends if a < e <= a + block_bytes]
                for a in range(0, len(data), block_bytes)]
    assert list(itertools.accumulate(len(p) for p, _ in pieces[:-1])) == [
        max(ends) for ends in in_block if ends]


def test_a_run_spills_big_inputs_beside_the_ledger_and_clears_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sample = SAMPLES.parent / "tests" / "fixtures" / "tmall-combined.csv"
    whole = ingest([sample], out=tmp_path / "whole", state_dir=tmp_path / "state-whole")
    monkeypatch.setattr(reading_module, "CHUNK_BYTES", 400)
    spilled: list[Path] = []
    real_write_ipc = pl.DataFrame.write_ipc

    def watched(frame: pl.DataFrame, target: object, **options: object) -> object:
        if isinstance(target, (str, Path)):  # (not the in-memory copies of kept raw rows)
            spilled.append(Path(target))
        return real_write_ipc(frame, target, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(pl.DataFrame, "write_ipc", watched)
    pieces = ingest([sample], out=tmp_path / "pieces", state_dir=tmp_path / "state")
    assert len(spilled) > 3
    assert all((tmp_path / "state" / "spill") in s.parents for s in spilled)
    assert not any((tmp_path / "state" / "spill").iterdir())  # cleared after the run
    assert whole.manifest and pieces.manifest
    assert pieces.manifest["totals"] == whole.manifest["totals"]
    assert whole.batch_dir and pieces.batch_dir
    for name in ("orders.csv", "rejects.csv"):
        lines = [(d / name).read_text(encoding="utf-8-sig").splitlines()
                 for d in (whole.batch_dir, pieces.batch_dir)]
        batch_ids = {whole.batch_id: "B", pieces.batch_id: "B"}
        same = [[_mask(line, batch_ids) for line in one] for one in lines]
        assert same[0] == same[1]


def _mask(line: str, replacements: dict[str | None, str]) -> str:
    for old, new in replacements.items():
        if old:
            line = line.replace(old, new)
    return line


@pytest.mark.parametrize("last_row", ['000031,1,1,10.00,S,5.00,x,done,27" screen\n',
                                      None])
def test_a_file_read_whole_after_all_leaves_no_spill_behind(tmp_path: Path,
                                                           last_row: str | None) -> None:
    # A stray quote (the reader gives up on pieces) or an order split apart (found after
    # every piece was spilled): either way the file is read whole and the spill is gone.
    body = toy_row(0, 1) + "".join(toy_row(i, 1) for i in range(1, 30)) + (
        last_row or toy_row(0, 2))
    spill = tmp_path / "spill"
    prepared = read_input(Input.from_path(toy(tmp_path, body)), toy_mappings(tmp_path),
                          chunk_bytes=120, spill_dir=spill)
    assert not prepared.in_pieces  # read whole
    assert spill.is_dir() and not any(spill.iterdir())


def test_updates_duplicates_and_the_key_file_in_pieces_are_the_whole_file_result(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Three runs: day 1; day 2 in two exports that overlap day 1 and each other (updates
    # and duplicates against history and within the batch); a second channel of the same
    # key scope sending lines already received (cross-channel). Read whole, then in
    # pieces: the same batches, and the same ledger key files.
    scoped = TOY + '\n[orders]\nkey_scope = "toys"\n'
    for name in ("toy", "toy2"):
        (tmp_path / f"{name}.toml").write_text(
            scoped.replace('channel = "toy"', f'channel = "{name}"'), encoding="utf-8")
    mappings = [load_mapping(tmp_path / "toy.toml"), load_mapping(tmp_path / "toy2.toml")]
    day1 = toy(tmp_path, "".join(toy_row(i, 1) for i in range(30)), "day1.csv")
    day2a = toy(tmp_path, "".join(toy_row(i, 1, shipping="6.00" if i == 25 else "5.00")
                                  for i in range(20, 40)), "day2a.csv")
    day2b = toy(tmp_path, "".join(toy_row(i, 1, shipping="7.00" if i == 36 else "5.00")
                                  for i in range(34, 45)), "day2b.csv")
    day3 = toy(tmp_path, toy_row(3, 1) + toy_row(50, 1) + toy_row(51, 1), "day3.csv")
    pieced: list[str] = []
    real = runs_module.read_any

    def counted(one: Input, *args: object, **options: object) -> CheckedInput | ReadHalf:
        prepared = real(one, *args, **options)  # type: ignore[arg-type]
        if isinstance(prepared, CheckedInput) and prepared.in_pieces:
            pieced.append(Path(one.name).name)
        return prepared

    monkeypatch.setattr(runs_module, "read_any", counted)
    outputs = {}
    for mode, chunk_bytes in (("whole", WHOLE), ("pieces", 120)):
        monkeypatch.setattr(reading_module, "CHUNK_BYTES", chunk_bytes)
        out, state = tmp_path / f"out-{mode}", tmp_path / f"state-{mode}"
        runs = [ingest(files, out, state_dir=state, mappings=mappings, channel=channel)
                for files, channel in (([day1], "toy"), ([day2a, day2b], "toy"),
                                       ([day3], "toy2"))]
        batches = []
        for run in runs:
            assert run.batch_dir and run.batch_id and run.manifest
            batches.append((
                run.manifest["totals"],
                *[_mask((run.batch_dir / name).read_text(encoding="utf-8-sig"),
                        {run.batch_id: "B"}) for name in ("orders.csv", "rejects.csv")]))
        keys = pl.concat([pl.read_parquet(f)
                          for f in sorted((state / "keys").glob("*.parquet"))])
        outputs[mode] = (batches, keys)
    assert sorted(pieced) == ["day1.csv", "day2a.csv", "day2b.csv", "day3.csv"]
    (whole, whole_keys), (pieces, pieces_keys) = outputs["whole"], outputs["pieces"]
    assert pieces == whole
    assert_frame_equal(pieces_keys, whole_keys)
    # The runs hold every verdict, so the comparison above covers each way a line goes.
    day2_totals, day3_totals = whole[1][0], whole[2][0]
    assert (day2_totals["clean"], day2_totals["duplicates"], day2_totals["updates"]) == (
        17, 14, 2)
    assert (day3_totals["clean"], day3_totals["rejected"]) == (2, 1)
    orders2 = pl.read_csv(io.StringIO(whole[1][1]), infer_schema=False)
    changed = orders2.filter(pl.col("change_type") == "update")
    assert changed.select("order_id", "changed_fields").rows() == [
        ("000025", "shipping_amount"), ("000036", "shipping_amount")]
    assert "cross-channel-duplicate" in whole[2][2]
    assert whole_keys.height == 30 + 17 + 2


def test_the_batch_stage_never_opens_a_source_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a.csv is read in pieces, which keep in memory only the rows of its own rejected
    # orders; order 7 is held back by b.csv, so its rows as read are needed again for the
    # rejects. They come from the spill, never from a.csv: edited, then gone, before the
    # batch-wide step, the batch still shows the rows that were checked.
    a = toy(tmp_path, "".join(toy_row(i, 1, note=f"note {i}") for i in range(30)), "a.csv")
    b = toy(tmp_path, toy_row(7, 2, qty="-1"), "b.csv")
    mappings = toy_mappings(tmp_path)
    real_finish = runs_module.finish

    def edited_then_removed(prepared: list[CheckedInput], *args: object) -> object:
        assert prepared[0].in_pieces  # (a.csv was read in pieces)
        a.write_bytes(a.read_bytes().replace(b"note 7", b"note 8"))
        a.unlink()
        return real_finish(prepared, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(reading_module, "CHUNK_BYTES", 120)
    monkeypatch.setattr(runs_module, "finish", edited_then_removed)
    report = ingest([a, b], tmp_path / "out", state_dir=tmp_path / "state", mappings=mappings)
    assert report.manifest and report.manifest["totals"]["rows_in"] == 31
    assert report.batch_dir
    rejects = pl.read_csv(report.batch_dir / "rejects.csv", infer_schema=False)
    held = rejects.filter(pl.col("source") == str(a))
    assert held["codes"].to_list() == ["incomplete-order"]
    assert held["source_row"].to_list() == ["9"]  # order 7's line: header row 1, then 0..
    assert "note 7" in held.row(0) and "note 8" not in held.row(0)


def test_a_big_file_tells_its_progress_as_it_is_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sample = SAMPLES.parent / "tests" / "fixtures" / "tmall-combined.csv"
    small = tmp_path / "small.csv"
    small.write_text("订单编号,买家会员名\n", encoding="utf-8")  # read whole: no pieces
    monkeypatch.setattr(reading_module, "CHUNK_BYTES", 400)
    heard: list[tuple[str, float, int]] = []
    events = Events("none", progress=lambda path, done, total: heard.append(
        (Path(path).name, done, total)))
    ingest([small, sample], out=tmp_path / "out", state_dir=tmp_path / "state", events=events)
    assert {total for _, _, total in heard} == {2}
    assert [done for name, done, _ in heard if name == small.name] == [0]
    within = [done for name, done, _ in heard if name == sample.name]
    # the second file starts at 1 and moves towards 2 piece by piece, never back
    assert within[0] == 1 and len(within) > 3
    assert within == sorted(within) and 1 < within[-1] <= 2

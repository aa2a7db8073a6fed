"""Two-file channels (``[pair]``): Tmall's 订单报表 and 宝贝报表 joined on the order number,
in one run or across runs, every row of both files accounted for, exactly once, crash-safe."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
from conftest import ORDERMILL, SAMPLES

from ingest.api import history, ingest, run
from ingest.config import load_settings

sys.path.insert(0, str(SAMPLES))
import gen_tmall_pair

ORDERS = SAMPLES / "tmall" / "ExportOrderList202411120800.csv"
ITEMS = SAMPLES / "tmall" / "ExportOrderDetailList202411120800.csv"


def test_samples_are_what_the_generator_writes(tmp_path: Path) -> None:
    orders, items = gen_tmall_pair.write(tmp_path)
    assert orders.read_bytes() == ORDERS.read_bytes()
    assert items.read_bytes() == ITEMS.read_bytes()
    text = items.read_bytes().decode("gb18030").split("\r\n")
    assert text[1].startswith('="3712345678901234567",') and text[1].endswith(",")
    assert '"收货地址 "' in ORDERS.read_bytes().decode("gb18030")


def _accounted(manifest: dict[str, object]) -> None:
    for entry in manifest["inputs"]:  # type: ignore[attr-defined]
        assert entry["rows_in"] == (entry["clean"] + entry["rejected"] + entry["duplicates"]
                                    + entry.get("joined", 0))


def test_both_halves_in_one_run_are_joined_into_lines(tmp_path: Path) -> None:
    report = ingest([ORDERS, ITEMS], tmp_path / "out")
    assert report.manifest is not None and report.batch_dir is not None
    _accounted(report.manifest)
    by_name = {Path(i["path"]).name: i for i in report.manifest["inputs"]}
    items, orders = by_name[ITEMS.name], by_name[ORDERS.name]
    assert (items["rows_in"], items["clean"], items["rejected"]) == (7, 3, 4)
    assert (orders["rows_in"], orders["joined"], orders["rejected"]) == (5, 4, 1)
    assert orders["pair"]["partner"] == str(ITEMS)
    assert report.manifest["totals"]["joined"] == 4
    assert "4 order rows joined" in report.summary_line()
    lines = pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False)
    first = lines.row(0, named=True)
    # the item's own columns, and its order's: buyer, address, phone, times
    assert (first["sku"], first["buyer_id"], first["ship_city"], first["ship_phone"]) == (
        "LJ-250-GIFT", "小王爱喝茶", "杭州市", "'+8613812345678")
    assert first["paid_at"] == "2024-11-10T16:01:30Z" and first["order_id"] == "3712345678901234567"
    rejects = pl.read_csv(report.batch_dir / "rejects.csv", infer_schema=False)
    codes = dict(zip(rejects["codes"], rejects["source"].map_elements(
        lambda s: Path(s).name, return_dtype=pl.String), strict=True))
    assert codes["no-order-row"] == ITEMS.name and codes["no-item-rows"] == ORDERS.name
    assert "3712345678901239500" in rejects.filter(pl.col("codes") == "no-item-rows")[
        "messages"][0]


def _config(tmp_path: Path, wait_days: str = "3") -> Path:
    (tmp_path / "drop").mkdir(exist_ok=True)
    config = tmp_path / "ordermill.toml"
    config.write_text(f'out_dir = "out"\nstate_dir = "state"\narchive_dir = "archive"\n'
                      f'quarantine_dir = "quarantine"\npair_wait_days = "{wait_days}"\n'
                      '[[sources]]\nname = "tmall"\npath = "drop"\npatterns = ["*.csv"]\n',
                      encoding="utf-8")
    return config


def _lines(out: Path) -> pl.DataFrame:
    frames = [pl.read_csv(b / "orders.csv", infer_schema=False) for b in sorted(out.iterdir())]
    return pl.concat(frames) if frames else pl.DataFrame()


def test_a_half_waits_then_joins_its_partner_exactly_once(tmp_path: Path) -> None:
    config = _config(tmp_path)
    settings = load_settings(config=str(config))
    shutil.copy(ORDERS, tmp_path / "drop" / ORDERS.name)
    first = run(settings)
    assert [w["path"] for w in first.unpaired] == [str(tmp_path / "drop" / ORDERS.name)]
    assert first.unpaired[0]["role"] == "orders"
    assert "1 file waiting for its partner" in first.summary_line()
    assert first.manifest is not None and first.manifest["unpaired"] == first.unpaired
    assert first.manifest["inputs"] == [] and first.exit_code == 0
    assert (tmp_path / "drop" / ORDERS.name).exists(), "not archived before it is joined"
    assert len(list((tmp_path / "state" / "pairs").glob("*.json"))) == 1
    assert history(settings)[0]["summary"]["unpaired"][0]["role"] == "orders"

    still = run(settings)  # nothing new: still waiting, no batch
    assert still.batch_dir is None and len(still.unpaired) == 1

    shutil.copy(ITEMS, tmp_path / "drop" / ITEMS.name)
    joined = run(settings)
    assert joined.unpaired == [] and joined.manifest is not None
    _accounted(joined.manifest)
    assert {Path(i["path"]).name for i in joined.manifest["inputs"]} == {ORDERS.name, ITEMS.name}
    assert list((tmp_path / "drop").iterdir()) == []  # both archived now
    assert list((tmp_path / "state" / "pairs").iterdir()) == []
    assert _lines(tmp_path / "out").height == 3

    for name in (ORDERS, ITEMS):  # dropped again: already ingested, nothing twice
        shutil.copy(name, tmp_path / "drop" / name.name)
    again = run(settings)
    assert len(again.skipped) == 2 and again.batch_dir is None
    assert _lines(tmp_path / "out").height == 3


def test_ingest_keeps_a_half_given_alone_for_its_partner(tmp_path: Path) -> None:
    first = ingest([ITEMS], tmp_path / "out")
    assert first.unpaired and first.unpaired[0]["role"] == "items"
    second = ingest([ORDERS], tmp_path / "out")
    assert second.manifest is not None and second.unpaired == []
    assert second.manifest["totals"]["clean"] == 3
    paths = {i["path"] for i in second.manifest["inputs"]}
    assert paths == {str(ORDERS), str(ITEMS)}  # the stored copy, named as it arrived


def test_a_half_that_waits_too_long_is_rejected_and_quarantined(tmp_path: Path) -> None:
    config = _config(tmp_path, wait_days="0")
    settings = load_settings(config=str(config))
    shutil.copy(ITEMS, tmp_path / "drop" / ITEMS.name)
    assert run(settings).unpaired  # a half always waits at least until the next run
    late = run(settings)
    assert late.unpaired == [] and late.manifest is not None and late.exit_code == 1
    entry = late.manifest["inputs"][0]
    assert (entry["rows_in"], entry["rejected"]) == (7, 7)
    rejects = pl.read_csv(late.batch_dir / "rejects.csv", infer_schema=False)  # type: ignore[operator]
    assert set(rejects["codes"]) == {"partner-missing"}
    assert "pair_wait_days" in rejects["messages"][0]
    quarantined = tmp_path / "quarantine" / "tmall" / ITEMS.name
    assert quarantined.exists()
    assert "order file" in quarantined.with_name(ITEMS.name + ".reason.txt").read_text("utf-8")
    assert list((tmp_path / "state" / "pairs").iterdir()) == []


def _cli_run(config: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERMILL_")}
    return subprocess.run([str(ORDERMILL), "run", "--config", str(config)], cwd=config.parent,
                          capture_output=True, text=True, env={**env, **extra}, timeout=300)


def test_a_run_killed_after_storing_a_half_loses_nothing(tmp_path: Path) -> None:
    config = _config(tmp_path)
    shutil.copy(ORDERS, tmp_path / "drop" / ORDERS.name)
    killed = _cli_run(config, ORDERMILL_CRASH_AT="stored")
    assert killed.returncode == -9
    assert (tmp_path / "drop" / ORDERS.name).exists()
    again = _cli_run(config)
    assert again.returncode == 0, again.stderr
    assert "1 file waiting for its partner" in again.stderr
    shutil.copy(ITEMS, tmp_path / "drop" / ITEMS.name)
    assert _cli_run(config).returncode == 1
    assert _lines(tmp_path / "out").height == 3


def test_a_run_killed_after_the_join_is_committed_outputs_it_once(tmp_path: Path) -> None:
    config = _config(tmp_path)
    shutil.copy(ORDERS, tmp_path / "drop" / ORDERS.name)
    assert _cli_run(config).returncode == 0
    shutil.copy(ITEMS, tmp_path / "drop" / ITEMS.name)
    for step in ("prepared", "committed"):
        killed = _cli_run(config, ORDERMILL_CRASH_AT=step)
        assert killed.returncode == -9
    after = _cli_run(config)
    assert after.returncode in (0, 1), after.stderr
    assert _lines(tmp_path / "out").height == 3
    assert list((tmp_path / "state" / "pairs").iterdir()) == []
    assert list((tmp_path / "drop").iterdir()) == []
    runs = json.loads(subprocess.run(
        [str(ORDERMILL), "history", "--json", "--config", str(config)], capture_output=True,
        text=True, cwd=tmp_path, check=True).stdout)
    assert all(r["summary"].get("unpaired", []) == [] for r in runs[:1])


def test_a_store_left_half_written_is_swept(tmp_path: Path) -> None:
    state = tmp_path / "state" / "pairs"
    state.mkdir(parents=True)
    (state / "abc.csv.partial").write_bytes(b"x")
    (state / "def.csv").write_bytes(b"no record beside it")
    report = ingest([ITEMS], tmp_path / "out", state_dir=tmp_path / "state")
    assert len(report.unpaired) == 1
    names = sorted(p.name for p in state.iterdir())
    assert len(names) == 2 and all(not n.startswith(("abc", "def")) for n in names)


ORDERS_2021 = SAMPLES / "tmall" / "ExportOrderList202411150930.csv"
ITEMS_2021 = SAMPLES / "tmall" / "ExportOrderDetailList202411150930.csv"


def test_2021_samples_are_what_the_generator_writes(tmp_path: Path) -> None:
    orders, items = gen_tmall_pair.write_2021(tmp_path)
    assert orders.read_bytes() == ORDERS_2021.read_bytes()
    assert items.read_bytes() == ITEMS_2021.read_bytes()
    lines = orders.read_bytes().decode("gb18030").split("\r\n")
    assert len(lines[0].split(",")) == 71 and lines[0].endswith('"主订单编号"')
    assert '"收货地址 "' in lines[0] and lines[1].endswith('="2218765432109876543"')
    item_lines = items.read_bytes().decode("gb18030").split("\r\n")
    assert len(item_lines[0].split(",")) == 18
    assert item_lines[1].startswith('="2218765432109876544",="2218765432109876543",')


def _detected(path: Path) -> str:
    from conftest import MAPPINGS

    from ingest.inputs import Input
    from ingest.mapping.detect import detect
    from ingest.mapping.loader import load_mappings
    from ingest.readers import open_document

    with open_document(Input.from_path(path)) as document:
        return detect(document, load_mappings(MAPPINGS)).mapping.name


def test_each_tmall_layouts_files_are_its_own_and_not_the_others(tmp_path: Path) -> None:
    """Both ways: the 2016-2019 pair's files are not taken by the 2021+ mappings, nor the
    2021+ files by the older ones; the 2021 order report (67 columns, 买家支付宝账号) is the
    2021 layout's as the 2022 one (71 columns) is, and the 2019 one (61, ending in 主订单编号
    but without 返现金额) stays the older layout's."""
    assert _detected(ORDERS) == "tmall-orders" and _detected(ITEMS) == "tmall-items"
    assert _detected(ORDERS_2021) == "tmall-2021-orders"
    assert _detected(ITEMS_2021) == "tmall-2021-items"
    header_2019 = [*gen_tmall_pair.ORDER_HEADER[:3], "支付单号", "支付详情",
                   *gen_tmall_pair.ORDER_HEADER[3:44], "新零售交易类型", "新零售导购门店名称",
                   "新零售导购门店id", "新零售发货门店名称", "新零售发货门店id", "退款金额",
                   "预约门店", "确认收货时间", "打款商家金额", "含应开票给个人的个人红包",
                   "是否信用购", "体验期结束时间", "前N有礼", "配送类型", "主订单编号"]
    assert len(header_2019) == 61
    for name, header, expected in (("o2021.csv", gen_tmall_pair.ORDER_HEADER_2021,
                                    "tmall-2021-orders"),
                                   ("o2019.csv", header_2019, "tmall-orders")):
        path = tmp_path / name
        path.write_bytes((",".join(f'"{n}"' for n in header) + "\r\n").encode("gb18030"))
        assert _detected(path) == expected, name


def test_both_tmall_pairs_in_one_run_each_join_their_own_partner(tmp_path: Path) -> None:
    report = ingest([ORDERS_2021, ORDERS, ITEMS, ITEMS_2021], tmp_path / "out")
    assert report.manifest is not None and report.batch_dir is not None
    _accounted(report.manifest)
    by_name = {Path(i["path"]).name: i for i in report.manifest["inputs"]}
    assert by_name[ITEMS.name]["pair"]["partner"] == str(ORDERS)
    assert by_name[ORDERS.name]["pair"]["partner"] == str(ITEMS)
    assert by_name[ITEMS_2021.name]["pair"]["partner"] == str(ORDERS_2021)
    assert by_name[ORDERS_2021.name]["pair"]["partner"] == str(ITEMS_2021)
    assert {by_name[n]["layout"] for n in (ITEMS_2021.name, ORDERS_2021.name)} == {"2021"}
    assert (by_name[ITEMS_2021.name]["clean"], by_name[ITEMS_2021.name]["rejected"]) == (6, 4)
    assert (by_name[ORDERS_2021.name]["joined"], by_name[ORDERS_2021.name]["rejected"]) == (7, 1)
    assert report.manifest["totals"]["clean"] == 3 + 6
    lines = pl.read_csv(report.batch_dir / "orders.csv", infer_schema=False)
    multi = lines.filter(pl.col("order_id") == "2218765432109876543")
    # one order of three sub-orders, each with its own amount owed (the line's total) and the
    # discount that makes it up; the order's shipping once per line, as carried
    assert multi["line_total"].to_list() == ["1199.00", "79.80", "30.00"]
    assert multi["discount_amount"].to_list() == ["100.00", "0.00", "15.00"]
    assert multi["line_no"].to_list() == ["1", "2", "3"]
    assert set(multi["buyer_id"]) == {"茶山小雅"} and multi["order_total"].is_null().all()

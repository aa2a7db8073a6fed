"""`ordermill mappings ...` through the installed console script: exit codes, output, and
the README's "Add a new channel" walk-through, run as written."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import tomllib
from pathlib import Path

import pytest
from conftest import MAPPINGS, ROOT, SAMPLES, run_cli

from ingest.errors import MappingError
from ingest.mapping.loader import load_mapping, parse_mapping

TMALL = SAMPLES.parent / "tests" / "fixtures" / "tmall-combined.csv"
SHOPIFY = SAMPLES / "shopify" / "orders_export_1.csv"
ETSY = ROOT / "tests" / "fixtures" / "etsy-sold-order-items.csv"


def copy_mappings(tmp_path: Path) -> Path:
    directory = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, directory)
    return directory


def test_list_shows_channels_and_signatures() -> None:
    result = run_cli("mappings", "list")
    assert result.returncode == 0, result.stderr
    assert "tmall" in result.stdout and "订单编号, 买家会员名" in result.stdout
    assert "Financial Status" in result.stdout and "Traceback" not in result.stderr
    rows = json.loads(run_cli("mappings", "list", "--json").stdout)
    assert {r["channel"] for r in rows} >= {"tmall", "shopify"}
    tmall = next(r for r in rows if r["mapping"] == "tmall-orders")  # (a channel has layouts)
    assert tmall["header_contains"][0] == "订单编号"


def test_list_honours_the_config_setting(tmp_path: Path) -> None:
    directory = tmp_path / "mine"
    directory.mkdir()
    shutil.copy(MAPPINGS / "tmall.toml", directory / "tmall.toml")
    config = tmp_path / "ordermill.toml"
    config.write_text('mappings_dir = "mine"\n', encoding="utf-8")
    rows = json.loads(run_cli("mappings", "list", "--json", "--config", str(config)).stdout)
    assert [r["channel"] for r in rows] == ["tmall"]


def test_check_all_fine_is_one_line() -> None:
    result = run_cli("mappings", "check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == [result.stdout.strip()]
    assert "OK" in result.stdout and "tmall" in result.stdout


def test_check_reports_every_problem_of_a_file(tmp_path: Path) -> None:
    text = (MAPPINGS / "tmall.toml").read_text(encoding="utf-8")
    text = text.replace('order_id = "订单编号"', 'oder_id = "订单编号"')
    text = text.replace('encoding = "auto"', 'encoding = "gb1803"')
    text = text.replace('"交易成功" = "completed"', '"交易成功" = "complete"')
    text = re.sub(r'(?m)^quantity = .*$', "", text)
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    result = run_cli("mappings", "check", str(bad))
    assert result.returncode == 2
    err = result.stderr
    assert "reader.encoding: unknown encoding 'gb1803' (did you mean 'gb18030'?)" in err
    assert "fields.oder_id: is not a field of the standard schema (did you mean " \
        "'order_id'?)" in err
    assert "values.order_status.'交易成功': 'complete' is not a status" in err
    assert "required field 'quantity' is not mapped" in err
    assert "required field 'order_id'" not in err  # the typo is not reported twice
    assert "4 problem(s) in 1 of 1 mapping file(s)" in err and "Traceback" not in err


def test_check_finds_the_key_from_the_error_data_not_its_message(tmp_path: Path) -> None:
    # A field name with a dot in it: read back out of the message text, the key
    # fields.order.id pointed at nothing, so the check stopped there and hid the problems
    # after it. The error's keys are ("fields", "order.id").
    text = (MAPPINGS / "tmall.toml").read_text(encoding="utf-8")
    text = text.replace('order_id = "订单编号"', '"order.id" = "订单编号"')
    text = text.replace('"交易成功" = "completed"', '"交易成功" = "complete"')
    text = re.sub(r'(?m)^quantity = .*$', "", text)
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_mapping(bad)
    error = caught.value
    assert (error.keys, error.suggestion, error.missing) == (
        ("fields", "order.id"), "order_id", None)
    assert str(error) == f"{bad}: fields.order.id: is not a field of the standard schema " \
        "(did you mean 'order_id'?)"
    result = run_cli("mappings", "check", str(bad))
    err = result.stderr
    assert result.returncode == 2
    assert "fields.order.id: is not a field of the standard schema (did you mean " \
        "'order_id'?)" in err
    assert "values.order_status.'交易成功': 'complete' is not a status" in err
    assert "required field 'quantity' is not mapped" in err
    assert "required field 'order_id'" not in err  # checked on under the name it meant
    assert "3 problem(s) in 1 of 1 mapping file(s)" in err


def test_mapping_errors_carry_what_is_missing_as_data(tmp_path: Path) -> None:
    data = tomllib.loads((MAPPINGS / "tmall.toml").read_text(encoding="utf-8"))
    del data["fields"]["quantity"]
    with pytest.raises(MappingError) as caught:
        parse_mapping(data, "tmall.toml")
    assert (caught.value.key, caught.value.keys, caught.value.missing) == (
        "fields", ("fields",), "quantity")
    data["fields"]["quantity"] = {"cases": ["not a table"]}
    with pytest.raises(MappingError) as caught:
        parse_mapping(data, "tmall.toml")
    assert (caught.value.key, caught.value.keys) == (
        "fields.quantity.cases[0]", ("fields", "quantity", "cases", 0))


def test_check_invalid_toml_and_duplicate_channels(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text("channel = 'x\n", encoding="utf-8")
    shutil.copy(MAPPINGS / "tmall.toml", tmp_path / "b.toml")
    shutil.copy(MAPPINGS / "tmall.toml", tmp_path / "c.toml")
    result = run_cli("mappings", "check", str(tmp_path))
    assert result.returncode == 2
    assert "a.toml: is not valid TOML" in result.stderr
    assert "c.toml: layout: channel 'tmall', layout 'default' is also read by" in result.stderr


def test_check_warns_when_two_signatures_match_one_header(tmp_path: Path) -> None:
    directory = copy_mappings(tmp_path)
    loose = (MAPPINGS / "tmall.toml").read_text(encoding="utf-8")
    loose = loose.replace('channel = "tmall"', 'channel = "taobao"').replace(
        'header_contains = ["订单编号", "买家会员名", "订单状态", "宝贝标题", "购买数量"]',
        'header_contains = ["订单编号", "订单状态"]')
    (directory / "taobao.toml").write_text(loose, encoding="utf-8")
    result = run_cli("mappings", "check", "--mappings", str(directory))
    assert result.returncode == 0
    assert "warning:" in result.stderr and "taobao" in result.stderr
    assert "detect picks tmall" in result.stderr


def test_detect_names_the_channel_and_the_evidence() -> None:
    result = run_cli("mappings", "detect", str(TMALL))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "channel tmall" in out and "header on row 2" in out and "gb18030" in out
    assert "订单编号 (column 1)" in out
    body = json.loads(run_cli("mappings", "detect", str(SHOPIFY), "--json").stdout)
    assert body["channel"] == "shopify" and body["delimiter"] == ","
    assert body["signature"][0]["name"] == "Name"


def test_detect_no_match_exits_3_with_near_misses(tmp_path: Path) -> None:
    lines = SHOPIFY.read_text(encoding="utf-8").splitlines()
    odd = tmp_path / "odd.csv"
    header = lines[0].replace("Financial Status", "Payment State")
    odd.write_text("\n".join([header, *lines[1:4]]) + "\n", encoding="utf-8")
    result = run_cli("mappings", "detect", str(odd))
    assert result.returncode == 3
    assert "no mapping recognises this file" in result.stderr
    assert "nearest: shopify: 3 of 4 signature columns; lacks Financial Status" in \
        result.stderr
    assert "ordermill mappings suggest" in result.stderr and "Traceback" not in result.stderr


def test_detect_unreadable_file_exits_3(tmp_path: Path) -> None:
    result = run_cli("mappings", "detect", str(tmp_path / "missing.csv"))
    assert result.returncode == 3 and "no such file" in result.stderr


def test_suggest_prints_a_draft_that_check_accepts(tmp_path: Path) -> None:
    result = run_cli("mappings", "suggest", str(ETSY), "--channel", "etsy")
    assert result.returncode == 0, result.stderr
    assert 'channel = "etsy"' in result.stdout and "[detect]" in result.stdout
    draft = tmp_path / "etsy.toml"
    draft.write_text(result.stdout, encoding="utf-8")
    assert run_cli("mappings", "check", str(draft)).returncode == 0


def test_suggest_refuses_to_overwrite_and_bad_names(tmp_path: Path) -> None:
    out = tmp_path / "x.toml"
    out.write_text("keep me", encoding="utf-8")
    result = run_cli("mappings", "suggest", str(ETSY), "--out", str(out))
    assert result.returncode == 2 and "--force" in result.stderr
    assert out.read_text(encoding="utf-8") == "keep me"
    result = run_cli("mappings", "suggest", str(ETSY), "--channel", "My Shop")
    assert result.returncode == 2 and "lower-case" in result.stderr
    result = run_cli("mappings", "suggest", str(tmp_path / "nope.csv"))
    assert result.returncode == 3 and "Traceback" not in result.stderr


def test_preview_shows_rows_and_rejects_and_writes_nothing(tmp_path: Path) -> None:
    result = run_cli("mappings", "preview", str(TMALL), "--rows", "3", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "channel tmall" in out and "14 rows: 8 clean, 6 rejected" in out
    assert "1 warnings" in out and "masked-contact" in out
    assert "first 3 clean rows" in out and "order_id" in out
    assert "invalid-date" in out or "missing-required" in out
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no out dir
    assert not (tmp_path / "state").exists()  # and no ledger


def test_preview_with_a_mapping_file_and_unknown_channel(tmp_path: Path) -> None:
    result = run_cli("mappings", "preview", str(SHOPIFY), "--mapping",
                     str(MAPPINGS / "shopify.toml"), "--rows", "2")
    assert result.returncode == 1 and "first 2 clean rows" in result.stdout
    result = run_cli("mappings", "preview", str(SHOPIFY), "--mapping", "nosuch")
    assert result.returncode == 2 and "unknown channel or mapping 'nosuch'" in result.stderr


def test_every_mappings_command_has_help_with_examples() -> None:
    for command in ("list", "check", "detect", "suggest", "preview"):
        result = run_cli("mappings", command, "--help")
        assert result.returncode == 0 and "Examples:" in result.stdout, command


# The README walk-through, as written ------------------------------------------------------

def readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("## Add a new channel", 1)[1].split("\n## ", 1)[0]


def readme_blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", readme_section(), flags=re.S)


def apply_diff(draft: str, diff: str) -> str:
    """The README's edit: ` [section]` context lines locate, `-key = ...` removes that key's
    line in the section, `+line` puts a line in its place (or at the section's end)."""
    lines = draft.splitlines()
    section = ""
    at: int | None = None
    for entry in diff.splitlines():
        mark, body = entry[:1], entry[1:]
        if mark == " " and body.startswith("["):
            section = body.strip()
            start = lines.index(section)
            end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")),
                       len(lines))
            at = None
        elif mark == "-":
            key = body.split("=", 1)[0].strip()
            at = next(i for i in range(start, end) if re.match(rf"#?\s*{key}\s*=", lines[i]))
            del lines[at]
            end -= 1
        elif mark == "+":
            position = at if at is not None else end
            lines.insert(position, body)
            end += 1
            at = position + 1
    return "\n".join(lines) + "\n"


def test_readme_walkthrough_adds_a_channel(tmp_path: Path) -> None:
    """A file of a channel ordermill does not ship, the README's commands in order, the
    README's edits: it ends in a clean ingest."""
    commands = [shlex.split(line) for block in readme_blocks("sh")
                for line in block.splitlines() if line.startswith("ordermill ")]
    assert [c[1:3] for c in commands] == [["mappings", "suggest"], ["mappings", "check"],
                                         ["mappings", "detect"], ["mappings", "preview"],
                                         ["ingest", "etsy-orders.csv"]]
    (edits,) = readme_blocks("diff")
    copy_mappings(tmp_path)
    shutil.copy(ETSY, tmp_path / "etsy-orders.csv")
    results = []
    for index, command in enumerate(commands):
        result = run_cli(*command[1:], cwd=tmp_path)
        results.append(result)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        if index == 0:
            draft = tmp_path / "mappings" / "etsy.toml"
            draft.write_text(apply_diff(draft.read_text(encoding="utf-8"), edits),
                             encoding="utf-8")
            assert "America/New_York" in draft.read_text(encoding="utf-8")
            assert "line_total" not in draft.read_text(encoding="utf-8").split(
                "[fields]")[1].split("\n\n")[0]
    assert "channel etsy" in results[2].stdout
    assert "4 rows: 4 clean, 0 rejected" in results[3].stdout
    assert "4 lines: 4 clean, 0 rejected" in results[4].stderr
    orders = next((tmp_path / "out").glob("*/orders.csv")).read_text(encoding="utf-8")
    assert "2987654322" in orders and "America" not in orders

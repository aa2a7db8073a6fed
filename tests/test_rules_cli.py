"""The order rules' commands through the installed console script: `rules check` and
`rules preview`, `--rules` on a run, `holds list/approve`, `merges list/undo`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, run_cli
from test_rules import REFERENCE_CONFIG, write_order_sheet

RULES = ROOT / "rules"


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """The order sheet of tests/test_rules.py, its reference data, and a config that names
    no rules (they come with --rules) but merges repeat orders."""
    write_order_sheet(tmp_path)
    (tmp_path / "ordermill.toml").write_text(REFERENCE_CONFIG, encoding="utf-8")
    return tmp_path


def cli(folder: Path, *args: str) -> tuple[int, str, str]:
    result = run_cli(*args, "--config", str(folder / "ordermill.toml"), cwd=folder)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout, result.stderr


def ingested(folder: Path, *rules: Path) -> dict:  # type: ignore[type-arg]
    code, out, err = cli(folder, "ingest", "po.csv", "--out", "out", "--json",
                         *[a for r in rules for a in ("--rules", str(r))])
    assert code in (0, 1), err  # (1: rows rejected, by the rules here)
    return json.loads(out)  # type: ignore[no-any-return]


def test_rules_check_exits_2_with_the_rule_the_position_and_a_suggestion(
        tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\nname = "urgent"\naction = "flag"\nflag = "urgent"\n'
                   'when = "starts_with(skuu, \\"FJ\\")"\n', encoding="utf-8")
    result = run_cli("rules", "check", str(bad))
    assert result.returncode == 2
    assert f"{bad}: rule 'urgent': unknown field 'skuu' (did you mean 'sku'?) " \
           "(at character 13 of `when`)" in result.stderr
    pointer = result.stderr.splitlines()
    at = next(i for i, line in enumerate(pointer) if 'starts_with(skuu, "FJ")' in line)
    assert pointer[at + 1].index("^") == pointer[at].index("skuu")  # (under the typo)
    assert "Traceback" not in result.stderr
    good = run_cli("rules", "check", str(RULES))
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip().endswith(
        "10 rule(s) OK in 5 file(s)")


def test_rules_preview_on_an_export_lists_hits_and_writes_nothing(folder: Path) -> None:
    code, out, err = cli(folder, "rules", "preview", str(RULES), "--on", "po.csv", "--json")
    assert code == 0, err
    hits = {h["rule"]: h["rows"] for h in json.loads(out)["hits"]}
    assert hits["out-of-stock"] == [7] and hits["credit-low"] == [2, 3]
    code, out, err = cli(folder, "rules", "preview", str(RULES / "flags.toml"), "--on",
                         "po.csv")
    assert code == 0, err
    assert "urgent-fj" in out and "rows 2, 14" in out and "out-of-stock" not in out
    assert not (folder / "out").exists() and not (folder / "state").exists()


def test_the_rules_option_runs_those_rules_instead_of_the_configured_ones(
        folder: Path) -> None:
    assert ingested(folder)["manifest"].get("rules", {}).get("files") is None  # (none set)
    text = (folder / "ordermill.toml").read_text(encoding="utf-8")
    (folder / "ordermill.toml").write_text(f'rules = ["{RULES}"]\n' + text, encoding="utf-8")
    (folder / "po.csv").write_text((folder / "po.csv").read_text(encoding="utf-8") + "\n",
                                   encoding="utf-8")  # (new bytes: read again)
    only = ingested(folder, RULES / "flags.toml", RULES / "stock.toml")
    assert only["manifest"]["rules"]["files"] == [str(RULES / "flags.toml"),
                                                  str(RULES / "stock.toml")]
    assert {c["rule"] for c in only["manifest"]["rules"]["counts"]} <= {
        "urgent-fj", "bom-check", "gsp-certificate", "out-of-stock"}


def test_holds_list_and_approve_release_a_held_order_once(folder: Path) -> None:
    ingested(folder, RULES)
    code, out, err = cli(folder, "holds", "list", "--json")
    assert code == 0, err
    [hold] = json.loads(out)
    assert (hold["order_id"], hold["rule"], hold["status"]) == ("A1", "credit-low", "pending")
    code, out, err = cli(folder, "holds", "approve", hold["hold_id"], "--by", "Li Na",
                         "--out", "out")
    assert code == 0, err
    assert f"{hold['hold_id']}: approved" in out and "2 released by approval" in err
    code, out, err = cli(folder, "holds", "approve", hold["hold_id"], "--by", "Li Na")
    assert code == 1 and f"{hold['hold_id']}: not approved: already released" in err
    code, out, _ = cli(folder, "holds", "list")
    assert "released by Li Na in batch" in out and "credit-low (approver: sales-manager)" in out
    code, _, err = cli(folder, "holds", "approve", "--by", "Li Na")
    assert code == 2 and "name hold ids, or --file" in err


def test_merges_list_and_undo(folder: Path) -> None:
    ingested(folder, RULES)
    code, out, err = cli(folder, "merges", "list", "--json")
    assert code == 0, err
    groups = {g["merge_group"]: g for g in json.loads(out)["merges"]}
    assert groups["ops-po:A2"]["orders"] == ["ops-po:A2", "ops-po:A6", "ops-po:A9"]
    code, out, err = cli(folder, "merges", "undo", "ops-po:A2", "--by", "Li Na", "--reason",
                         "two shipments wanted")
    assert code == 0 and "ops-po:A2: undone" in out, err
    code, _, err = cli(folder, "merges", "undo", "ops-po:A2", "--by", "Li Na")
    assert code == 0 and "was undone before" in err
    code, out, _ = cli(folder, "merges", "list")
    assert "ops-po:A2" in out and "UNDONE by Li Na" in out

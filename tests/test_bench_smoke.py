"""The benchmark scripts run, on tiny data (benchmarks are not tests: no time is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_suite_and_compare_run_on_tiny_data(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "bench/run.py", "--rows", "3000", "--xlsx-rows", "300", "--runs", "1",
         "--xlsx-runs", "1", "--decode-runs", "2", "--folder-files", "40",
         "--results", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    tools = {(r["workload"], r["tool"]) for r in results["results"]}
    assert ("tmall-3k", "bare polars") in tools and ("xlsx-300", "bare calamine") in tools
    assert ("tmall-3k", "pandas + pandera") in tools
    # Many small inputs: one run over a drop folder, the same on 20 of them, a bare loop.
    assert {("folder-40", "ordermill"), ("folder-40", "ordermill, 20 inputs"),
            ("folder-40", "bare loop")} <= tools
    # The reference did the same work as ordermill, or the suite would have stopped.
    assert "same clean/rejected counts" in run.stdout
    report = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert "| tmall-3k | ordermill / bare polars |" in report
    assert "| folder-40 | ordermill / bare loop |" in report
    assert "| folder-40 | ordermill, each input more (less the run of 20) | 20 |" in report
    # GB18030: what decoding adds (against the UTF-8 twin, run in turn) over iconv's time
    assert "| tmall-3k-gb18030 | decoding (ordermill GB18030 - UTF-8) / iconv decode |" in report
    assert ("| tmall-3k-gb18030 | decoding CPU (ordermill GB18030 - UTF-8) / iconv decode CPU |"
            in report)
    decoding = [r for r in results["results"] if r["workload"] == "tmall-3k-gb18030"
                and r["tool"] != "pandas + pandera"]
    assert {r["runs"] for r in decoding} == {2} and all(len(r["samples"]) == 2
                                                         for r in decoding)
    # results saved before runs were kept (no samples, no CPU) still compare
    old = dict(results, results=[{k: v for k, v in r.items()
                                  if k not in ("samples", "cpu_samples", "cpu_seconds")}
                                 for r in results["results"]])
    (tmp_path / "old.json").write_text(json.dumps(old), encoding="utf-8")
    against_old = subprocess.run([sys.executable, "bench/compare.py", str(tmp_path / "old.json"),
                                  str(tmp_path / "results.json")], cwd=ROOT,
                                 capture_output=True, text=True)
    assert not against_old.stderr  # (it exits 1 when a ratio got worse, as it may here)
    assert "decoding (ordermill GB18030 - UTF-8) / iconv decode" in against_old.stdout
    same = subprocess.run([sys.executable, "bench/compare.py", str(tmp_path / "results.json"),
                           str(tmp_path / "results.json")], cwd=ROOT, capture_output=True,
                          text=True)
    assert same.returncode == 0 and "same" in same.stdout


def test_po_attachments_are_the_same_every_time_and_read_as_their_senders_layouts(
        tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from attachments import BAD_EVERY, attachments

    files = attachments(BAD_EVERY, seed=3)
    assert files == attachments(BAD_EVERY, seed=3) != attachments(BAD_EVERY, seed=4)
    assert len({name for name, _ in files}) == BAD_EVERY
    assert {name.rsplit(".", 1)[1] for name, _ in files} == {"xlsx", "csv"}
    for name, data in files:
        (tmp_path / name).write_bytes(data)
    from ingest.api import ingest

    report = ingest([tmp_path], tmp_path / "out", state_dir=tmp_path / "state")
    assert report.manifest is not None and not report.unreadable
    inputs = report.manifest["inputs"]
    assert {i["channel"] for i in inputs} == {"po-acme", "po-huaxin"}
    assert all(5 <= i["rows_in"] <= 20 for i in inputs)
    # One file in BAD_EVERY holds a bad line: its order is rejected whole; the rest clean.
    assert sorted(i["rejected"] > 0 for i in inputs) == [False] * (BAD_EVERY - 1) + [True]
    assert all(i["clean"] == i["rows_in"] for i in inputs if not i["rejected"])

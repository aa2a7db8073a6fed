"""Crash safety: a run killed with SIGKILL at any moment leaves a complete batch with its
ledger entry or no trace, and the next run outputs every line exactly once.

Two ways of killing: at each named step of publishing (ORDERMILL_CRASH_AT, deterministic),
and after a spread of delays while a larger run is under way (whatever it was doing)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import polars as pl
import pytest
from conftest import MAPPINGS, ORDERMILL, SAMPLES

from bench.generate import frame as tmall_frame
from ingest.api import ingest

STEPS = ["prepared", "keys-written", "staged", "pending", "published", "committed", "moved"]


def setup(tmp_path: Path, big: bool = False) -> Path:
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(SAMPLES.parent / "tests" / "fixtures" / "tmall-combined.csv", drop / "tmall.csv")
    shutil.copy(SAMPLES / "shopify" / "orders_export_1.csv", drop / "shopify.csv")
    if big:
        tmall_frame(20_000).write_csv(drop / "big.csv")
    config = tmp_path / "ordermill.toml"
    config.write_text('out_dir = "out"\nstate_dir = "state"\n[[sources]]\nname = "drop"\n'
                      'path = "drop"\n', encoding="utf-8")
    return config


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ORDERMILL_")}
    return {**base, **extra}


def run(config: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ORDERMILL), "run", "--config", str(config)], cwd=config.parent,
                          capture_output=True, text=True, env=env(**extra), timeout=600)


def published(out: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every order line and reject in every published batch."""
    batches = sorted(p for p in out.iterdir()) if out.exists() else []
    assert all(not p.name.startswith(".") for p in batches), "a half-written batch is visible"
    for batch in batches:
        assert (batch / "manifest.json").is_file(), f"{batch} has no manifest"
    orders = [pl.read_csv(b / "orders.csv", infer_schema=False) for b in batches]
    rejects = [pl.read_csv(b / "rejects.csv", infer_schema=False).select(
        "source_row", "channel", "codes") for b in batches]
    return (pl.concat(orders) if orders else pl.DataFrame(),
            pl.concat(rejects) if rejects else pl.DataFrame())


def reference(tmp_path: Path, big: bool = False) -> tuple[pl.DataFrame, pl.DataFrame]:
    (tmp_path / "reference").mkdir()
    config = setup(tmp_path / "reference", big)
    assert run(config).returncode in (0, 1)
    return published(config.parent / "out")


def assert_exactly_once(config: Path, expected: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    orders, rejects = published(config.parent / "out")
    keys = ["channel", "order_id", "line_no"]
    counts = orders.group_by(keys).len()
    assert counts["len"].max() == 1, "a line was output twice"
    assert set(orders["change_type"].unique()) == {"new"}
    assert sorted(orders.select(keys).rows()) == sorted(expected[0].select(keys).rows())
    assert sorted(rejects.rows()) == sorted(expected[1].rows()), "rejects lost or doubled"
    # The ledger agrees: one more run finds nothing new and publishes nothing.
    before = sorted(p.name for p in (config.parent / "out").iterdir())
    again = run(config)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in (config.parent / "out").iterdir()) == before


@pytest.mark.parametrize("step", STEPS)
def test_killed_at_each_step_then_rerun_outputs_every_line_once(tmp_path: Path,
                                                                 step: str) -> None:
    expected = reference(tmp_path)
    (tmp_path / "case").mkdir()
    config = setup(tmp_path / "case")
    killed = run(config, ORDERMILL_CRASH_AT=step)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    rerun = run(config)
    assert rerun.returncode in (0, 1), rerun.stderr
    assert_exactly_once(config, expected)


def test_killed_at_random_moments_then_rerun_outputs_every_line_once(tmp_path: Path) -> None:
    expected = reference(tmp_path, big=True)
    rng = random.Random(20261122)
    delays = sorted(rng.uniform(0.3, 4.0) for _ in range(6))
    for attempt, delay in enumerate(delays):
        case = tmp_path / f"case{attempt}"
        case.mkdir()
        config = setup(case, big=True)
        process = subprocess.Popen([str(ORDERMILL), "run", "--config", str(config)],
                                   cwd=case, env=env(), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        rerun = run(config)
        assert rerun.returncode in (0, 1), (delay, rerun.stderr)
        assert_exactly_once(config, expected)


def test_bench_generator_makes_a_tmall_export_ordermill_reads(tmp_path: Path) -> None:
    # The big crash run's input comes from bench.generate (imported above): it must stay a
    # file detection recognises as Tmall, the same on every call (runs are compared with
    # each other), mostly clean with a few rejected lines; else the crash test kills runs
    # that do little.
    assert tmall_frame(400).equals(tmall_frame(400))
    big = tmp_path / "big.csv"
    tmall_frame(400).write_csv(big)
    report = ingest([big], tmp_path / "out", state_dir=tmp_path / "state",
                    mappings_dir=MAPPINGS)
    assert report.manifest is not None
    (entry,) = report.manifest["inputs"]
    assert (entry["channel"], entry["rows_in"]) == ("tmall", 400)
    assert 0 < entry["rejected"] < 40 and entry["clean"] + entry["rejected"] == 400

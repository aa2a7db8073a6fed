"""Every way a run can end is said plainly: the documented exit code, a message naming what
is wrong, and the ledger's record of the run (``ordermill history``). Real conditions where
the machine allows them: a full disk is a small tmpfs, an unreadable file is read by an
unprivileged user."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
from conftest import ORDERMILL, SAMPLES, run_cli

import ingest.reading as reading_module
import ingest.runs as runs_module
import ingest.together as together_module
from ingest import api, early
from ingest.config import load_settings
from ingest.errors import EnvironmentFailure, ExitCode, writing_to

TMALL = SAMPLES.parent / "tests" / "fixtures" / "tmall-combined.csv"
SHOPIFY = SAMPLES / "shopify" / "orders_export_1.csv"


def config_with(tmp_path: Path, *folders: str) -> Path:
    config = tmp_path / "ordermill.toml"
    config.write_text('out_dir = "out"\nstate_dir = "state"\n' + "".join(
        f'\n[[sources]]\nname = "{name}"\npath = "{name}"\n' for name in folders),
        encoding="utf-8")
    return config


def history(state: Path) -> str:
    listed = run_cli("history", "--state-dir", str(state))
    assert listed.returncode == 0, listed.stderr
    return listed.stdout


def test_a_source_folder_that_is_not_there_is_named_not_a_quiet_night(tmp_path: Path) -> None:
    config = config_with(tmp_path, "drop", "gone")
    (tmp_path / "drop").mkdir()
    shutil.copy(TMALL, tmp_path / "drop" / "export.csv")
    result = run_cli("run", "--config", str(config), cwd=tmp_path)
    assert result.returncode == ExitCode.SOURCE_UNREACHABLE, result.stderr
    assert f"cannot list source gone: {tmp_path / 'gone'} does not exist" in result.stderr
    assert "14 lines" in result.stderr  # the other source was read
    assert "[exit 5]" in history(tmp_path / "state")


def test_a_full_disk_is_an_environment_error_naming_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(out)],
                             capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        (out / "filler").write_bytes(b"\0" * (60 << 10))
        state = tmp_path / "state"
        result = run_cli("ingest", str(TMALL), str(SHOPIFY), "--out", str(out),
                         "--state-dir", str(state))
        assert result.returncode == ExitCode.ENVIRONMENT == 74, result.stderr
        assert f"cannot write to {out}: No space left on device" in result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
        assert sorted(p.name for p in out.iterdir()) == ["filler"]  # no half batch
        assert "[exit 74]  stopped: cannot write to" in history(state)
        # Room again: the same files go through in full, once.
        (out / "filler").unlink()
        again = run_cli("ingest", str(TMALL), str(SHOPIFY), "--out", str(out),
                        "--state-dir", str(state))
        assert again.returncode == ExitCode.REJECTS, again.stderr
        assert "28 lines" in again.stderr
    finally:
        subprocess.run(["umount", str(out)], check=False)


def test_environment_failures_name_the_folder_in_the_words_of_every_writer() -> None:
    full = OSError(28, "No space left on device")
    with pytest.raises(EnvironmentFailure, match=r"cannot write to /x: No space left"), \
            writing_to("/x"):
        raise full
    polars_full = pl.exceptions.ComputeError(
        "parquet: underlying IO error: No space left on device (os error 28)")
    with pytest.raises(EnvironmentFailure, match=r"cannot write to /x: .*\(os error 28\)"), \
            writing_to("/x"):
        raise polars_full
    with pytest.raises(ValueError, match="a bug"), writing_to("/x"):  # stays a bug
        raise ValueError("a bug")


def test_a_run_that_fails_on_a_bug_is_finished_in_the_ledger(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("something ordermill did not expect")

    monkeypatch.setattr(runs_module, "finish", broken)
    with pytest.raises(RuntimeError):
        api.ingest([TMALL], tmp_path / "out", state_dir=tmp_path / "state")
    runs = api.history(load_settings({"state_dir": str(tmp_path / "state")}, None, {}))
    assert runs[0]["exit_code"] == ExitCode.INTERNAL
    assert runs[0]["summary"] == {"error": "RuntimeError: something ordermill did not expect"}


def test_a_file_written_to_while_it_is_read_waits_for_the_next_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The ledger knows an input by the sha256 of its bytes: a file that changes while it is
    # read and hashed (still being copied in) is not ingested half; it stays in its folder.
    config = config_with(tmp_path, "drop")
    (tmp_path / "drop").mkdir()
    growing = tmp_path / "drop" / "export.csv"
    shutil.copy(TMALL, growing)
    real = reading_module.detect

    def appended_meanwhile(*args: object, **kwargs: object) -> object:
        with growing.open("ab") as handle:
            handle.write(b"\n")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(reading_module, "detect", appended_meanwhile)
    # (the write is injected into this process's detection: the parser's process, which
    # would recognise the CSV ahead, is not asked to)
    monkeypatch.setattr(early, "read_ahead", lambda *args: None)
    settings = load_settings({}, str(config), {})
    report = api.run(settings)
    assert [(u["path"], u["code"]) for u in report.unreadable] == [
        (str(growing), "changed-during-run")]
    assert report.exit_code == ExitCode.UNREADABLE and growing.is_file()  # left, not moved
    monkeypatch.setattr(reading_module, "detect", real)
    again = api.run(settings)
    assert again.manifest and again.manifest["totals"]["rows_in"] == 14
    assert not growing.exists()  # archived, once read whole


def without_override(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The console script run as root without the capabilities that let root read and
    write past file permissions (dac_override, dac_read_search), as an unprivileged user
    would be: the files' own permissions apply."""
    return subprocess.run(
        ["setpriv", "--bounding-set=-dac_override,-dac_read_search", str(ORDERMILL), *args],
        capture_output=True, text=True, cwd=cwd, timeout=300, check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("ORDERMILL_")})


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv to drop the permission override")
def test_an_unreadable_file_is_exit_3_named_and_the_others_are_read(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    locked, fine = inputs / "locked.csv", inputs / "fine.csv"
    shutil.copy(TMALL, locked)
    shutil.copy(SHOPIFY, fine)
    locked.chmod(0)
    closed = tmp_path / "closed"  # a folder that cannot even be entered
    closed.mkdir()
    hidden = closed / "hidden.csv"
    shutil.copy(TMALL, hidden)
    closed.chmod(0)
    try:
        runs = [[str(locked), str(fine)], [str(inputs)], [str(hidden), str(fine)]]
        for number, given in enumerate(runs):
            result = without_override("ingest", *given, "--out", str(tmp_path / "out"),
                                      "--state-dir", str(tmp_path / f"state-{number}"),
                                      cwd=tmp_path)
            assert result.returncode == ExitCode.UNREADABLE, result.stderr
            unreadable = hidden if number == 2 else locked
            assert f"cannot read {unreadable}: cannot be opened: Permission denied" \
                in result.stderr
            assert "14 lines" in result.stderr  # fine.csv was read
        # A state folder that cannot be written: named, exit 74, nothing done.
        read_only = tmp_path / "read-only"
        read_only.mkdir(mode=0o500)
        read_only.chmod(0o500)
        result = without_override("ingest", str(fine), "--out", str(tmp_path / "out"),
                                  "--state-dir", str(read_only / "state"), cwd=tmp_path)
        assert result.returncode == ExitCode.ENVIRONMENT, result.stderr
        assert f"cannot write to {read_only / 'state'}: Permission denied" in result.stderr
    finally:
        closed.chmod(0o700)


def test_a_config_error_never_shows_the_value(tmp_path: Path) -> None:
    config = tmp_path / "ordermill.toml"
    config.write_text('out_dir = { password = "hunter2-secret" }\n', encoding="utf-8")
    result = run_cli("run", "--config", str(config), cwd=tmp_path)
    assert result.returncode == ExitCode.USAGE
    assert "out_dir: must be a string, not a table" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    config.write_text('format = "hunter2-secret"\n', encoding="utf-8")
    result = run_cli("run", "--config", str(config), cwd=tmp_path)
    assert result.returncode == ExitCode.USAGE and "unknown format" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


def test_a_source_column_named_like_a_lead_column_of_the_rejects(tmp_path: Path) -> None:
    # Our own rejects.csv fed back in (or any export with a "source" or "codes" column): its
    # columns sit beside the lead columns, renamed, and the run goes on.
    text = SHOPIFY.read_text(encoding="utf-8").splitlines()
    rows = [text[0] + ",source,codes"] + [line + ",x,y" for line in text[1:] if line]
    export = tmp_path / "shopify-with-extras.csv"
    export.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = api.ingest([export], tmp_path / "out", state_dir=tmp_path / "state")
    assert report.manifest and report.manifest["totals"]["rejected"] > 0 and report.batch_dir
    rejects = pl.read_csv(report.batch_dir / "rejects.csv", infer_schema=False)
    assert rejects.columns[:5] == ["source", "source_row", "channel", "codes", "messages"]
    assert {"source (as read)", "codes (as read)"} <= set(rejects.columns)
    assert set(rejects["source"]) == {str(export)} and set(rejects["codes (as read)"]) == {"y"}


def test_a_reader_failing_on_one_input_quarantines_it_and_the_run_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A failure no code foresaw (a library's error on an odd shape, memory it could not
    # get) is that input's: quarantined with the error; the other inputs are published.
    config = config_with(tmp_path, "drop")
    (tmp_path / "drop").mkdir()
    odd, fine = tmp_path / "drop" / "odd.csv", tmp_path / "drop" / "fine.csv"
    shutil.copy(SHOPIFY, fine)
    odd.write_bytes(TMALL.read_bytes())
    real = reading_module.map_and_check

    def fails_on_odd(shaped: object, *args: object, **kwargs: object) -> object:
        if "odd.csv" in shaped.table.name:  # type: ignore[attr-defined]
            raise pl.exceptions.ComputeError("an error no one foresaw\nsecond line")
        return real(shaped, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(reading_module, "map_and_check", fails_on_odd)
    monkeypatch.setattr(together_module, "map_and_check", fails_on_odd)  # (small inputs)
    report = api.run(load_settings({}, str(config), {}))
    assert report.unreadable == [{
        "path": str(odd), "code": "reader-failed",
        "reason": "could not be read: ComputeError: an error no one foresaw"}]
    assert report.exit_code == ExitCode.UNREADABLE
    assert report.manifest and report.manifest["totals"]["clean"] > 0  # fine.csv published
    assert (tmp_path / "quarantine" / "drop" / "odd.csv.reason.txt").is_file()

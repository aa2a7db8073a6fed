"""The nightly job as cron runs it: `ordermill run` over configured folder sources, with
archive, quarantine, the lock, structured logs, history and every exit code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from importlib.metadata import entry_points, version
from pathlib import Path

import pytest
from conftest import MAPPINGS, ORDERMILL, SAMPLES, run_cli

import ingest.bundled as bundled_module
from ingest import api, early
from ingest.config import bundled_mappings_dir, load_settings
from ingest.errors import UsageError
from ingest.inputs import Input
from ingest.readers import READERS
from ingest.sources import GivenPaths, configured

TMALL = SAMPLES.parent / "tests" / "fixtures" / "tmall-combined.csv"
SHOPIFY = SAMPLES / "shopify" / "orders_export_1.csv"


def setup(tmp_path: Path) -> Path:
    """A config with two folder sources, as ops would write it; returns the config path."""
    (tmp_path / "drop" / "tmall").mkdir(parents=True)
    (tmp_path / "drop" / "shopify").mkdir(parents=True)
    config = tmp_path / "ordermill.toml"
    config.write_text(
        'out_dir = "out"\nstate_dir = "state"\narchive_dir = "archive"\n'
        'quarantine_dir = "quarantine"\n\n'
        '[[sources]]\nname = "tmall-shop"\npath = "drop/tmall"\npatterns = ["*.csv"]\n'
        'channel = "tmall"\n\n'
        '[[sources]]\nname = "shopify"\npath = "drop/shopify"\n', encoding="utf-8")
    return config


def cli(config: Path, *args: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("ORDERMILL_")}
    return run_cli(*args, "--config", str(config), cwd=config.parent, env={**full, **(env or {})})


def test_run_ingests_archives_and_quarantines(tmp_path: Path) -> None:
    config = setup(tmp_path)
    shutil.copy(TMALL, tmp_path / "drop/tmall/export.csv")
    shutil.copy(SHOPIFY, tmp_path / "drop/shopify/orders.csv")
    (tmp_path / "drop/shopify/broken.xlsx").write_bytes(b"not a workbook")
    (tmp_path / "drop/shopify/upload.csv.part").write_text("half copied", encoding="utf-8")
    result = cli(config, "run", "--json")
    assert result.returncode == 3, result.stderr
    body = json.loads(result.stdout)
    assert body["totals"]["rows_in"] == 28 and body["totals"]["unreadable"] == 1
    # Ingested files are archived under a dated folder, the broken one is quarantined with
    # its reason beside it, the half-copied one waits. Nothing is deleted.
    archived = sorted(p.name for p in (tmp_path / "archive").rglob("*.csv"))
    assert archived == ["export.csv", "orders.csv"]
    reason = tmp_path / "quarantine/shopify/broken.xlsx.reason.txt"
    assert (tmp_path / "quarantine/shopify/broken.xlsx").is_file()
    assert "not an xlsx workbook" in reason.read_text(encoding="utf-8")
    assert [p.name for p in (tmp_path / "drop").rglob("*") if p.is_file()] == [
        "upload.csv.part"]
    assert "quarantined" in result.stderr or "cannot read" in result.stderr


def test_a_second_run_finds_nothing_new_and_exits_0(tmp_path: Path) -> None:
    config = setup(tmp_path)
    shutil.copy(TMALL, tmp_path / "drop/tmall/export.csv")
    assert cli(config, "run").returncode == 1
    shutil.copy(TMALL, tmp_path / "drop/tmall/export-again.csv")  # dropped twice
    second = cli(config, "run")
    assert second.returncode == 0
    assert "1 already ingested -> no new batch" in second.stderr
    assert len(list((tmp_path / "out").iterdir())) == 1


def test_named_source_and_unknown_source(tmp_path: Path) -> None:
    config = setup(tmp_path)
    shutil.copy(TMALL, tmp_path / "drop/tmall/export.csv")
    shutil.copy(SHOPIFY, tmp_path / "drop/shopify/orders.csv")
    only = cli(config, "run", "shopify", "--json")
    assert json.loads(only.stdout)["totals"]["rows_in"] == 14
    assert (tmp_path / "drop/tmall/export.csv").exists()
    unknown = cli(config, "run", "shopfy")
    assert unknown.returncode == 2
    assert "no source named 'shopfy' (did you mean 'shopify'?)" in unknown.stderr


def test_json_logs_one_event_per_line(tmp_path: Path) -> None:
    config = setup(tmp_path)
    shutil.copy(TMALL, tmp_path / "drop/tmall/export.csv")
    (tmp_path / "drop/tmall/bad.csv").write_bytes(b"")
    result = cli(config, "run", "--log-format", "json")
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_start" and "run_end" in kinds
    assert {"input_done", "input_unreadable", "input_quarantined"} <= set(kinds)
    done = next(e for e in events if e["event"] == "input_done")
    assert (done["rows_in"], done["clean"], done["rejected"]) == (14, 8, 6)
    # The one summary line still closes the output, for cron mail.
    assert result.stderr.splitlines()[-1].startswith("2 files, 14 lines")


def test_second_run_while_one_holds_the_lock_exits_4(tmp_path: Path) -> None:
    config = setup(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from ingest.lock import run_lock\n"
         "with run_lock(Path(sys.argv[1]), 'run (test holder)'):\n"
         "    print('locked', flush=True); time.sleep(60)", str(tmp_path / "state")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        blocked = cli(config, "run")
        assert blocked.returncode == 4
        assert time.monotonic() - started < 30  # at once, not after waiting for the holder
        assert "another run holds the lock" in blocked.stderr
        assert "run (test holder)" in blocked.stderr
    finally:
        holder.kill()  # SIGKILL: the holder dies holding the lock
        holder.wait()
    shutil.copy(TMALL, tmp_path / "drop/tmall/export.csv")
    after = cli(config, "run")
    assert after.returncode == 1, after.stderr  # the dead holder's lock was taken over


def test_history_lists_runs_newest_first(tmp_path: Path) -> None:
    config = setup(tmp_path)
    shutil.copy(TMALL, tmp_path / "drop/tmall/export.csv")
    cli(config, "run")
    cli(config, "run")
    result = cli(config, "history", "--json")
    runs = json.loads(result.stdout)
    assert [r["exit_code"] for r in runs] == [0, 1]
    assert runs[1]["summary"]["totals"]["clean"] == 8
    assert runs[1]["batches"][0]["batch_id"] == runs[1]["summary"]["batch_id"]
    text = cli(config, "history")
    assert text.stdout.splitlines()[0].startswith(f"#{runs[0]['run_id']}")


def test_config_show_precedence_option_env_file_default(tmp_path: Path) -> None:
    config = setup(tmp_path)
    result = cli(config, "config", "show", "--format", "parquet", "--json",
                 env={"ORDERMILL_STATE_DIR": "/var/lib/ordermill", "ORDERMILL_FORMAT": "ndjson"})
    rows = {r["setting"]: r for r in json.loads(result.stdout)}
    assert (rows["format"]["value"], rows["format"]["from"]) == ("parquet", "option")
    assert (rows["state_dir"]["value"], rows["state_dir"]["from"]) == (
        "/var/lib/ordermill", "env ORDERMILL_STATE_DIR")
    assert rows["out_dir"]["value"] == str(tmp_path / "out")
    assert rows["out_dir"]["from"] == f"file {config}"
    assert (rows["timezone"]["value"], rows["timezone"]["from"]) == ("UTC", "default")
    assert rows["sources.shopify"]["value"].startswith("folder ")


def test_settings_are_typed_and_say_where_they_came_from(tmp_path: Path) -> None:
    config = setup(tmp_path)
    settings = load_settings({"state_dir": "/var/lib/ordermill"}, str(config),
                             environ={"ORDERMILL_TIMEZONE": "Asia/Shanghai"})
    assert settings.out_dir == tmp_path / "out"  # relative to the config file
    assert settings.state_dir == Path("/var/lib/ordermill")
    assert settings.archive_dir == tmp_path / "archive"
    assert settings.quarantine_dir == tmp_path / "quarantine"
    assert (settings.timezone, settings.output_format) == ("Asia/Shanghai", "csv")
    # values and origins stay, for config show
    assert settings.origins["timezone"] == "env ORDERMILL_TIMEZONE"
    assert settings.values["state_dir"] == "/var/lib/ordermill"


def test_mappings_dir_is_resolved_once_option_env_file_bundled(tmp_path: Path) -> None:
    config = tmp_path / "ordermill.toml"
    config.write_text('mappings_dir = "mine"\n', encoding="utf-8")
    env = {"ORDERMILL_MAPPINGS": "/etc/ordermill/mappings"}
    assert load_settings({"mappings_dir": "given"}, str(config), env).mappings_dir == Path(
        "given")
    assert load_settings({}, str(config), env).mappings_dir == Path("/etc/ordermill/mappings")
    assert load_settings({}, str(config), {}).mappings_dir == tmp_path / "mine"
    bundled = load_settings({}, None, {})
    # the editable install of the tests finds the checkout's mappings/ (the wheel its own
    # copy: tests/test_packaging.py)
    assert bundled.mappings_dir == bundled_mappings_dir() == MAPPINGS
    assert ("mappings_dir", "(bundled)", "default") in bundled.show()


def test_an_install_without_the_bundled_mappings_says_how_to_mend_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(package: str) -> Path:
        raise ModuleNotFoundError(f"No module named {package!r}")

    monkeypatch.setattr(bundled_module, "files", not_installed)
    with pytest.raises(UsageError, match=r"reinstall ordermill \(`make install`"):
        load_settings({}, None, {}).mappings_dir  # noqa: B018 (the property is the test)
    assert load_settings({"mappings_dir": "mine"}, None, {}).mappings_dir == Path("mine")


def test_run_reads_the_same_kinds_of_file_as_ingest_of_a_folder(tmp_path: Path) -> None:
    # A folder source that names no patterns and `ingest FOLDER` pick files by the same
    # reader registry: .xls, .xlsb and .ods were read by one and not the other.
    drop = tmp_path / "drop"
    drop.mkdir()
    for suffix in (*READERS, ".docx", ".csv.part"):
        (drop / f"export{suffix}").write_bytes(b"")
    config = tmp_path / "ordermill.toml"
    config.write_text('[[sources]]\nname = "drop"\npath = "drop"\n', encoding="utf-8")
    settings = load_settings({}, str(config), {})
    listed = sorted(Path(i.name).name for i in configured(settings.source("drop"),
                                                          settings).list_inputs())
    assert listed == sorted(Path(i.name).name for i in GivenPaths([drop]).list_inputs())
    assert {".xls", ".xlsb", ".ods", ".csv", ".xlsx"} <= {Path(n).suffix for n in listed}
    assert "export.docx" not in listed


def test_bad_config_names_file_key_and_problem(tmp_path: Path) -> None:
    config = setup(tmp_path)
    config.write_text('out_dri = "x"\n' + config.read_text(encoding="utf-8"), encoding="utf-8")
    result = cli(config, "run")
    assert result.returncode == 2
    assert f"{config}: out_dri: unknown setting (did you mean 'out_dir'?)" in result.stderr
    secret = tmp_path / "secret.toml"
    secret.write_text('imap_password = "hunter2"\n', encoding="utf-8")
    leaked = cli(secret, "config", "show")
    assert leaked.returncode == 2 and "hunter2" not in leaked.stdout + leaked.stderr
    assert "secrets are never read from the config file" in leaked.stderr
    missing = cli(tmp_path / "nope.toml", "run")
    assert missing.returncode == 2 and "config file not found" in missing.stderr


def test_run_without_sources_explains(tmp_path: Path) -> None:
    config = tmp_path / "ordermill.toml"
    config.write_text('out_dir = "out"\n', encoding="utf-8")
    result = cli(config, "run")
    assert result.returncode == 2
    assert "no sources configured" in result.stderr


def test_a_typo_inside_a_source_table(tmp_path: Path) -> None:
    config = setup(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + 'patern = "*.csv"\n',
                      encoding="utf-8")
    result = cli(config, "run")
    assert result.returncode == 2
    assert "sources[1].patern: unknown key (did you mean 'patterns'?)" in result.stderr


def test_progress_never_reaches_cron_mail(tmp_path: Path) -> None:
    config = setup(tmp_path)
    shutil.copy(TMALL, tmp_path / "drop/tmall/export.csv")
    result = cli(config, "run")
    assert result.stderr.count("\n") == 1  # just the summary: stderr is not a terminal
    assert result.stdout == ""


def test_ordermill_is_the_console_script(tmp_path: Path) -> None:
    # Ops and cron run `ordermill`, the script pip writes from [project.scripts]. It must
    # be cli:main, which turns ordermill's errors into a line and an exit code, not the
    # Typer app alone (a traceback and exit 1).
    import cli

    (script,) = entry_points(group="console_scripts", name="ordermill")
    assert script.value == "cli:main" and script.load() is cli.main
    shown = subprocess.run([str(ORDERMILL), "--version"], capture_output=True, text=True,
                           timeout=60)
    assert (shown.returncode, shown.stdout) == (0, f"ordermill {version('ordermill')}\n")
    missing = run_cli("config", "show", "--config", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2
    assert missing.stderr == f"ordermill: {tmp_path / 'nope.toml'}: config file not found\n"


def test_a_file_that_cannot_be_opened_now_waits_for_the_next_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A transient input code (cannot-open: permission denied, in use) leaves the file in its
    # folder, where the next run reads it; a file of its own fault is quarantined. (The OS
    # error is injected: these tests run as root, whom permissions do not stop.)
    config = setup(tmp_path)
    waiting = tmp_path / "drop/tmall/export.csv"
    shutil.copy(TMALL, waiting)
    (tmp_path / "drop/shopify/broken.xlsx").write_bytes(b"not a workbook")
    real_open = Input.open

    def locked(self: Input) -> object:
        if self.path == waiting:
            raise PermissionError(13, "Permission denied")
        return real_open(self)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Input, "open", locked)
    # (injected in this process: the parser's process, which would read the CSV ahead, is
    # not asked to, or it would open the file)
    monkeypatch.setattr(early, "read_ahead", lambda *args: None)
    settings = load_settings({}, str(config), {})
    report = api.run(settings)
    assert [(u["path"], u["code"]) for u in report.unreadable] == [
        (str(waiting), "cannot-open"), (str(tmp_path / "drop/shopify/broken.xlsx"),
                                        "unreadable-workbook")]
    assert report.unreadable[0]["reason"] == "cannot be opened: Permission denied"
    assert waiting.is_file()  # left for the next run, not quarantined
    assert [m["why"] for m in report.moved] == [report.unreadable[1]["reason"]]
    monkeypatch.setattr(Input, "open", real_open)
    again = api.run(settings)
    assert again.manifest and again.manifest["totals"]["rows_in"] == 14
    assert not waiting.exists() and again.moved[0]["why"] == "archived"


def test_a_folder_source_takes_names_in_any_case_as_ingest_does(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    for name in ("ORDERS.CSV", "export.Xlsx", "notes.DOCX", "fax.TIF"):
        (drop / name).write_bytes(b"")
    config = tmp_path / "ordermill.toml"
    config.write_text('[[sources]]\nname = "drop"\npath = "drop"\n', encoding="utf-8")
    settings = load_settings({}, str(config), {})
    listed = sorted(Path(i.name).name for i in configured(settings.source("drop"),
                                                          settings).list_inputs())
    assert listed == ["ORDERS.CSV", "export.Xlsx", "fax.TIF"]
    assert listed == sorted(Path(i.name).name for i in GivenPaths([drop]).list_inputs())

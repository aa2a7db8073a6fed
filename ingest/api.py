"""The library surface: what the command line calls, usable from Python as it is.

    from ingest.api import ingest, run
    from ingest.config import load_settings
    report = ingest(["samples/tmall"], out="out", state_dir="state")
    print(report.summary_line(), report.exit_code)
    report = run(load_settings())          # every configured source: the nightly job
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ingest.batch import new_batch_id, publish
from ingest.config import Settings, Source, load_settings
from ingest.errors import ExitCode, InputError, OrdermillError, UsageError
from ingest.events import QUIET, Events
from ingest.ledger import Ledger
from ingest.lock import run_lock
from ingest.mapping.loader import ENCODINGS, load_mappings
from ingest.mapping.model import Mapping
from ingest.pipeline import finish
from ingest.prepare import Digest, PreparedInput, file_sha256, hash_in_background, prepare
from ingest.readers import READERS
from ingest.sources import archive, list_files, quarantine
from ingest.validate import load_in_background
from ingest.writers import writer_for

DEFAULT_MAPPINGS = Path(__file__).resolve().parent.parent / "mappings"


def crash_point(name: str) -> None:
    """Fault injection for the crash tests: ORDERMILL_CRASH_AT=<name> kills the process
    with SIGKILL here, as the OOM killer or a power cut would."""
    if os.environ.get("ORDERMILL_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def default_mappings_dir() -> Path:
    return Path(os.environ.get("ORDERMILL_MAPPINGS") or DEFAULT_MAPPINGS)


@dataclass
class RunReport:
    """What one run or ingest did. ``manifest`` is None when no batch was published
    (nothing new arrived)."""

    batch_dir: Path | None
    manifest: dict[str, Any] | None
    skipped: list[dict[str, str]] = field(default_factory=list)
    unreadable: list[dict[str, str]] = field(default_factory=list)
    moved: list[dict[str, str]] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    run_id: int = 0

    @property
    def batch_id(self) -> str | None:
        return self.manifest["batch_id"] if self.manifest else None

    @property
    def exit_code(self) -> ExitCode:
        if self.unreadable:
            return ExitCode.UNREADABLE
        if self.manifest and self.manifest["totals"]["rejected"]:
            return ExitCode.REJECTS
        return ExitCode.CLEAN

    def summary(self) -> dict[str, Any]:
        totals = dict(self.manifest["totals"]) if self.manifest else {
            "files": len(self.unreadable), "unreadable": len(self.unreadable), "rows_in": 0,
            "clean": 0, "rejected": 0, "duplicates": 0, "updates": 0}
        totals["skipped"] = len(self.skipped)
        totals["files"] += len(self.skipped)
        return {"run_id": self.run_id, "batch_id": self.batch_id,
                "batch_dir": str(self.batch_dir) if self.batch_dir else None,
                "exit_code": int(self.exit_code), "totals": totals,
                "skipped": self.skipped, "unreadable": self.unreadable, "moved": self.moved,
                "recovered": self.recovered}

    def summary_line(self) -> str:
        t = self.summary()["totals"]
        files = f"{t['files']:,} file" + ("" if t["files"] == 1 else "s")
        clean = f"{t['clean']:,} clean"
        if t["updates"]:
            clean += f" ({t['updates']:,} updates)"
        line = f"{files}, {t['rows_in']:,} lines: {clean}, {t['rejected']:,} rejected"
        if t["duplicates"]:
            line += f", {t['duplicates']:,} duplicates"
        if t["skipped"]:
            line += f", {t['skipped']:,} already ingested"
        if t["unreadable"]:
            line += f", {t['unreadable']:,} unreadable"
        return line + (f" -> {self.batch_dir}" if self.batch_dir else " -> no new batch")


def expand_inputs(paths: Sequence[str | Path]) -> list[Path]:
    """Files as given, and the readable files inside folders (sorted, hidden ones skipped).
    A path that does not exist is kept: it is reported as unreadable, not skipped."""
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in READERS
                and not any(part.startswith(".") for part in p.relative_to(path).parts)))
        else:
            files.append(path)
    return files


def with_reader_overrides(mappings: list[Mapping], *, encoding: str | None = None,
                          sheet: str | None = None) -> list[Mapping]:
    """The mappings with the reader options a person gave on the command line."""
    changes: dict[str, Any] = {}
    if encoding:
        if encoding.lower() not in ENCODINGS:
            raise UsageError(f"unknown encoding {encoding!r}; use one of: "
                             + ", ".join(ENCODINGS))
        changes["encoding"] = encoding.lower()
    if sheet:
        changes["sheet"] = int(sheet) if sheet.isdigit() else sheet
    if not changes:
        return mappings
    return [replace(m, reader=replace(m.reader, **changes)) for m in mappings]


def _mappings(settings: Settings, mappings_dir: str | Path | None) -> list[Mapping]:
    directory = mappings_dir or settings.values["mappings_dir"] or default_mappings_dir()
    return load_mappings(directory)


def ingest(
    paths: Sequence[str | Path],
    out: str | Path | None = None,
    *,
    settings: Settings | None = None,
    state_dir: str | Path | None = None,
    output_format: str | None = None,
    mappings: list[Mapping] | None = None,
    mappings_dir: str | Path | None = None,
    channel: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    force: bool = False,
    events: Events = QUIET,
) -> RunReport:
    """Ingest files (or folders of them) into one published batch, through the ledger:
    files ingested before are skipped (``force`` ingests them again), lines output before
    are duplicates. Files are left where they are.

    Raises ``MappingError``/``UsageError``/``ConfigError`` for configuration problems and
    ``LockHeld`` when another run holds the state directory; an input that cannot be read is
    reported (``unreadable``) and the others are still processed."""
    if not paths:
        raise UsageError("no input given: name one or more files or folders")
    settings = settings or load_settings()
    files = [(p, None) for p in expand_inputs(paths)]
    return _process(files, settings, command="ingest", out=out, state_dir=state_dir,
                    output_format=output_format, mappings=mappings, mappings_dir=mappings_dir,
                    channel=channel, encoding=encoding, sheet=sheet, force=force,
                    events=events)


def run(settings: Settings, source_names: Sequence[str] = (), *, force: bool = False,
        events: Events = QUIET) -> RunReport:
    """The nightly job: every configured source (or the named ones). Ingested files move to
    the archive, unreadable ones to quarantine with the reason beside them."""
    sources = [settings.source(n) for n in source_names] if source_names else list(
        settings.sources)
    if not sources:
        raise UsageError("no sources configured: add [[sources]] to ordermill.toml (see "
                         "`ordermill config show`), or use `ordermill ingest FILE...`")
    files = [(path, source) for source in sources for path in list_files(source)]
    return _process(files, settings, command="run " + " ".join(s.name for s in sources),
                    force=force, events=events)


def _process(files: Sequence[tuple[Path, Source | None]], settings: Settings, *, command: str,
             out: str | Path | None = None, state_dir: str | Path | None = None,
             output_format: str | None = None, mappings: list[Mapping] | None = None,
             mappings_dir: str | Path | None = None, channel: str | None = None,
             encoding: str | None = None, sheet: str | None = None, force: bool = False,
             events: Events = QUIET) -> RunReport:
    output_format = output_format or settings.output_format
    writer_for(output_format)  # a bad format is a usage error before anything is read
    mappings = with_reader_overrides(mappings or _mappings(settings, mappings_dir),
                                     encoding=encoding, sheet=sheet)
    if channel is not None and channel not in {m.channel for m in mappings}:
        raise UsageError(f"unknown channel {channel!r}; known: "
                         + ", ".join(sorted(m.channel for m in mappings)))
    out_dir = Path(out) if out is not None else settings.path("out_dir")
    state = Path(state_dir) if state_dir is not None else settings.path("state_dir")
    if files:
        load_in_background()  # pandera, for the publish: it loads while the files are read
    with run_lock(state, command):
        ledger = Ledger(state)
        report = RunReport(None, None)
        try:
            report.recovered = ledger.recover(out_dir)
            for message in report.recovered:
                events.emit("run_recovered", message=message)
            report.run_id = ledger.start_run(command)
            events.emit("run_start", run_id=report.run_id, command=command, files=len(files))
            # Big inputs spill their checked lines here until they are written; what a killed
            # run left behind goes now (the lock says no other run is using it).
            spill_dir = state / "spill"
            shutil.rmtree(spill_dir, ignore_errors=True)
            prepared, sources = _prepare_all(files, mappings, channel, settings, ledger,
                                             force, report, events, spill_dir)
            crash_point("prepared")
            if prepared or report.unreadable:
                _publish(prepared, ledger, out_dir, output_format, report, events)
            for one in prepared:
                if one.spill is not None:
                    one.spill.cleanup()
            _move(sources, settings, report, events)
            crash_point("moved")
            ledger.finish_run(report.run_id, int(report.exit_code), report.summary())
            events.emit("run_end", **report.summary())
        except OrdermillError as exc:
            # A run that stops (a file changed under it, say) says so in the ledger, with
            # its exit code and why, instead of looking killed or still running.
            if report.run_id:
                ledger.finish_run(report.run_id, int(exc.exit_code), {"error": str(exc)})
            raise
        finally:
            ledger.close()
    return report


def _prepare_all(files: Sequence[tuple[Path, Source | None]], mappings: list[Mapping],
                 channel: str | None, settings: Settings, ledger: Ledger, force: bool,
                 report: RunReport, events: Events, spill_dir: Path
                 ) -> tuple[list[PreparedInput], dict[str, tuple[Path, Source | None, str]]]:
    """Read, map and check every file not ingested before. Returns the prepared inputs and,
    per path, what to do with the file afterwards (archive, quarantine)."""
    prepared: list[PreparedInput] = []
    fate: dict[str, tuple[Path, Source | None, str]] = {}
    for index, (path, source) in enumerate(files):
        events.step(str(path), index, len(files))
        try:
            if not path.is_file():
                raise InputError(str(path), "no such file", code="missing-file")
            size = path.stat().st_size
            digest: Digest | Future[Digest]
            if any(p.size == size for p in prepared) or (
                    ledger.seen_size(size) and not force):
                # It may have been ingested before: tell before any work is done on it.
                digest = file_sha256(path)
                sha256 = digest[0]
                earlier = ledger.seen(sha256)
                now = next((p.path for p in prepared if p.sha256 == sha256), None)
                if now or (earlier and not force):
                    first = now or (earlier.path if earlier else "")
                    when = f"in batch {earlier.batch_id}" if earlier else "in this run"
                    entry = {"path": str(path), "sha256": sha256,
                             "reason": f"already ingested {when} (as {first})"}
                    report.skipped.append(entry)
                    events.emit("input_skipped", **entry,
                                message=f"skipped {path}: {entry['reason']}"
                                "; use --force to ingest it again")
                    fate[str(path)] = (path, source, "archive")
                    continue
            else:  # a size not seen before: new, so it is hashed beside the work on it
                digest = hash_in_background(path)
            one = prepare(path, mappings, channel or (source.channel if source else None),
                          settings.values["timezone"], digest, spill_dir=spill_dir,
                          progress=_within(events, path, index, len(files)))
            prepared.append(one)
            fate[str(path)] = (path, source, "archive")
        except InputError as exc:
            entry = {"path": str(path), "code": exc.code, "reason": exc.reason}
            report.unreadable.append(entry)
            events.emit("input_unreadable", **entry, message=f"cannot read {path}: {exc.reason}")
            fate[str(path)] = (path, source, "quarantine:" + exc.reason)
    return prepared, fate


def _within(events: Events, path: Path, index: int, total: int) -> Callable[[float], None]:
    """Progress inside file ``index`` of ``total``: the share of it read so far."""
    return lambda share: events.step(str(path), index + share, total)


def _publish(prepared: list[PreparedInput], ledger: Ledger, out_dir: Path, output_format: str,
             report: RunReport, events: Events) -> None:
    batch_id = new_batch_id()
    finished = finish(prepared, batch_id, ledger.history())
    seq = ledger.next_seq()
    key_file = ledger.write_keys(batch_id, seq, finished.keys)
    crash_point("keys-written")

    def before_rename() -> None:
        crash_point("staged")
        ledger.mark_pending(batch_id, seq, out_dir, key_file, report.run_id)
        crash_point("pending")

    manifest = publish(finished.results, report.unreadable, out_dir, batch_id, output_format,
                       before_rename=before_rename)
    crash_point("published")
    ledger.commit_batch(batch_id, manifest)
    crash_point("committed")
    ledger.compact()
    report.batch_dir, report.manifest = out_dir / batch_id, manifest
    for entry in manifest["inputs"]:
        events.emit("input_done", **{k: entry[k] for k in (
            "path", "channel", "rows_in", "clean", "rejected", "duplicates", "updates")})


def _move(fate: dict[str, tuple[Path, Source | None, str]], settings: Settings,
          report: RunReport, events: Events) -> None:
    """Folder sources only: archive what was ingested (or skipped as seen), quarantine what
    could not be read. Files named on the command line stay where they are."""
    for path, source, what in fate.values():
        if source is None or not path.exists():
            continue
        if what == "archive":
            target = archive(path, settings.path("archive_dir"), source)
            report.moved.append({"path": str(path), "to": str(target), "why": "archived"})
        else:
            reason = what.removeprefix("quarantine:")
            target = quarantine(path, settings.path("quarantine_dir"), source, reason)
            report.moved.append({"path": str(path), "to": str(target), "why": reason})
            events.emit("input_quarantined", path=str(path), to=str(target), reason=reason,
                        message=f"quarantined {path} -> {target}: {reason}")

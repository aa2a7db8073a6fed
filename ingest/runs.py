"""The run, from sources to a published batch: the flow's stages in the order data passes them.

    sources -> intake (seen before?) -> reading (detect, read, map, row checks)
            -> verdicts (hold-backs, dedupe) -> publish (writers, ledger) -> sources settle

One run at a time per state directory (``ingest.lock``); a run that dies anywhere leaves
nothing that counts, or a batch the next run completes (``ingest.publish``).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.codes import is_transient
from ingest.errors import (
    ExitCode,
    InputError,
    OrdermillError,
    is_machine_failure,
    writing_to,
)
from ingest.events import QUIET, Events
from ingest.faults import crash_point
from ingest.inputs import Fate, Input, Outcome
from ingest.intake import Intake, Skip
from ingest.ledger import Ledger
from ingest.lock import run_lock
from ingest.mapping.model import Mapping
from ingest.publish import publish_batch
from ingest.reading import CheckedInput, read_input
from ingest.report import RunReport
from ingest.sources import Source
from ingest.validate import load_in_background
from ingest.verdicts import finish
from ingest.writers.batch import new_batch_id


@dataclass(frozen=True)
class RunPlan:
    """What a run reads and how: everything resolved from options and settings."""

    command: str
    mappings: list[Mapping]
    out_dir: Path
    state_dir: Path
    output_format: str
    timezone: str = "UTC"
    channel: str | None = None  # read every input with this mapping (no detection)
    force: bool = False


def run_sources(sources: Sequence[Source], plan: RunPlan, events: Events = QUIET) -> RunReport:
    """List every source's inputs, read the new ones, publish one batch, then tell each
    source what became of its inputs. However the run ends, the ledger says how."""
    report = RunReport(None, None)
    listed = _list(sources, report, events)
    if listed:
        load_in_background()  # pandera, for the publish: it loads while the files are read
    with run_lock(plan.state_dir, plan.command):
        with writing_to(plan.state_dir):
            ledger = Ledger(plan.state_dir)
        try:
            with writing_to(plan.state_dir):
                report.recovered = ledger.recover(plan.out_dir)
                report.run_id = ledger.start_run(plan.command)
            for message in report.recovered:
                events.emit("run_recovered", message=message)
            events.emit("run_start", run_id=report.run_id, command=plan.command,
                        files=len(listed))
            # Big inputs spill their checked lines here until they are written; what a killed
            # run left behind goes now (the lock says no other run is using it).
            spill_dir = plan.state_dir / "spill"
            shutil.rmtree(spill_dir, ignore_errors=True)
            with writing_to(spill_dir):
                checked, outcomes = _read_all(listed, plan, Intake(ledger, plan.force),
                                              report, events, spill_dir)
            try:
                crash_point("prepared")
                if checked or report.unreadable:
                    _publish(checked, ledger, plan, report, events)
            finally:
                for one in checked:
                    one.cleanup()
            _settle(outcomes, report, events)
            crash_point("moved")
            with writing_to(plan.state_dir):
                ledger.finish_run(report.run_id, int(report.exit_code), report.summary())
            events.emit("run_end", **report.summary())
        except OrdermillError as exc:
            # A run that stops says so in the ledger, with its exit code and why, instead
            # of looking killed or still running.
            _stopped(ledger, report.run_id, int(exc.exit_code), str(exc))
            raise
        except BaseException as exc:  # a bug, or an interrupt: recorded as well
            code = 130 if isinstance(exc, KeyboardInterrupt) else int(ExitCode.INTERNAL)
            _stopped(ledger, report.run_id, code, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            ledger.close()
    return report


def _list(sources: Sequence[Source], report: RunReport, events: Events
          ) -> list[tuple[Source, Input]]:
    """Every source's inputs; a source that cannot be listed is reported (named, with its
    reason) and the others are still read."""
    listed: list[tuple[Source, Input]] = []
    for source in sources:
        try:
            listed.extend((source, one) for one in source.list_inputs())
        except InputError as exc:
            entry = {"path": exc.path, "code": exc.code, "reason": exc.reason}
            report.unreadable.append(entry)
            events.emit("source_unreachable", source=source.name, **entry,
                        message=f"cannot list source {source.name}: {exc.reason}")
    return listed


def _stopped(ledger: Ledger, run_id: int, exit_code: int, error: str) -> None:
    """Finish a run that stopped, if the ledger can still be written (a full disk may be why
    it stopped: then the run stays unfinished in the ledger, and the error says why)."""
    if not run_id:
        return
    with contextlib.suppress(Exception):  # (the error being raised is the one to report)
        ledger.finish_run(run_id, exit_code, {"error": error})


def _read_all(listed: list[tuple[Source, Input]], plan: RunPlan, intake: Intake,
              report: RunReport, events: Events, spill_dir: Path
              ) -> tuple[list[CheckedInput], list[tuple[Source, Outcome]]]:
    """Read, map and check every input not ingested before; each input's outcome."""
    checked: list[CheckedInput] = []
    outcomes: list[tuple[Source, Outcome]] = []
    for index, (source, one) in enumerate(listed):
        events.step(one.name, index, len(listed))
        try:
            if (kind := one.not_regular()) is not None:
                raise InputError.of(one.name, "not-a-file", reason=kind)
            if not one.exists():
                raise InputError.of(one.name, "missing-file")
            admitted = intake.admit(one)
            if isinstance(admitted, Skip):
                entry = {"path": one.name, "sha256": admitted.sha256, "reason": admitted.reason}
                report.skipped.append(entry)
                events.emit("input_skipped", **entry, message=f"skipped {one.name}: "
                            f"{admitted.reason}; use --force to ingest it again")
                outcomes.append((source, Outcome(one, Fate.ALREADY_INGESTED)))
                continue
            result = read_input(one, plan.mappings, plan.channel or one.channel, plan.timezone,
                                admitted, spill_dir=spill_dir,
                                progress=_within(events, one.name, index, len(listed)))
            intake.read(one, (result.sha256, result.size))
            checked.append(result)
            outcomes.append((source, Outcome(one, Fate.INGESTED)))
        except Exception as raised:  # (an InputError, or anything else: _input_failure)
            exc = _input_failure(one, raised)
            entry = {"path": one.name, "code": exc.code, "reason": exc.reason}
            report.unreadable.append(entry)
            events.emit("input_unreadable", **entry,
                        message=f"cannot read {one.name}: {exc.reason}")
            fate = Fate.RETRY if is_transient(exc.code) else Fate.UNREADABLE
            outcomes.append((source, Outcome(one, fate, exc.code, exc.reason)))
    return checked, outcomes


def _input_failure(one: Input, raised: Exception) -> InputError:
    """What an input that could not be read is reported as. Beyond the catalogued reasons,
    whatever else reading one input raises (a reader's or a library's failure on a shape
    nobody foresaw, memory it could not get) is that input's failure, not the run's: it is
    quarantined with the error, and the other inputs are read. Failures of the machine
    (a full disk under the spill) and of ordermill's own state still stop the run."""
    if isinstance(raised, InputError):
        return raised
    if isinstance(raised, OrdermillError) or is_machine_failure(raised):
        raise raised
    detail = (str(raised).strip().splitlines() or [""])[0][:300]
    what = "ran out of memory" if isinstance(raised, MemoryError) else (
        f"{type(raised).__name__}: {detail}" if detail else type(raised).__name__)
    return InputError.of(one.name, "reader-failed", reason=what)


def _within(events: Events, name: str, index: int, total: int) -> Callable[[float], None]:
    """Progress inside input ``index`` of ``total``: the share of it read so far."""
    return lambda share: events.step(name, index + share, total)


def _publish(checked: list[CheckedInput], ledger: Ledger, plan: RunPlan, report: RunReport,
             events: Events) -> None:
    batch_id = new_batch_id()
    finished = finish(checked, batch_id, ledger.history())
    report.batch_dir, report.manifest = publish_batch(
        finished, report.unreadable, ledger, plan.out_dir, plan.output_format, report.run_id,
        batch_id)
    for entry in report.manifest["inputs"]:
        events.emit("input_done", **{k: entry[k] for k in (
            "path", "channel", "rows_in", "clean", "rejected", "duplicates", "updates",
            "waiting", "warnings")})


def _settle(outcomes: list[tuple[Source, Outcome]], report: RunReport, events: Events) -> None:
    """Tell each source what became of its inputs (once the batch is published)."""
    for source, outcome in outcomes:
        moved = source.settle(outcome)
        if moved is None:
            continue
        report.moved.append(moved)
        if outcome.fate is Fate.UNREADABLE:
            events.emit("input_quarantined", path=moved["path"], to=moved["to"],
                        reason=moved["why"],
                        message=f"quarantined {moved['path']} -> {moved['to']}: {moved['why']}")

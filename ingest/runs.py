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
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
from ingest.pairs import (
    Half,
    expiry_reason,
    joined_inputs,
    pair_up,
    rejected_whole,
    stem,
    waited_too_long,
)
from ingest.publish import publish_batch
from ingest.reading import CheckedInput, ReadHalf, read_any
from ingest.report import RunReport
from ingest.sources import Source
from ingest.together import Together
from ingest.unpaired import Unpaired, UnpairedStore
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
    pair_wait_days: float = 3.0  # how long half of a two-file export waits for the other


@dataclass
class _Halves:
    """Halves of two-file exports met while reading: new ones, and listed copies of halves
    already waiting in the state (by sha256)."""

    new: list[tuple[Source, Half]] = field(default_factory=list)
    listed: dict[str, tuple[Source, Input]] = field(default_factory=dict)


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
            store = UnpairedStore(plan.state_dir)
            with writing_to(plan.state_dir):
                report.recovered.extend(store.sweep(ledger))
            halves = _Halves()
            with writing_to(spill_dir):
                checked, outcomes = _read_all(listed, plan, Intake(ledger, plan.force),
                                              report, events, spill_dir, store.entries(),
                                              halves)
            with writing_to(plan.state_dir):
                done, arrived = _join_halves(halves, store, plan, report, events, checked,
                                             outcomes)
            listing = {one.name: i for i, (_, one) in enumerate(listed)}
            checked.sort(key=lambda c: listing.get(c.name, len(listing)))  # (as listed)
            try:
                crash_point("prepared")
                if checked or report.unreadable or arrived:
                    _publish(checked, ledger, plan, report, events)
            finally:
                for one in checked:
                    one.cleanup()
            _settle(outcomes, report, events)
            with writing_to(plan.state_dir):
                for sha256 in done:  # (recorded by the ledger: a crash before this is swept)
                    store.remove(sha256)
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
              report: RunReport, events: Events, spill_dir: Path, waiting: list[Unpaired],
              halves: _Halves) -> tuple[list[CheckedInput], list[tuple[Source, Outcome]]]:
    """Read, map and check every input not ingested before; each input's outcome. Halves
    of two-file exports are read, not mapped: they go to ``halves`` (their outcome is
    decided when they are joined, ``_join_halves``), as do copies of waiting halves."""
    checked: list[CheckedInput] = []
    outcomes: list[tuple[Source, Outcome]] = []
    waiting_sizes = {w.size: w for w in waiting}
    # Small inputs: read one by one (readers starting on the next ones), mapped together.
    together = Together(plan.timezone, upcoming=[one for _, one in listed])
    for index, (source, one) in enumerate(listed):
        events.step(one.name, index, len(listed))
        try:
            if (kind := one.not_regular()) is not None:
                raise InputError.of(one.name, "not-a-file", reason=kind)
            if not one.exists():
                raise InputError.of(one.name, "missing-file")
            if one.size() in waiting_sizes:  # (a half already waiting, listed again?)
                sha256 = one.sha256()[0]
                if any(w.sha256 == sha256 for w in waiting):
                    halves.listed[sha256] = (source, one)
                    continue
            admitted = intake.admit(one)
            if isinstance(admitted, Skip):
                entry = {"path": one.name, "sha256": admitted.sha256, "reason": admitted.reason}
                report.skipped.append(entry)
                events.emit("input_skipped", **entry, message=f"skipped {one.name}: "
                            f"{admitted.reason}; use --force to ingest it again")
                outcomes.append((source, Outcome(one, Fate.ALREADY_INGESTED)))
                continue
            result = read_any(one, plan.mappings, plan.channel or one.channel, plan.timezone,
                              admitted, spill_dir=spill_dir,
                              progress=_within(events, one.name, index, len(listed)),
                              together=together)
            intake.read(one, (result.sha256, result.size))
            if isinstance(result, ReadHalf):
                halves.new.append((source, Half.of(result)))
                continue
            checked.append(result)
            outcomes.append((source, Outcome(one, Fate.INGESTED)))
        except Exception as raised:  # (an InputError, or anything else: _input_failure)
            outcomes.append((source, _unreadable(one, raised, report, events)))
    # The small inputs' mapping, together: one that fails there is unreadable on its own.
    for failed, error in together.complete():
        checked[:] = [c for c in checked if c is not failed]
        at = next(i for i, (_, o) in enumerate(outcomes) if o.input is failed.input)
        outcomes[at] = (outcomes[at][0], _unreadable(failed.input, error, report, events))
    return checked, outcomes


def _unreadable(one: Input, raised: Exception, report: RunReport, events: Events) -> Outcome:
    """Report an input that could not be read; its outcome."""
    exc = _input_failure(one, raised)
    entry = {"path": one.name, "code": exc.code, "reason": exc.reason}
    report.unreadable.append(entry)
    events.emit("input_unreadable", **entry, message=f"cannot read {one.name}: {exc.reason}")
    fate = Fate.RETRY if is_transient(exc.code) else Fate.UNREADABLE
    return Outcome(one, fate, exc.code, exc.reason)


def _join_halves(halves: _Halves, store: UnpairedStore, plan: RunPlan, report: RunReport,
                 events: Events, checked: list[CheckedInput],
                 outcomes: list[tuple[Source, Outcome]]) -> tuple[list[str], int]:
    """Join each item half with its order half (new, or waiting in the state since an
    earlier run); keep a new half without its partner waiting, safely on disk before the
    batch is published; reject whole a half that waited longer than ``pair_wait_days``.
    Returns the sha256 of the waiting halves to drop from the state once the batch is
    committed, and how many halves arrived to wait."""
    now = datetime.now(UTC)
    days = plan.pair_wait_days
    wanted = {h.mapping.pair.partner for _, h in halves.new if h.mapping.pair}
    candidates = [h for _, h in halves.new]
    for waiting in store.entries():
        if waiting.mapping not in wanted and not waited_too_long(waiting, days, now):
            continue  # nothing new could be its partner: it waits on, unread
        try:
            read = read_any(waiting.input(), plan.mappings, waiting.channel, plan.timezone,
                            (waiting.sha256, waiting.size))
            if not isinstance(read, ReadHalf):
                raise InputError(waiting.name, "is no longer read as half of a two-file "
                                 "export by the mappings; it stays in the state")
            candidates.append(Half.of(read, waiting))
        except InputError as exc:
            report.unreadable.append({"path": exc.path, "code": exc.code,
                                      "reason": exc.reason})
    sources = {id(h): source for source, h in halves.new}
    by_stem = {stem(m): m for m in plan.mappings}
    pairs, alone = pair_up(candidates)
    done: list[str] = []

    def settled(half: Half, fate: Fate, code: str | None = None,
                reason: str | None = None) -> None:
        """The half's outcome for the source that listed it (new, or a waiting one's copy)."""
        if half.waiting is not None:
            done.append(half.waiting.sha256)
            listed = halves.listed.pop(half.waiting.sha256, None)
            if listed is not None:
                outcomes.append((listed[0], Outcome(listed[1], fate, code, reason)))
        else:
            outcomes.append((sources[id(half)], Outcome(half.read.input, fate, code, reason)))

    for items, orders in pairs:
        checked.extend(joined_inputs(items, orders, plan.timezone))
        settled(items, Fate.INGESTED)
        settled(orders, Fate.INGESTED)
    arrived = 0
    for half in alone:
        pair = half.mapping.pair
        assert pair is not None
        if half.waiting is not None:
            if waited_too_long(half.waiting, days, now):
                reason = expiry_reason(half, days)
                items_mapping = half.mapping if pair.role == "items" else by_stem[pair.partner]
                checked.append(rejected_whole(half, items_mapping, reason, plan.timezone))
                settled(half, Fate.UNREADABLE, "partner-missing", reason)
                events.emit("input_partner_missing", path=half.name, reason=reason,
                            message=f"partner missing: {reason}")
            continue
        one = half.read.input
        try:
            store.put(one, half.read.sha256, half.read.size, stem(half.mapping), pair.role,
                      half.mapping.channel)
        except InputError as exc:
            report.unreadable.append({"path": exc.path, "code": exc.code, "reason": exc.reason})
            settled(half, Fate.RETRY, exc.code, exc.reason)
            continue
        arrived += 1
        settled(half, Fate.WAITING)
        events.emit("input_waiting", path=one.name, role=pair.role, partner=pair.partner,
                    message=f"{one.name} waits for its partner ({pair.partner}): the "
                    f"{pair.role} half of a two-file export")
    crash_point("stored")
    report.unpaired = [w.entry(days) for w in store.entries() if w.sha256 not in done]
    report.arrived_unpaired = arrived
    return done, arrived


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
        batch_id, report.unpaired)
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

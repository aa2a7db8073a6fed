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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
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
from ingest.feedback import feedback_mappings, is_rejects_file, open_rejects
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
from ingest.readers import CONTAINER_SUFFIXES, expect
from ingest.readers.mail import OpenedMail, open_mails
from ingest.reading import CheckedInput, ReadHalf, read_any
from ingest.report import RunReport
from ingest.rules.apply import RuleRun
from ingest.rules.batch import run_step
from ingest.rules.merges import MergeConfig
from ingest.sources import Source
from ingest.together import AHEAD_INPUTS, Together
from ingest.unpaired import Unpaired, UnpairedStore
from ingest.validate import load_in_background
from ingest.verdicts import finish
from ingest.writers.batch import new_batch_id
from ingest.writers.erp import ProfileJob


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
    profiles: tuple[ProfileJob, ...] = ()  # ERP layouts written beside the standard files
    rules: RuleRun | None = None  # the order rules (also on each mapping: ``Mapping.rules``)
    rule_warnings: tuple[str, ...] = ()  # stale reference data used anyway
    merge: MergeConfig | None = None  # repeat orders merged (``[merge]``)


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
    with run_lock(plan.state_dir, plan.command):
        with writing_to(plan.state_dir):
            ledger = Ledger(plan.state_dir)
        try:
            with writing_to(plan.state_dir):
                report.recovered = ledger.recover(plan.out_dir)
                report.run_id = ledger.start_run(plan.command)
            for message in report.recovered:
                events.emit("run_recovered", message=message)
            # Listed under the lock: a mailbox's cursor is in the ledger, and two polls at
            # once must not both take the same mail.
            # (a mailbox lists mails: the workbook parser boots while it is fetched)
            expect([], [kind for source in sources for kind in source.listing_kinds])
            listed = _list(sources, report, events, ledger)
            if listed:
                load_in_background()  # pandera, for the publish: loads while files are read
                expect([one for _, one in listed])  # (the workbook parser boots meanwhile)
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
            # (as listed; a mail's parts where their mail was, in their mail's order)
            checked.sort(key=lambda c: listing.get(c.input.origin.get("listed", c.name),
                                                   len(listing)))
            try:
                crash_point("prepared")
                # (a source that could not be reached publishes no batch of its own: a
                # mailbox down for an hour must not leave a dozen empty batches)
                if checked or arrived or any(e.get("code") != "source-unreachable"
                                             for e in report.unreadable) \
                        or ledger.holds("approved"):
                    _publish(checked, ledger, plan, report, events)
            finally:
                for one in checked:
                    one.cleanup()
            _settle(outcomes, report, events)
            with writing_to(plan.state_dir):
                for sha256 in done:  # (recorded by the ledger: a crash before this is swept)
                    store.remove(sha256)
                for source in sources:  # (a mailbox's cursor moves once its mail has moved)
                    for problem in source.finish(ledger, report.run_id):
                        report.unreadable.append(problem)
                        events.emit("source_unreachable", source=source.name, **problem,
                                    message=problem["reason"])
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
            for source in sources:
                source.close()
            ledger.close()
    return report


def _list(sources: Sequence[Source], report: RunReport, events: Events, ledger: Ledger
          ) -> list[tuple[Source, Input]]:
    """Every source's inputs; a source that cannot be listed is reported (named, with its
    reason) and the others are still read."""
    listed: list[tuple[Source, Input]] = []
    for source in sources:
        try:
            listed.extend((source, one) for one in source.list_inputs(ledger))
        except InputError as exc:
            entry = {"path": exc.path, "code": exc.code, "reason": exc.reason}
            report.unreadable.append(entry)
            events.emit("source_unreachable", source=source.name, **entry,
                        message=exc.reason)  # (the reason names the source)
    return listed


def _stopped(ledger: Ledger, run_id: int, exit_code: int, error: str) -> None:
    """Finish a run that stopped, if the ledger can still be written (a full disk may be why
    it stopped: then the run stays unfinished in the ledger, and the error says why)."""
    if not run_id:
        return
    with contextlib.suppress(Exception):  # (the error being raised is the one to report)
        ledger.finish_run(run_id, exit_code, {"error": error})


# What a mail part's manifest entry says of where it came from (``ingest.readers.mail``).
MAIL_LINEAGE = ("mail", "message_id", "part", "attachment", "mailbox", "folder", "uidvalidity",
                "uid")


@dataclass
class _Reading:
    """What reading every input of a run shares: where results and failures go."""

    plan: RunPlan
    intake: Intake
    report: RunReport
    events: Events
    spill_dir: Path
    waiting: list[Unpaired]
    halves: _Halves
    checked: list[CheckedInput] = field(default_factory=list)
    together: Together = field(default_factory=Together)  # small inputs, mapped together

    @cached_property
    def fed_back_mappings(self) -> list[Mapping]:
        return feedback_mappings(self.plan.mappings)

    def failed(self, one: Input, raised: Exception) -> Outcome:
        """The input's failure, reported (named, with its reason) and as its outcome."""
        exc = _input_failure(one, raised)
        entry = {"path": exc.path, "code": exc.code, "reason": exc.reason}
        self.report.unreadable.append(entry)
        self.events.emit("input_unreadable", **entry,
                         message=f"cannot read {exc.path}: {exc.reason}")
        fate = Fate.RETRY if is_transient(exc.code) else Fate.UNREADABLE
        return Outcome(one, fate, exc.code, exc.reason)


def _read_all(listed: list[tuple[Source, Input]], plan: RunPlan, intake: Intake,
              report: RunReport, events: Events, spill_dir: Path, waiting: list[Unpaired],
              halves: _Halves) -> tuple[list[CheckedInput], list[tuple[Source, Outcome]]]:
    """Read, map and check every input not ingested before; each input's outcome. Halves
    of two-file exports are read, not mapped: they go to ``halves`` (their outcome is
    decided when they are joined, ``_join_halves``), as do copies of waiting halves. A mail
    is opened and its parts read; its outcome is theirs taken together (``_read_mail``)."""
    reading = _Reading(plan, intake, report, events, spill_dir, waiting, halves)
    # Small inputs: read one by one, mapped together. The inputs to be read, in order, are
    # told to the readers a few ahead of their turn (``Together.reading``: small ones go to
    # the parser's process while the run works); a mail's parts are known once it is
    # opened, and mails are opened that far ahead too, so that the parser's process works
    # while the run opens them.
    reading.together = Together(plan.timezone, mappings=plan.mappings, channel=plan.channel)
    opened: dict[int, list[OpenedMail] | Outcome] = {}
    fed: dict[int, list[Input] | Outcome] = {}  # rejects files fed back in: their inputs
    known = 0  # the listed inputs before this one are opened and their parts upcoming

    def open_through(last: int) -> None:
        nonlocal known
        while known <= min(last, len(listed) - 1):
            one = listed[known][1]
            known += 1
            if one.suffix in CONTAINER_SUFFIXES:
                opened[id(one)] = mails = _open_mail(one, reading)
                if isinstance(mails, list):
                    reading.together.extend([part for mail in mails for part in mail.parts])
            elif is_rejects_file(one):
                fed[id(one)] = parts = _open_rejects(one, reading)
                if isinstance(parts, list):
                    reading.together.extend(parts)
            else:
                reading.together.extend([one])

    outcomes: list[tuple[Source, Outcome]] = []
    for index, (source, one) in enumerate(listed):
        open_through(index + AHEAD_INPUTS)
        events.step(one.name, index, len(listed))
        if one.suffix in CONTAINER_SUFFIXES:
            mails = opened[id(one)]
            outcome: Outcome | None = mails if isinstance(mails, Outcome) else _read_mail(
                source, one, mails, reading)
        elif id(one) in fed:
            parts = fed[id(one)]
            outcome = parts if isinstance(parts, Outcome) else _read_fed_back(
                source, one, parts, reading)
        else:
            outcome = _read_one(source, one, reading,
                                _within(events, one.name, index, len(listed)))
        if outcome is not None:
            outcomes.append((source, outcome))
    # The small inputs' mapping, together: one that fails there is unreadable on its own,
    # and a mail it came in goes to review with the reason.
    for failed, error in reading.together.complete():
        reading.checked[:] = [c for c in reading.checked if c is not failed]
        outcome = reading.failed(failed.input, error)
        listed_as = failed.input.origin.get("listed", failed.input.name)
        at = next(i for i, (_, o) in enumerate(outcomes)
                  if o.input is failed.input or o.input.name == listed_as)
        source, before = outcomes[at]
        if before.input is failed.input:
            outcomes[at] = (source, outcome)
        elif before.fate is not Fate.RETRY:  # (a mail: the part's reason joins its own)
            why = f"{failed.input.name}: {outcome.reason}"
            outcomes[at] = (source, Outcome(
                before.input, Fate.UNREADABLE, before.code or outcome.code,
                f"{before.reason}; {why}" if before.reason else why))
    return reading.checked, outcomes


def _read_one(source: Source, one: Input, reading: _Reading,
              progress: Callable[[float], None] | None = None) -> Outcome | None:
    """Read one input; its outcome, or None for half of a two-file export (decided when
    the halves are joined)."""
    intake, report, events = reading.intake, reading.report, reading.events
    try:
        if (kind := one.not_regular()) is not None:
            raise InputError.of(one.name, "not-a-file", reason=kind)
        if not one.exists():
            raise InputError.of(one.name, "missing-file")
        if one.size() in {w.size for w in reading.waiting}:  # (a waiting half, again?)
            sha256 = one.sha256()[0]
            if any(w.sha256 == sha256 for w in reading.waiting):
                reading.halves.listed[sha256] = (source, one)
                return None
        admitted = intake.admit(one)
        if isinstance(admitted, Skip):
            entry = {"path": one.name, "sha256": admitted.sha256, "reason": admitted.reason}
            report.skipped.append(entry)
            events.emit("input_skipped", **entry, message=f"skipped {one.name}: "
                        f"{admitted.reason}; use --force to ingest it again")
            return Outcome(one, Fate.ALREADY_INGESTED)
        plan = reading.plan
        mappings, channel = plan.mappings, plan.channel or one.channel
        if one.origin.get("kind") == "rejects":  # (a rejects file's rows: their own mapping)
            mappings, channel = reading.fed_back_mappings, one.channel
        result = read_any(one, mappings, channel, plan.timezone,
                          admitted, spill_dir=reading.spill_dir, progress=progress,
                          together=reading.together)
        intake.read(one, (result.sha256, result.size))
        if isinstance(result, ReadHalf):
            reading.halves.new.append((source, Half.of(result)))
            return None
        if "mail" in one.origin:  # lineage in the manifest: which mail, which part
            result.details["mail"] = {key: one.origin[key] for key in MAIL_LINEAGE
                                      if key in one.origin}
        reading.checked.append(result)
        return Outcome(one, Fate.INGESTED)
    except InputError as exc:
        if one.optional and exc.code == "unknown-channel":
            # A table in a mail's body that no mapping knows is not an order (a signature
            # laid out in columns, a price list): passed over, and said so.
            events.emit("input_passed_over", path=one.name, reason=exc.reason,
                        message=f"passed over {one.name}: not an order table ({exc.reason})")
            return Outcome(one, Fate.PASSED_OVER, exc.code, exc.reason)
        return reading.failed(one, exc)
    except Exception as raised:  # (anything else: _input_failure says what it becomes)
        return reading.failed(one, raised)


def _open_mail(one: Input, reading: _Reading) -> list[OpenedMail] | Outcome:
    """A mail input (one mail, or an mbox of them) opened; its failure's outcome when it
    cannot be read at all."""
    try:
        if (kind := one.not_regular()) is not None:  # (reading a FIFO would wait forever)
            raise InputError.of(one.name, "not-a-file", reason=kind)
        return open_mails(one)
    except Exception as raised:
        return reading.failed(one, raised)


def _read_mail(source: Source, one: Input, mails: list[OpenedMail],
               reading: _Reading) -> Outcome:
    """Read an opened mail's parts. Its outcome: read, when every part was read (or was
    read before); for the next run, when a part could not be read for a passing reason;
    for review otherwise (a damaged or unreadable part, a document with no reader yet,
    nothing to read at all), with every reason."""
    reasons: list[str] = []
    codes: list[str] = []
    retry = False
    for opened in mails:
        taken, failed = False, bool(opened.problems)
        for problem in opened.problems:
            reading.failed(problem_input(one, problem), problem)
            reasons.append(problem.reason)
            codes.append(problem.code)
        for part in opened.parts:
            outcome = _read_one(source, part, reading)
            if outcome is None or outcome.fate in (Fate.INGESTED, Fate.ALREADY_INGESTED):
                taken = True  # (None: half of a two-file export, kept in the state)
            elif outcome.fate is Fate.RETRY:
                retry = True
            elif outcome.fate is Fate.UNREADABLE:
                failed = True
                reasons.append(f"{part.name}: {outcome.reason}")
                codes.append(outcome.code or "unreadable-file")
        if not (taken or failed or retry):
            nothing = opened.nothing_to_read()
            reading.failed(one, nothing)
            reasons.append(nothing.reason)
            codes.append(nothing.code)
    if retry:
        return Outcome(one, Fate.RETRY, "cannot-open", "a part could not be read now")
    if reasons:
        return Outcome(one, Fate.UNREADABLE, codes[0], "; ".join(reasons))
    return Outcome(one, Fate.INGESTED)


def _open_rejects(one: Input, reading: _Reading) -> list[Input] | Outcome:
    """A rejects file fed back in, opened into the inputs it holds rows of; its failure's
    outcome when it cannot be read."""
    try:
        parts, passed_over = open_rejects(one, reading.plan.mappings)
    except Exception as raised:
        return reading.failed(one, raised)
    for reason in passed_over:
        reading.events.emit("input_passed_over", path=one.name, reason=reason,
                            message=f"passed over in {one.name}: {reason}")
    return parts


def _read_fed_back(source: Source, one: Input, parts: list[Input],
                   reading: _Reading) -> Outcome:
    """Read the inputs of a rejects file fed back in. Its outcome: read, when each was
    read (or was before); otherwise that of the first that was not."""
    for part in parts:
        outcome = _read_one(source, part, reading)
        if outcome is not None and outcome.fate not in (Fate.INGESTED, Fate.ALREADY_INGESTED):
            return Outcome(one, outcome.fate, outcome.code, f"{part.name}: {outcome.reason}")
    return Outcome(one, Fate.INGESTED)


def problem_input(mail: Input, problem: InputError) -> Input:
    """The input a mail's problem is reported under (its name names the part)."""
    return Input.from_bytes(problem.path, b"", suffix="", origin=mail.origin,
                            source=mail.source)


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
    with writing_to(plan.state_dir):
        step = run_step(finished, ledger, batch_id, plan.rules, plan.merge)
    if plan.rules is not None:
        step.section["reference"] = list(plan.rules.reference.entries)
        step.section["files"] = list(plan.rules.rules.files)
        if plan.rule_warnings:
            step.section["warnings"] = list(plan.rule_warnings)
    # A profile named for some sources takes the lines of the inputs they listed.
    profiles = [job if job.sources is None else replace(job, inputs=frozenset(
        c.name for c in checked if c.input.source in job.sources)) for job in plan.profiles]
    report.batch_dir, report.manifest = publish_batch(
        finished, report.unreadable, ledger, plan.out_dir, plan.output_format, report.run_id,
        batch_id, report.unpaired, profiles, step)
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

"""The library surface, over the whole flow: what the command line calls, usable from Python.

    from ingest.api import ingest, run, history
    from ingest.config import load_settings
    report = ingest(["samples/tmall"], out="out", state_dir="state")
    print(report.summary_line(), report.exit_code)
    report = run(load_settings())          # every configured source: the nightly job
    report = poll(load_settings())         # the mailboxes only: cron, every few minutes
    for past in history(load_settings()):  # past runs and their batches, newest first
        print(past["run_id"], past["exit_code"])
    report(load_settings(), out="report.html")   # the daily report of the last 30 days

A facade: each function resolves its options against the settings and hands the work to
the module whose job it is (``ingest.runs`` for a run, ``ingest.ledger`` for history).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ingest.config import Settings, Source, load_settings, split_names
from ingest.errors import UsageError
from ingest.events import QUIET, Events
from ingest.ledger import Ledger
from ingest.mapping.detect import forced_candidates, known_names
from ingest.mapping.loader import load_mappings
from ingest.mapping.model import Mapping
from ingest.readers.encoding import ENCODINGS
from ingest.report import RunReport
from ingest.rules import prepare
from ingest.rules.merges import merge_config
from ingest.rules.model import RuleSet, load_rules
from ingest.rules.preview import RulePreview, preview_rules
from ingest.runs import RunPlan, run_sources
from ingest.sources import GivenPaths, configured
from ingest.writers import writer_for
from ingest.writers.erp import ProfileJob
from ingest.writers.lookups import parse_lookups
from ingest.writers.profiles import find_profile

if TYPE_CHECKING:  # (the report's modules load for ``report`` only)
    from ingest.reports.write import DailyReport

__all__ = ["RunReport", "approve_holds", "history", "holds", "ingest", "merges", "outstanding",
           "poll", "report", "rules_check", "rules_preview", "run", "undo_merge"]


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


def with_products(mappings: list[Mapping], products: Path | None) -> list[Mapping]:
    """The mappings with the configured product list (``products``, ORDERMILL_PRODUCTS),
    where they name none of their own (``[checks] products``)."""
    if products is None:
        return mappings
    return [m if m.checks.products else replace(m, checks=replace(
        m.checks, products=str(products))) for m in mappings]


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
    profiles: Sequence[str] | None = None,
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
    plan = _plan(settings, "ingest", out=out, state_dir=state_dir,
                 output_format=output_format, mappings=mappings, mappings_dir=mappings_dir,
                 channel=channel, encoding=encoding, sheet=sheet, force=force,
                 profiles=profiles)
    # A mail file given here is routed as the configured mailboxes route their mail.
    routes = tuple((r.sender, r.channel) for source in settings.sources if source.mailbox
                   for r in source.mailbox.routes)
    return run_sources([GivenPaths(paths, routes)], plan, events)


def run(settings: Settings, source_names: Sequence[str] = (), *, force: bool = False,
        events: Events = QUIET) -> RunReport:
    """The nightly job: every configured source (or the named ones), folders and mailboxes.
    Ingested files move to the archive, unreadable ones to quarantine with the reason beside
    them; order mails to their processed or review folder."""
    chosen = [settings.source(n) for n in source_names] if source_names else list(
        settings.sources)
    if not chosen:
        raise UsageError("no sources configured: add [[sources]] to ordermill.toml (see "
                         "`ordermill config show`), or use `ordermill ingest FILE...`")
    plan = _plan(settings, "run " + " ".join(s.name for s in chosen), force=force,
                 sources=chosen)
    return run_sources([configured(s, settings) for s in chosen], plan, events)


def poll(settings: Settings, source_names: Sequence[str] = (), *, since: date | None = None,
         force: bool = False, events: Events = QUIET) -> RunReport:
    """The mailboxes (every ``kind = "imap"`` source, or the named ones) into one batch: the
    order mails that arrived since the last poll (from ``since`` on, this once, when given),
    moved to their processed or review folder once their lines are published."""
    mailboxes = [s for s in settings.sources if s.kind == "imap"]
    if source_names:
        chosen = [settings.source(n) for n in source_names]
        folders = [s.name for s in chosen if s.kind != "imap"]
        if folders:
            raise UsageError(f"not a mailbox: {', '.join(folders)} (poll reads kind = "
                             "\"imap\" sources; `ordermill run` reads every source)")
    else:
        chosen = mailboxes
    if not chosen:
        raise UsageError("no mailbox sources configured: add a [[sources]] with kind = "
                         "\"imap\" to ordermill.toml (see the README, \"Mailboxes\")")
    plan = _plan(settings, "poll " + " ".join(s.name for s in chosen), force=force,
                 sources=chosen)
    return run_sources([configured(s, settings, since=since) for s in chosen], plan, events)


def history(settings: Settings | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Past runs, newest first, each with its summary and the batches it published."""
    settings = settings or load_settings()
    with Ledger(settings.state_dir) as ledger:
        return ledger.runs(limit)


def report(settings: Settings | None = None, *, since: date | None = None,
           until: date | None = None, out: str | Path | None = None,
           output_format: str = "html", state_dir: str | Path | None = None
           ) -> DailyReport:
    """The daily report of a period (default: the last 30 days) from the ledger, written
    to ``out`` (default ``report.html`` or ``report.pdf``) as one self-contained HTML page
    or a PDF. Reads the ledger only; raises ``UsageError`` when there is none."""
    settings = settings or load_settings()
    from ingest.reports.write import write_report

    ledger = Path(state_dir) if state_dir is not None else settings.state_dir
    return write_report(ledger / "ledger.sqlite", since, until, settings.timezone,
                        Path(out) if out is not None else None, output_format)


def outstanding(settings: Settings | None = None) -> list[dict[str, Any]]:
    """Rejected rows still outstanding, oldest batch first: rejected and not since fed back
    (fixed in a rejects file) and come through. Each: batch_id, source, source_row,
    channel, codes."""
    settings = settings or load_settings()
    with Ledger(settings.state_dir) as ledger:
        rows = ledger.outstanding().sort("seq", "source", "source_row")
    return rows.select("batch_id", "source", "source_row", "channel", "codes").to_dicts()


def _plan(settings: Settings, command: str, *, out: str | Path | None = None,
          state_dir: str | Path | None = None, output_format: str | None = None,
          mappings: list[Mapping] | None = None, mappings_dir: str | Path | None = None,
          channel: str | None = None, encoding: str | None = None, sheet: str | None = None,
          force: bool = False, profiles: Sequence[str] | None = None,
          sources: Sequence[Source] = ()) -> RunPlan:
    """Options and settings resolved into what a run needs; usage errors before any work."""
    output_format = output_format or settings.output_format
    writer_for(output_format)  # a bad format is a usage error before anything is read
    loaded = with_reader_overrides(mappings or load_mappings(mappings_dir or settings.mappings_dir),
                                   encoding=encoding, sheet=sheet)
    loaded = with_products(loaded, settings.products)
    where = str(settings.config_path or "ordermill.toml")
    rules, warnings = prepare(settings.rules, settings.reference, settings.base_dir, where)
    if rules is not None:  # (the lines of every mapping are checked with them)
        loaded = [replace(m, rules=rules) for m in loaded]
    if channel is not None and not forced_candidates(loaded, channel):
        raise UsageError(f"unknown channel or mapping {channel!r}; known: "
                         + ", ".join(known_names(loaded)))
    return RunPlan(
        command, loaded,
        out_dir=Path(out) if out is not None else settings.out_dir,
        state_dir=Path(state_dir) if state_dir is not None else settings.state_dir,
        output_format=output_format, timezone=settings.timezone, channel=channel,
        force=force, pair_wait_days=settings.pair_wait_days, rules=rules,
        rule_warnings=tuple(warnings), merge=merge_config(settings.merge, where),
        profiles=profile_jobs(settings, split_names(profiles) or settings.profiles, sources))


def profile_jobs(settings: Settings, names: Sequence[str], sources: Sequence[Source] = ()
                 ) -> tuple[ProfileJob, ...]:
    """The ERP profiles a run writes: ``names`` for every line, and each source's own for
    its lines; each loaded and checked, with the code tables it uses (read now: a bad
    profile or table is a usage error before anything is read)."""
    wanted: dict[str, frozenset[str] | None] = dict.fromkeys(names)
    for source in sources:
        for name in source.profiles:
            if name in wanted and wanted[name] is None:
                continue
            wanted[name] = (wanted.get(name) or frozenset()) | {source.name}
    if not wanted:
        return ()
    loaded = [find_profile(name, settings.profiles_dir) for name in wanted]
    lookups = {}
    if any(p.codes for p in loaded) and settings.lookups:
        where = settings.config_path or Path("ordermill.toml")
        lookups = parse_lookups(settings.lookups, where.parent, str(where))
    return tuple(ProfileJob(p, {k: v for k, v in lookups.items() if k in p.codes},
                            settings.timezone, sources=sources_of)
                 for p, sources_of in zip(loaded, wanted.values(), strict=True))


# Order rules ------------------------------------------------------------------------------

def rules_check(paths: Sequence[str | Path]) -> RuleSet:
    """Load and check rule files (or folders of them); ``RuleError`` names the file, the
    rule, the position in its condition and the nearest name for a typo."""
    return load_rules([Path(p) for p in paths])


def rules_preview(rule_file: str | Path, on: str | Path, settings: Settings | None = None, *,
                  mappings_dir: str | Path | None = None, channel: str | None = None
                  ) -> RulePreview:
    """Which lines of ``on`` each rule of ``rule_file`` hits, with the configured reference
    data; nothing is written."""
    settings = settings or load_settings()
    where = str(settings.config_path or "ordermill.toml")
    run, _ = prepare([Path(rule_file)], settings.reference, settings.base_dir, where)
    assert run is not None
    mappings = load_mappings(mappings_dir or settings.mappings_dir)
    return preview_rules(Path(on), run, mappings, settings.timezone, channel)


def holds(settings: Settings | None = None, status: str | None = None
          ) -> list[dict[str, Any]]:
    """Orders held for approval (all, or of one status), newest first."""
    settings = settings or load_settings()
    with Ledger(settings.state_dir) as ledger:
        return ledger.holds(status)


def approve_holds(settings: Settings, hold_ids: Sequence[str], by: str, *,
                  out: str | Path | None = None, state_dir: str | Path | None = None,
                  events: Events = QUIET) -> tuple[dict[str, str], RunReport | None]:
    """Approve holds by id (each once: an id approved, released or superseded before is
    reported, not approved again), then publish their lines in a new batch. Returns what
    became of each id and the batch's report (None when nothing was approved)."""
    if not by.strip():
        raise UsageError("say who approves: --by NAME")
    if state_dir is not None:
        settings = replace(settings, values={**settings.values, "state_dir": str(state_dir)})
    with Ledger(settings.state_dir) as ledger:
        outcome = {hold_id: ledger.approve(hold_id, by.strip()) for hold_id in hold_ids}
    if "approved" not in outcome.values():
        return outcome, None
    plan = _plan(settings, "approve " + " ".join(hold_ids), out=out)
    return outcome, run_sources([], plan, events)


def approvals_file(path: str | Path) -> list[str]:
    """The hold ids a person approved in a copy of holds.csv: every row's ``hold_id``, or
    only the rows whose ``approved`` column says yes when it has one."""
    frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    frame = frame.rename({c: c.lstrip("\ufeff").strip() for c in frame.columns})
    if "hold_id" not in frame.columns:
        raise UsageError(f"{path}: no hold_id column (feed back a copy of a batch's holds.csv)")
    if "approved" in frame.columns:
        frame = frame.filter(pl.col("approved").str.strip_chars().str.to_lowercase()
                             .is_in(["yes", "y", "true", "x", "1", "是", "ok"]))
    return frame["hold_id"].drop_nulls().str.strip_chars().unique(maintain_order=True).to_list()


def merges(settings: Settings | None = None) -> dict[str, Any]:
    """The merges of the published batches (from their manifests) and the undone groups."""
    settings = settings or load_settings()
    with Ledger(settings.state_dir) as ledger:
        undone = {u["merge_group"]: u for u in ledger.merges_undone()}
        groups: list[dict[str, Any]] = []
        for run_entry in ledger.runs(limit=1000):
            for batch in run_entry["batches"]:
                manifest = Path(batch["out_dir"]) / batch["batch_id"] / "manifest.json"
                if not manifest.is_file():
                    continue
                data = json.loads(manifest.read_text("utf-8"))
                for group in (data.get("rules") or {}).get("merges", []):
                    groups.append({**group, "batch_id": batch["batch_id"],
                                   "undone": undone.get(group["merge_group"])})
        return {"merges": groups, "undone": list(undone.values())}


def undo_merge(settings: Settings, group: str, by: str, reason: str | None = None) -> bool:
    """Undo a merge group: recorded in the ledger (who, when, why), nothing deleted; its
    orders never merge again. False when it was undone before."""
    if not by.strip():
        raise UsageError("say who undoes it: --by NAME")
    with Ledger(settings.state_dir) as ledger:
        return ledger.undo_merge(group, by.strip(), reason)

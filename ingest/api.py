"""The library surface, over the whole flow: what the command line calls, usable from Python.

    from ingest.api import ingest, run, history
    from ingest.config import load_settings
    report = ingest(["samples/tmall"], out="out", state_dir="state")
    print(report.summary_line(), report.exit_code)
    report = run(load_settings())          # every configured source: the nightly job
    report = poll(load_settings())         # the mailboxes only: cron, every few minutes
    for past in history(load_settings()):  # past runs and their batches, newest first
        print(past["run_id"], past["exit_code"])

A facade: each function resolves its options against the settings and hands the work to
the module whose job it is (``ingest.runs`` for a run, ``ingest.ledger`` for history).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from ingest.config import Settings, load_settings
from ingest.errors import UsageError
from ingest.events import QUIET, Events
from ingest.ledger import Ledger
from ingest.mapping.detect import forced_candidates, known_names
from ingest.mapping.loader import load_mappings
from ingest.mapping.model import Mapping
from ingest.readers.encoding import ENCODINGS
from ingest.report import RunReport
from ingest.runs import RunPlan, run_sources
from ingest.sources import GivenPaths, configured
from ingest.writers import writer_for

__all__ = ["RunReport", "history", "ingest", "poll", "run"]


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
                 channel=channel, encoding=encoding, sheet=sheet, force=force)
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
    plan = _plan(settings, "run " + " ".join(s.name for s in chosen), force=force)
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
    plan = _plan(settings, "poll " + " ".join(s.name for s in chosen), force=force)
    return run_sources([configured(s, settings, since=since) for s in chosen], plan, events)


def history(settings: Settings | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Past runs, newest first, each with its summary and the batches it published."""
    settings = settings or load_settings()
    ledger = Ledger(settings.state_dir)
    try:
        return ledger.runs(limit)
    finally:
        ledger.close()


def _plan(settings: Settings, command: str, *, out: str | Path | None = None,
          state_dir: str | Path | None = None, output_format: str | None = None,
          mappings: list[Mapping] | None = None, mappings_dir: str | Path | None = None,
          channel: str | None = None, encoding: str | None = None, sheet: str | None = None,
          force: bool = False) -> RunPlan:
    """Options and settings resolved into what a run needs; usage errors before any work."""
    output_format = output_format or settings.output_format
    writer_for(output_format)  # a bad format is a usage error before anything is read
    loaded = with_reader_overrides(mappings or load_mappings(mappings_dir or settings.mappings_dir),
                                   encoding=encoding, sheet=sheet)
    loaded = with_products(loaded, settings.products)
    if channel is not None and not forced_candidates(loaded, channel):
        raise UsageError(f"unknown channel or mapping {channel!r}; known: "
                         + ", ".join(known_names(loaded)))
    return RunPlan(
        command, loaded,
        out_dir=Path(out) if out is not None else settings.out_dir,
        state_dir=Path(state_dir) if state_dir is not None else settings.state_dir,
        output_format=output_format, timezone=settings.timezone, channel=channel,
        force=force, pair_wait_days=settings.pair_wait_days)

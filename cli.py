"""The ordermill command line: parse arguments, call ``ingest.api``, print, exit."""

from __future__ import annotations

import json
import os
import sys
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ingest import api
from ingest.codes import EXIT_MEANINGS
from ingest.config import SETTINGS, Settings, load_settings
from ingest.errors import ExitCode, OrdermillError, UsageError
from ingest.events import Events
from ingest.mapping.loader import load_mappings
from ingest.mapping.model import Mapping
from ingest.readers import listed_suffixes
from ingest.writers import WRITERS
from ingest.writers.profiles import ProfileError, check_profile, list_profiles, profiles_text

# ``\b`` keeps click from rewrapping the lines; the meanings are the catalogue's.
EXIT_CODES_HELP = "\b\nExit codes:\n" + "\n".join(
    f"  {int(code)} {meaning.replace('`', '')}" for code, meaning in EXIT_MEANINGS.items())

app = typer.Typer(
    name="ordermill",
    help="Turn marketplace exports into one clean, validated order schema for any ERP.\n\n"
    + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Inspect the resolved configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")
mappings_app = typer.Typer(
    help="Channels and their mapping files: list, check, detect, suggest, preview.\n\n"
    "Adding a channel: suggest a draft from an export, review it, check it, detect and "
    "preview the export with it, then ingest (README: \"Add a new channel\").",
    no_args_is_help=True)
app.add_typer(mappings_app, name="mappings")
profiles_app = typer.Typer(
    help="ERP import profiles: list them, check a profile file (README: \"ERP profiles\").",
    invoke_without_command=True)
app.add_typer(profiles_app, name="profiles")
rules_app = typer.Typer(help="Check order rule files and preview what they hit.",
                        no_args_is_help=True)
app.add_typer(rules_app, name="rules")
holds_app = typer.Typer(help="Orders held for approval by a rule: list and approve.",
                        no_args_is_help=True)
app.add_typer(holds_app, name="holds")
merges_app = typer.Typer(help="Repeat orders merged by [merge]: list and undo.",
                         no_args_is_help=True)
app.add_typer(merges_app, name="merges")


if TYPE_CHECKING:
    OutputFormat = StrEnum
else:
    # --format's choices are the registered writers (ingest.writers), not a second list.
    # Built at run time, so type checkers see it as what it is: some StrEnum.
    OutputFormat = StrEnum("OutputFormat", {name: name for name in WRITERS})


class LogFormat(StrEnum):
    text = "text"
    json = "json"


ConfigOption = Annotated[str | None, typer.Option(
    "--config", help="Config file [default: $ORDERMILL_CONFIG, else ./ordermill.toml].",
    show_default=False)]
StateOption = Annotated[Path | None, typer.Option(
    "--state-dir", help="Where the ledger and the run lock live [default: from config, "
    "else ./state].", show_default=False)]
JsonOption = Annotated[bool, typer.Option(
    "--json", help="Print a machine-readable result on stdout instead of the summary line.")]
LogOption = Annotated[LogFormat, typer.Option(
    "--log-format", help="text: only what needs a person's eye; json: one event per line "
    "on stderr (run start/end, each input, each quarantined file).")]
ForceOption = Annotated[bool, typer.Option(
    "--force", help="Ingest files again even if the ledger has seen them.")]
ProfileOption = Annotated[list[str] | None, typer.Option(
    "--profile", "-p", help="Also write the clean lines in this ERP's import layout, in "
    "the batch's profiles/<name>/ (repeat it, or a comma list: odoo,json; see `ordermill "
    "profiles`) [default: from config].", show_default=False)]


RulesOption = Annotated[list[Path] | None, typer.Option(
    "--rules", help="Order rule file, or folder of them, run instead of the configured "
    "ones (repeat it: they run in this order; see `ordermill rules`) [default: from config "
    "`rules`, else none].", show_default=False)]


def _profiles(profile: list[str] | None) -> str | None:
    return ",".join(profile) if profile else None


def _rules(rules: list[Path] | None) -> str | None:
    return ",".join(map(str, rules)) if rules else None


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"ordermill {version('ordermill')}")
        raise typer.Exit()


@app.callback()
def ordermill(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Turn marketplace exports into one clean, validated order schema for any ERP."""


def _progress_bar(total_hint: int) -> tuple[AbstractContextManager[Any], Any]:
    """A progress bar on a terminal only: cron mail stays clean."""
    if not sys.stderr.isatty():
        return nullcontext(), None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    # files done of files, and the bar within a big file as it is read
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                   MofNCompleteColumn(), TextColumn("files"), TimeElapsedColumn(),
                   transient=True)
    task = bar.add_task("files", total=total_hint or None)

    def step(path: str, done: float, total: int) -> None:
        bar.update(task, completed=done, total=total, description=Path(path).name[:40])

    return bar, step


def _finish(report: api.RunReport, as_json: bool) -> None:
    if as_json:
        body: dict[str, Any] = report.summary()
        if report.manifest:
            body["manifest"] = report.manifest
        typer.echo(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        typer.echo(report.summary_line(), err=True)
    raise typer.Exit(int(report.exit_code))


@app.command(epilog=EXIT_CODES_HELP)
def ingest(
    paths: Annotated[list[Path], typer.Argument(
        help=f"Export files, or folders holding them ({' '.join(listed_suffixes())}).",
        # An input that cannot be read is ordermill's to report (exit 3, the others still
        # read), not the argument parser's (exit 2, nothing read).
        readable=False, show_default=False)],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Directory the batch is published in, as OUT/<batch_id>/ "
        "[default: from config, else ./out].", show_default=False)] = None,
    output_format: Annotated[OutputFormat | None, typer.Option(
        "--format", "-f", help="Format of orders.*: csv, parquet (keeps Decimal and "
        "datetime types) or ndjson [default: from config, else csv].",
        show_default=False)] = None,
    channel: Annotated[str | None, typer.Option(
        "--channel", "-c", help="Read every input with this mapping: a channel (the layout "
        "whose signature columns are most present) or a mapping's name; a missing signature "
        "column is noted, not a reason to refuse the file.")
    ] = None,
    encoding: Annotated[str | None, typer.Option(
        "--encoding", help="Read every input in this encoding (utf-8, gb18030, utf-16 ...) "
        "instead of detecting it.", show_default=False)] = None,
    sheet: Annotated[str | None, typer.Option(
        "--sheet", help="xlsx: the sheet to read, by name or 0-based index [default: the "
        "first].", show_default=False)] = None,
    mappings: Annotated[Path | None, typer.Option(
        "--mappings", help="Directory of mapping files [default: from config, else the "
        "bundled mappings/].", show_default=False)] = None,
    force: ForceOption = False,
    profile: ProfileOption = None,
    rules: RulesOption = None,
    state_dir: StateOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    log_format: LogOption = LogFormat.text,
) -> None:
    """Ingest export files into one batch: orders, rejects.csv and manifest.json.

    Files already ingested (same content, any name) are skipped; lines already output
    with the same content are counted as duplicates, changed ones are output as updates.

    \b
    Examples:
      ordermill ingest samples/ --out out
      ordermill ingest tmall_export.csv --format parquet --json > result.json
      ordermill ingest orders.xlsx --channel shopify --sheet Orders
      ordermill ingest samples/shopify --profile odoo --profile json
    """
    settings = load_settings({"out_dir": str(out) if out else None,
                              "format": output_format.value if output_format else None,
                              "state_dir": str(state_dir) if state_dir else None,
                              "profile": _profiles(profile), "rules": _rules(rules),
                              "mappings_dir": str(mappings) if mappings else None}, config)
    bar, step = _progress_bar(len(paths))
    with bar:
        report = api.ingest(paths, settings=settings, channel=channel, encoding=encoding,
                            sheet=sheet, force=force,
                            events=Events(log_format.value, progress=step))
    _finish(report, as_json)


@app.command(epilog=EXIT_CODES_HELP)
def run(
    sources: Annotated[list[str] | None, typer.Argument(
        help="Names of configured sources [default: all of them].", show_default=False)
    ] = None,
    force: ForceOption = False,
    profile: ProfileOption = None,
    rules: RulesOption = None,
    state_dir: StateOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    log_format: LogOption = LogFormat.text,
) -> None:
    """Process every configured source (or the named ones): the nightly job.

    Ingested files move to the archive (dated folders), unreadable ones to quarantine
    with <name>.reason.txt beside them; order mails to their processed or review folder.
    Nothing is deleted. One run at a time.

    \b
    Examples:
      ordermill run                       # every source in ./ordermill.toml
      ordermill run tmall-shop --json     # one source, result as JSON
      ordermill run --log-format json     # structured logs on stderr
    """
    settings = load_settings({"state_dir": str(state_dir) if state_dir else None,
                              "profile": _profiles(profile), "rules": _rules(rules)}, config)
    bar, step = _progress_bar(0)
    with bar:
        report = api.run(settings, sources or (), force=force,
                         events=Events(log_format.value, progress=step))
    _finish(report, as_json)


@app.command(epilog=EXIT_CODES_HELP)
def poll(
    sources: Annotated[list[str] | None, typer.Argument(
        help="Names of configured mailbox sources [default: every kind = \"imap\" source].",
        show_default=False)] = None,
    since: Annotated[datetime | None, typer.Option(
        "--since", formats=["%Y-%m-%d"], show_default=False,
        help="This once, also take order mail from this date on (YYYY-MM-DD): a first poll "
        "otherwise takes only mail that arrives from then on.")] = None,
    force: ForceOption = False,
    profile: ProfileOption = None,
    rules: RulesOption = None,
    state_dir: StateOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    log_format: LogOption = LogFormat.text,
) -> None:
    """Poll the mailboxes for purchase orders into one batch: for cron, every few minutes.

    Only mail that arrived since the last poll is fetched (unread mail stays unread); order
    mails (subject and sender rules) go to processed_folder once their lines are published,
    or to review_folder with the reason when nothing in them can be read. Nothing is
    deleted, and nothing is output twice, even when a poll is killed half-way.

    \b
    Examples:
      ordermill poll                         # every mailbox in ./ordermill.toml
      ordermill poll po-mail --since 2026-12-01
      */5 * * * * cd /srv/orders && ordermill poll --log-format json 2>>poll.log
    """
    settings = load_settings({"state_dir": str(state_dir) if state_dir else None,
                              "profile": _profiles(profile), "rules": _rules(rules)}, config)
    bar, step = _progress_bar(0)
    with bar:
        report = api.poll(settings, sources or (), since=since.date() if since else None,
                          force=force, events=Events(log_format.value, progress=step))
    _finish(report, as_json)


@app.command()
def history(
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs.")] = 20,
    state_dir: StateOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    outstanding: Annotated[bool, typer.Option(
        "--outstanding", help="Instead: the rejected rows still outstanding (not fed back "
        "fixed and come through), oldest batch first.")] = False,
) -> None:
    """Past runs and their batches with counts, newest first.

    \b
    Examples:
      ordermill history -n 5
      ordermill history --outstanding        # rejected rows not yet fixed and fed back
    """
    settings = load_settings({"state_dir": str(state_dir) if state_dir else None}, config)
    if outstanding:
        _outstanding(api.outstanding(settings), as_json)
        return
    runs = api.history(settings, limit)
    if as_json:
        typer.echo(json.dumps(runs, indent=2, ensure_ascii=False))
        return
    if not runs:
        typer.echo("no runs yet")
    for entry in runs:
        totals = (entry["summary"] or {}).get("totals", {})
        counts = ", ".join(f"{totals.get(k, 0):,} {k}" for k in (
            "rows_in", "clean", "rejected", "duplicates", "updates", "waiting", "warnings",
            "joined", "skipped", "unreadable", "unpaired"))
        status = "killed or running" if entry["exit_code"] is None else f"exit {entry['exit_code']}"
        error = (entry["summary"] or {}).get("error")
        typer.echo(f"#{entry['run_id']}  {entry['started_at']}  {entry['command']}  "
                   f"[{status}]  " + (f"stopped: {error}" if error else counts))
        for batch in entry["batches"]:
            typer.echo(f"     batch {batch['batch_id']} -> {batch['out_dir']}")
        for half in (entry["summary"] or {}).get("unpaired", []):
            typer.echo(f"     waiting: {half['path']} ({half['role']} half, since "
                       f"{half['since']}; partner-missing after {half['until']})")
        for problem in (entry["summary"] or {}).get("unreadable", []):
            reason = (problem.get("reason") or "").splitlines()[:1]
            typer.echo(f"     unreadable: {problem['path']} [{problem.get('code')}] "
                       + "".join(reason))
        for moved in (entry["summary"] or {}).get("moved", []):
            if moved["why"] not in ("archived", "processed"):  # (quarantine, review)
                typer.echo(f"     moved: {moved['path']} -> {moved['to']}")


class ReportFormat(StrEnum):
    html = "html"
    pdf = "pdf"


@app.command()
def report(
    since: Annotated[datetime | None, typer.Option(
        "--since", formats=["%Y-%m-%d"], show_default=False,
        help="First day of the period (YYYY-MM-DD) [default: 29 days before --until].")
    ] = None,
    until: Annotated[datetime | None, typer.Option(
        "--until", formats=["%Y-%m-%d"], show_default=False,
        help="Last day of the period, included [default: today].")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="The file to write [default: report.html, or report.pdf].",
        show_default=False)] = None,
    output_format: Annotated[ReportFormat, typer.Option(
        "--format", "-f", help="html: one self-contained page (charts inline, nothing "
        "fetched); pdf: the same report as a PDF.")] = ReportFormat.html,
    state_dir: StateOption = None,
    config: ConfigOption = None,
) -> None:
    """The daily report from the ledger: lines per channel per day, the exception rate and
    its trend, top reasons (Pareto), inputs and customers with the most rejects, duplicates
    and updates, unreadable inputs, mails in review, unreachable sources, largest batches.

    Days are counted in the configured timezone. The ledger is only read, never changed.

    \b
    Examples:
      ordermill report                                  # the last 30 days, report.html
      ordermill report --since 2026-11-01 --until 2026-11-30 --out november.html
      ordermill report --format pdf --out daily.pdf     # the same report as a PDF
    """
    settings = load_settings({"state_dir": str(state_dir) if state_dir else None}, config)
    written = api.report(settings, since=since.date() if since else None,
                         until=until.date() if until else None, out=out,
                         output_format=output_format.value)
    if written.message:
        typer.echo(f"note: {written.message}", err=True)
    typer.echo(written.summary_line(), err=True)


def _outstanding(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        typer.echo("nothing outstanding: every rejected row was fixed and fed back")
        return
    typer.echo(f"{len(rows):,} rejected row(s) outstanding (batch, source:row, codes):")
    for row in rows:
        typer.echo(f"  {row['batch_id']}  {row['source']}:{row['source_row']}  "
                   f"{row['codes']}")


@config_app.command("show")
def config_show(
    out: Annotated[Path | None, typer.Option("--out", show_default=False,
                                             help="As ingest --out.")] = None,
    output_format: Annotated[OutputFormat | None, typer.Option(
        "--format", show_default=False, help="As ingest --format.")] = None,
    state_dir: StateOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """The resolved settings and where each one came from (option, env, file, default).

    Options given here are resolved as they would be for ingest or run, to check what a
    command line would do. Secrets are never read from the file, so never shown.
    """
    settings: Settings = load_settings({
        "out_dir": str(out) if out else None,
        "format": output_format.value if output_format else None,
        "state_dir": str(state_dir) if state_dir else None}, config)
    rows = settings.show()
    if as_json:
        typer.echo(json.dumps([{"setting": s, "value": v, "from": o} for s, v, o in rows],
                              indent=2, ensure_ascii=False))
        return
    typer.echo(f"config file: {settings.config_path or '(none)'}")
    width = max(len(s) for s, _, _ in rows)
    for setting, value, origin in rows:
        typer.echo(f"{setting:<{width}}  {value}    [{origin}]")
    typer.echo("\nenvironment variables: " + ", ".join(env for _, env, _ in SETTINGS.values()))


MappingsOption = Annotated[Path | None, typer.Option(
    "--mappings", help="Directory of mapping files [default: from config, else the bundled "
    "mappings/].", show_default=False)]


def _settings_with(mappings: Path | None, config: str | None) -> Settings:
    return load_settings({"mappings_dir": str(mappings) if mappings else None}, config)


def _mappings_dir(mappings: Path | None, config: str | None) -> Path:
    return _settings_with(mappings, config).mappings_dir


def _loaded(mappings: Path | None, config: str | None) -> list[Mapping]:
    return load_mappings(_mappings_dir(mappings, config))


@mappings_app.command("list", epilog="""\b
Examples:
  ordermill mappings list
  ordermill mappings list --mappings my-mappings --json""")
def mappings_list(mappings: MappingsOption = None, config: ConfigOption = None,
                  as_json: JsonOption = False) -> None:
    """The channels of the mappings directory and how each one's files are recognised
    (header signature) and read (encoding, delimiter, sheet)."""
    from ingest.tools.channels import channels_text, list_channels
    directory = _mappings_dir(mappings, config)
    rows = list_channels(directory)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        raise UsageError(f"{directory}: holds no mapping files (*.toml); draft one with "
                         "`ordermill mappings suggest FILE`")
    typer.echo(channels_text(rows, directory))


@mappings_app.command("check", epilog="""\b
Examples:
  ordermill mappings check                    # every file of the mappings directory
  ordermill mappings check mappings/etsy.toml
\b
Exit codes: 0 all fine (warnings may be printed), 2 a mapping has problems""")
def mappings_check(
    files: Annotated[list[Path] | None, typer.Argument(
        help="Mapping files or folders [default: the mappings directory].",
        show_default=False)] = None,
    mappings: MappingsOption = None,
    config: ConfigOption = None,
) -> None:
    """Check mapping files: every problem of each file with its key and a fix, a layout of
    a channel read by two files, and signatures that would recognise another channel's files too."""
    from ingest.tools.check import check_beside, check_paths
    directory = _mappings_dir(mappings, config)
    paths = list(files) if files else [directory]
    # a draft is checked beside the channels it will join
    report = check_beside(paths, directory) if files else check_paths(paths)
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if not report.files:
        raise UsageError(f"no mapping files (*.toml) in {', '.join(map(str, paths))}")
    if not report.ok:
        for problem in report.problems:
            typer.echo(str(problem), err=True)
        broken = sum(1 for f in report.files if f.problems)
        typer.echo(f"{len(report.problems)} problem(s) in {broken} of {len(report.files)} "
                   "mapping file(s)", err=True)
        raise typer.Exit(int(ExitCode.USAGE))
    channels = ", ".join(m.name if m.name == m.channel else f"{m.name} ({m.shown})"
                         for m in report.mappings)
    typer.echo(f"{len(report.files)} mapping file(s) OK: {channels}"
               + (f" ({len(report.warnings)} warning(s))" if report.warnings else ""))


@mappings_app.command("detect", epilog="""\b
Examples:
  ordermill mappings detect export.csv
  ordermill mappings detect orders.xlsx --mappings my-mappings --json
\b
Exit codes: 0 a mapping matches, 3 none does (or the file cannot be read)""")
def mappings_detect(
    file: Annotated[Path, typer.Argument(help="An export file.", show_default=False)],
    mappings: MappingsOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Which mapping recognises the file and why (the signature columns found, the header
    row, encoding, delimiter or sheet); when none does, the nearest mappings and the
    signature columns each one lacks."""
    from ingest.tools.channels import explain, explanation_lines
    found = explain(file, _loaded(mappings, config))
    if as_json:
        typer.echo(json.dumps(found.as_dict(), indent=2, ensure_ascii=False))
    else:
        for line in explanation_lines(file, found):
            typer.echo(line, err=not found.matched)
    raise typer.Exit(int(ExitCode.CLEAN if found.matched else ExitCode.UNREADABLE))


@mappings_app.command("suggest", epilog="""\b
Examples:
  ordermill mappings suggest etsy-orders.csv --channel etsy --out mappings/etsy.toml
  ordermill mappings suggest po.xlsx --sheet Orders      # the draft on stdout""")
def mappings_suggest(
    file: Annotated[Path, typer.Argument(help="An export of the new channel.",
                                         show_default=False)],
    channel: Annotated[str | None, typer.Option(
        "--channel", "-c", help="Name of the new channel [default: from the file name].",
        show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write the draft here [default: print it].", show_default=False)
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --out if it exists.")
                     ] = False,
    encoding: Annotated[str | None, typer.Option(
        "--encoding", help="Read the file in this encoding instead of detecting it.",
        show_default=False)] = None,
    sheet: Annotated[str | None, typer.Option(
        "--sheet", help="xlsx: the sheet, by name or 0-based index [default: the first].",
        show_default=False)] = None,
    mappings: MappingsOption = None,
    config: ConfigOption = None,
) -> None:
    """Draft a mapping for an export no mapping recognises yet, from its column names and
    a sample of its values. Each guess carries its confidence and reason as a comment;
    columns left unmapped are listed. Review the draft, then `ordermill mappings check` it."""
    from ingest.tools import draft
    directory = _mappings_dir(mappings, config)
    known = load_mappings(directory) if directory.is_dir() else []
    text, drafted = draft.draft_mapping(file, known, channel=channel, encoding=encoding,
                                        sheet=sheet, out=out, force=force)
    if out is None:
        typer.echo(text, nl=False)
    else:
        typer.echo(draft.written_summary(out, drafted), err=True)


@mappings_app.command("preview", epilog="""\b
Examples:
  ordermill mappings preview export.csv
  ordermill mappings preview export.csv --mapping mappings/etsy.toml --rows 20
\b
Exit codes: 0 every row clean, 1 some rows rejected, 3 the file cannot be read""")
def mappings_preview(
    file: Annotated[Path, typer.Argument(help="An export file.", show_default=False)],
    mapping: Annotated[str | None, typer.Option(
        "--mapping", "-m", help="A channel, a mapping's name (its file stem) or a mapping "
        "file; read with it even if the header lacks signature columns [default: detected].",
        show_default=False)] = None,
    rows: Annotated[int, typer.Option("--rows", "-n", min=1,
                                      help="How many rows and rejects to show.")] = 10,
    mappings: MappingsOption = None,
    config: ConfigOption = None,
) -> None:
    """The first mapped rows and the rejects (codes, messages, source row) as ingest would
    make them. Nothing is written: no batch, no ledger entry."""
    from ingest.tools.preview import preview_file, preview_text
    settings = _settings_with(mappings, config)
    shown = preview_file(file, mapping, settings.mappings_dir, rows, settings.timezone)
    typer.echo(preview_text(shown))
    raise typer.Exit(int(ExitCode.REJECTS if shown.rejected else ExitCode.CLEAN))


ProfilesDirOption = Annotated[Path | None, typer.Option(
    "--profiles", help="Directory of your own profile files [default: from config "
    "(profiles_dir); the bundled ones are always listed].", show_default=False)]


@profiles_app.callback()
def profiles_main(ctx: typer.Context, profiles: ProfilesDirOption = None,
                  config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """The ERP profiles (bundled and your own): files, codes looked up, how updates go."""
    if ctx.invoked_subcommand is not None:
        return
    settings = load_settings({"profiles_dir": str(profiles) if profiles else None}, config)
    infos = list_profiles(settings.profiles_dir)
    if as_json:
        typer.echo(json.dumps([vars(i) for i in infos], indent=2, ensure_ascii=False))
        return
    typer.echo(profiles_text(infos))


@profiles_app.command("check", epilog="""\b
Examples:
  ordermill profiles check my-profiles/acme-erp.toml
\b
Exit codes: 0 the profile is fine, 2 it has problems""")
def profiles_check(
    files: Annotated[list[Path], typer.Argument(help="Profile files (*.toml).",
                                                show_default=False)],
) -> None:
    """Check profile files: every problem with its key and the nearest name for a typo."""
    broken = 0
    for file in files:
        try:
            loaded = check_profile(file)
        except ProfileError as exc:
            broken += 1
            for problem in exc.problems:
                typer.echo(f"{file}: {problem}", err=True)
            continue
        typer.echo(f"{file}: OK: {loaded.name} ({loaded.erp}), "
                   f"{len(loaded.files)} file(s), codes: {', '.join(loaded.codes) or 'none'}")
    if broken:
        raise typer.Exit(int(ExitCode.USAGE))


@rules_app.command("check", epilog="""\b
Examples:
  ordermill rules check rules/              # every rule file of a folder
  ordermill rules check rules/stock.toml
\b
Exit codes: 0 every rule is fine, 2 a rule has a problem (named with its position)""")
def rules_check(
    files: Annotated[list[Path], typer.Argument(help="Rule files or folders of them.")],
) -> None:
    """Check rule files: every name, function and value of each condition, with the rule,
    the position and the nearest name for a typo."""
    loaded = api.rules_check(files)
    if not loaded.rules:
        raise UsageError(f"no rules in {', '.join(map(str, files))}")
    for rule in loaded.rules:
        tables = f" (reads {', '.join(sorted(rule.tables))})" if rule.tables else ""
        typer.echo(f"{rule.path}: {rule.name}: {rule.action} {rule.scope}{tables}")
    typer.echo(f"{len(loaded.rules)} rule(s) OK in {len(loaded.files)} file(s)")


@rules_app.command("preview", epilog="""\b
Examples:
  ordermill rules preview rules/flags.toml --on samples/tmall/export.csv
\b
Nothing is written: no batch, no ledger.""")
def rules_preview(
    file: Annotated[Path, typer.Argument(help="A rule file (or a folder of them).")],
    on: Annotated[Path, typer.Option("--on", help="An export to run the rules over.")],
    mappings: MappingsOption = None,
    channel: Annotated[str | None, typer.Option(help="Read with this mapping.")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Which lines of an export each rule hits (by source row), with the configured
    reference data; nothing is written."""
    settings = load_settings({"mappings_dir": str(mappings) if mappings else None}, config)
    shown = api.rules_preview(file, on, settings, channel=channel)
    if as_json:
        typer.echo(json.dumps(shown.__dict__, indent=2, ensure_ascii=False))
        return
    typer.echo(shown.text())


@holds_app.command("list")
def holds_list(
    status: Annotated[str | None, typer.Option(
        help="pending, approved, released or superseded [default: all]")] = None,
    state_dir: StateOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Orders held for approval, newest first: the rule, who approves, what became of it."""
    settings = load_settings({"state_dir": str(state_dir) if state_dir else None}, config)
    found = api.holds(settings, status)
    if as_json:
        typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    if not found:
        typer.echo("no holds")
    for hold in found:
        done = {"approved": f" by {hold['approved_by']}",
                "released": f" by {hold['approved_by']} in batch {hold['released_batch']}"
                }.get(hold["status"], "")
        typer.echo(f"{hold['hold_id']}  {hold['channel']}:{hold['order_id']}  "
                   f"{hold['rule']} (approver: {hold['approver']})  {hold['lines']} line(s)  "
                   f"{hold['status']}{done}  {hold['message'] or ''}")


@holds_app.command("approve", epilog="""\b
Examples:
  ordermill holds approve H1234567890 --by "Li Na"
  ordermill holds approve --file out/<batch>/holds.csv --by "Li Na"   # rows kept, or approved=yes
\b
The approved orders' lines are published at once in a new batch, exactly once.""")
def holds_approve(
    hold_ids: Annotated[list[str] | None, typer.Argument(help="Hold ids.")] = None,
    by: Annotated[str, typer.Option("--by", help="Who approves (recorded).")] = "",
    file: Annotated[Path | None, typer.Option(
        "--file", help="A copy of holds.csv: its hold_id rows (approved = yes, if it has "
        "that column).")] = None,
    out: Annotated[Path | None, typer.Option(help="Where the batch goes.")] = None,
    state_dir: StateOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve held orders: their lines go out in a new batch, once (an id approved before
    is said so, never output twice)."""
    settings = load_settings({"state_dir": str(state_dir) if state_dir else None}, config)
    ids = list(hold_ids or []) + (api.approvals_file(file) if file else [])
    if not ids:
        raise UsageError("name hold ids, or --file with a copy of holds.csv")
    outcome, report = api.approve_holds(settings, ids, by, out=out)
    if as_json:
        typer.echo(json.dumps({"holds": outcome, "result": report.summary() if report
                               else None}, indent=2, ensure_ascii=False, default=str))
    else:
        for hold_id, what in outcome.items():
            typer.echo(f"{hold_id}: " + {"approved": "approved", "unknown": "no such hold"}.get(
                what, f"not approved: already {what}"), err=what != "approved")
        if report is not None:
            typer.echo(report.summary_line(), err=True)
    if any(what != "approved" for what in outcome.values()):
        raise typer.Exit(int(ExitCode.REJECTS))


@merges_app.command("list")
def merges_list(state_dir: StateOption = None, config: ConfigOption = None,
                as_json: JsonOption = False) -> None:
    """The merges of the published batches, with their reasons; undone ones say by whom."""
    settings = load_settings({"state_dir": str(state_dir) if state_dir else None}, config)
    found = api.merges(settings)
    if as_json:
        typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    if not found["merges"]:
        typer.echo("no merges")
    for group in found["merges"]:
        undone = group.get("undone")
        note = f"  UNDONE by {undone['undone_by']} at {undone['undone_at']}" if undone else ""
        typer.echo(f"{group['merge_group']}  batch {group['batch_id']}  "
                   f"{', '.join(group['orders'])}  ({group['reason']}){note}")


@merges_app.command("undo")
def merges_undo(
    group: Annotated[str, typer.Argument(help="The merge group (channel:order_id).")],
    by: Annotated[str, typer.Option("--by", help="Who undoes it (recorded).")] = "",
    reason: Annotated[str | None, typer.Option(help="Why (recorded).")] = None,
    state_dir: StateOption = None,
    config: ConfigOption = None,
) -> None:
    """Undo a merge: recorded in the ledger, nothing deleted (the orders were never
    changed); its orders never merge again."""
    settings = load_settings({"state_dir": str(state_dir) if state_dir else None}, config)
    if api.undo_merge(settings, group, by, reason):
        typer.echo(f"{group}: undone; its orders stay as they are and merge no more")
    else:
        typer.echo(f"{group}: was undone before", err=True)


def main() -> None:
    """Console entry point: no traceback reaches the user, every failure has its exit code.
    Usage errors are reported by Typer itself (exit 2)."""
    try:
        app()
    except OrdermillError as exc:
        typer.echo(f"ordermill: {exc}", err=True)
        sys.exit(int(exc.exit_code))
    except Exception as exc:  # a bug: say so plainly, keep the traceback for ORDERMILL_DEBUG
        if os.environ.get("ORDERMILL_DEBUG"):
            raise
        typer.echo(f"ordermill: internal error: {type(exc).__name__}: {exc} "
                   "(rerun with ORDERMILL_DEBUG=1 for the traceback, and report it)", err=True)
        sys.exit(int(ExitCode.INTERNAL))


if __name__ == "__main__":
    main()

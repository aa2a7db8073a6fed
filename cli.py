"""The ordermill command line: parse arguments, call ``ingest.api``, print, exit."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ingest import api
from ingest.errors import ExitCode, OrdermillError

EXIT_CODES_HELP = """\b
Exit codes:
  0 every row clean
  1 some rows rejected (see rejects.csv)
  2 usage or configuration error (bad option, broken mapping)
  3 an input could not be read at all (the others were still processed)
  70 internal error: a bug; rerun with ORDERMILL_DEBUG=1 and report it
"""

app = typer.Typer(
    name="ordermill",
    help="Turn marketplace exports into one clean, validated order schema for any ERP.\n\n"
    + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


class OutputFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"
    ndjson = "ndjson"


def _progress(path: str, index: int, total: int) -> None:
    if sys.stderr.isatty() and total > 1:
        typer.echo(f"[{index + 1}/{total}] {path}", err=True)


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


@app.command(epilog=EXIT_CODES_HELP)
def ingest(
    paths: Annotated[list[Path], typer.Argument(
        help="Export files, or folders holding them (.csv .tsv .txt .xlsx .xlsm).",
        show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory the batch is "
                                      "published in, as OUT/<batch_id>/.")] = Path("out"),
    output_format: Annotated[OutputFormat, typer.Option(
        "--format", "-f", help="Format of orders.*: csv, parquet (keeps Decimal and "
        "datetime types) or ndjson.")] = OutputFormat.csv,
    channel: Annotated[str | None, typer.Option(
        "--channel", "-c", help="Skip detection and read every input with this mapping.")
    ] = None,
    encoding: Annotated[str | None, typer.Option(
        "--encoding", help="Read every input in this encoding (utf-8, gb18030, utf-16 ...) "
        "instead of detecting it.", show_default=False)] = None,
    sheet: Annotated[str | None, typer.Option(
        "--sheet", help="xlsx: the sheet to read, by name or 0-based index [default: the "
        "first].", show_default=False)] = None,
    mappings: Annotated[Path | None, typer.Option(
        "--mappings", help="Directory of mapping files [default: the bundled mappings/, or "
        "$ORDERMILL_MAPPINGS].", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the batch manifest on stdout instead of the summary line.")
    ] = False,
) -> None:
    """Ingest export files into one batch: orders, rejects.csv and manifest.json.

    \b
    Examples:
      ordermill ingest samples/ --out out
      ordermill ingest tmall_export.csv --format parquet --json > manifest.json
      ordermill ingest orders.xlsx --channel shopify
    """
    report = api.ingest(paths, out, output_format=output_format.value, mappings_dir=mappings,
                        channel=channel, encoding=encoding, sheet=sheet,
                        progress=_progress)
    for entry in report.manifest["unreadable"]:
        typer.echo(f"ordermill: cannot read {entry['path']}: {entry['reason']}", err=True)
    if as_json:
        typer.echo(json.dumps(report.manifest, indent=2, ensure_ascii=False))
    else:
        typer.echo(report.summary_line(), err=True)
    raise typer.Exit(int(report.exit_code))


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

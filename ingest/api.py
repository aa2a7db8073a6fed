"""The library surface: what the command line calls, usable from Python as it is.

    from ingest.api import ingest
    report = ingest(["samples/tmall"], out="out")
    print(report.summary_line(), report.exit_code)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ingest.batch import new_batch_id, publish
from ingest.errors import ExitCode, InputError, UsageError
from ingest.mapping.loader import ENCODINGS, load_mappings
from ingest.mapping.model import Mapping
from ingest.pipeline import PreparedInput, finish, prepare
from ingest.readers import READERS

DEFAULT_MAPPINGS = Path(__file__).resolve().parent.parent / "mappings"

Progress = Callable[[str, int, int], None]  # (path, index, total), called before each input


def default_mappings_dir() -> Path:
    return Path(os.environ.get("ORDERMILL_MAPPINGS", DEFAULT_MAPPINGS))


@dataclass(frozen=True)
class IngestReport:
    batch_id: str
    batch_dir: Path
    manifest: dict[str, Any]

    @property
    def exit_code(self) -> ExitCode:
        totals = self.manifest["totals"]
        if totals["unreadable"]:
            return ExitCode.UNREADABLE
        return ExitCode.REJECTS if totals["rejected"] else ExitCode.CLEAN

    def summary_line(self) -> str:
        t = self.manifest["totals"]
        files = f"{t['files']:,} file" + ("" if t["files"] == 1 else "s")
        line = (f"{files}, {t['rows_in']:,} lines: {t['clean']:,} clean, "
                f"{t['rejected']:,} rejected")
        if t["unreadable"]:
            line += f", {t['unreadable']:,} unreadable"
        return f"{line} -> {self.batch_dir}"


def expand_inputs(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, and the readable files inside folders (sorted, hidden ones skipped).
    A path that does not exist is kept: it is reported as unreadable, not skipped."""
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file()
                           and p.suffix.lower() in READERS
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            files.extend(found)
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


def ingest(
    paths: Sequence[str | Path],
    out: str | Path,
    *,
    output_format: str = "csv",
    mappings: list[Mapping] | None = None,
    mappings_dir: str | Path | None = None,
    channel: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest files (or folders of them) into one published batch under ``out``.

    Raises ``MappingError``/``UsageError`` for configuration problems; an input that cannot
    be read is reported in the manifest (``unreadable``) and the others are still processed.
    """
    if not paths:
        raise UsageError("no input given: name one or more files or folders")
    if mappings is None:
        mappings = load_mappings(mappings_dir or default_mappings_dir())
    mappings = with_reader_overrides(mappings, encoding=encoding, sheet=sheet)
    if channel is not None and channel not in {m.channel for m in mappings}:
        raise UsageError(f"unknown channel {channel!r}; known: "
                         + ", ".join(sorted(m.channel for m in mappings)))
    files = expand_inputs(paths)
    prepared: list[PreparedInput] = []
    unreadable: list[dict[str, str]] = []
    for index, path in enumerate(files):
        if progress:
            progress(str(path), index, len(files))
        try:
            if not path.is_file():
                raise InputError(str(path), "no such file", code="missing-file")
            prepared.append(prepare(path, mappings, channel))
        except InputError as exc:
            unreadable.append({"path": str(path), "code": exc.code, "reason": exc.reason})
    batch_id = new_batch_id()
    results = finish(prepared, batch_id)
    out_dir = Path(out)
    manifest = publish(results, unreadable, out_dir, batch_id, output_format)
    return IngestReport(batch_id, out_dir / batch_id, manifest)

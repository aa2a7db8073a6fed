"""Writing, the last stage: a batch folder (orders, rejects, warnings, manifest), staged whole.

Everything is written into a hidden staging folder beside the target and flushed to disk;
``Staged.publish`` renames it into place in one step, so a reader of ``OUT/`` sees a whole
batch or none. When that happens, and what the ledger records around it, is the publish
protocol's business (``ingest.publish``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from polars.io.plugins import register_io_source

from ingest.columns import CROP, EVIDENCE
from ingest.rules.batch import RulesStep
from ingest.schema import SCHEMA_VERSION, polars_schema
from ingest.validate import validate_clean
from ingest.verdicts import REJECT_LEAD, WARNING_COLUMNS, InputResult
from ingest.writers import COMPANIONS, Started, writer_for
from ingest.writers.erp import PROFILES_DIR, ProfileJob, write_profile
from ingest.writers.formats import write_rejects


def new_batch_id(now: datetime | None = None) -> str:
    """Sortable by time, unique across concurrent runs: 20261122T043000Z-3fa9c1."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's entries to disk (a rename is durable once its folder is)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Staged:
    """A batch written in full into its staging folder, not yet visible."""

    staging: Path
    target: Path
    manifest: dict[str, Any]

    def publish(self) -> Path:
        """Rename the batch into place (one step) and make the rename durable."""
        self.staging.rename(self.target)
        fsync_path(self.target.parent)
        return self.target

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def stage_batch(results: list[InputResult], unreadable: list[dict[str, str]], out_dir: Path,
                batch_id: str, output_format: str = "csv",
                waiting: list[dict[str, Any]] | None = None,
                profiles: Sequence[ProfileJob] = (), rules: RulesStep | None = None
                ) -> Staged:
    """Write orders, rejects and manifest for ``results`` into a staging folder under
    ``out_dir``, flushed to disk, and the clean lines in each ERP profile's layout
    (``profiles/<name>/``, ``ingest.writers.erp``). Nothing is left behind when writing
    fails."""
    extension, write_orders = writer_for(output_format)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = out_dir / f".{batch_id}.partial"
    staging.mkdir()
    started: list[tuple[str, Started]] = []  # the companions, being written meanwhile
    try:
        # The companions first: one may be written by another process while the batch's
        # own files are written here.
        started = [(name, companion(results, staging / name, batch_id))
                   for name, companion in COMPANIONS.items()]
        released = [rules.released] if rules is not None and rules.released is not None \
            else []
        clean = validated_lines([*(part for r in results for part in r.clean_parts),
                                 *released])
        # ERP profiles group the lines by order: the batch's lines are computed (and
        # validated) once, in memory, for the standard file and every profile.
        lines = clean.collect() if profiles else None
        if lines is not None:
            clean = lines.lazy()
        rejects = pl.concat([r.rejects for r in results], how="diagonal") if results else (
            pl.DataFrame(schema={name: pl.String for name in REJECT_LEAD}))
        rejects = rejects.with_columns(pl.col("source_row").cast(pl.Int64, strict=False))
        rejects = write_evidence(rejects, staging, {r.path: r.sha256 for r in results})
        warning_parts = [part for r in results for part in r.warning_parts]
        warnings = pl.concat(warning_parts) if warning_parts else pl.LazyFrame(
            schema={name: pl.Int64 if name == "source_row" else pl.String
                    for name in WARNING_COLUMNS})
        files = {f"orders.{extension}": (clean, write_orders, sum(r.clean_rows for r in results)
                                         + sum(r.height for r in released)),
                 "rejects.csv": (rejects.lazy(), write_rejects, rejects.height),
                 # For people, like the rejects: UTF-8 with a BOM, formula-guarded.
                 "warnings.csv": (warnings, write_rejects, sum(r.warnings for r in results))}
        if rules is not None and rules.held is not None:  # orders held for approval
            files["holds.csv"] = (rules.held.lazy(), write_rejects, rules.held.height)
        outputs = []
        for name, (frame, write, rows) in files.items():
            target = staging / name
            write(frame, target)
            fsync_path(target)
            outputs.append({"file": name, "rows": rows, "sha256": _sha256(target)})
        for name, companion_file in started:
            target = staging / name
            rows_written = companion_file.finish()
            if rows_written is None:
                continue
            fsync_path(target)
            outputs.append({"file": name, "rows": rows_written, "sha256": _sha256(target)})
        sections: dict[str, Any] = {}
        for job in profiles:
            assert lines is not None
            written, sections[job.profile.name] = write_profile(lines, job, staging, _sha256)
            for entry in written:
                fsync_path(staging / entry["file"])
            fsync_path(staging / PROFILES_DIR / job.profile.name)
            outputs.extend(written)
        if profiles:
            fsync_path(staging / PROFILES_DIR)
        # (``waiting``: halves of two-file exports waiting for their partner, ``ingest.pairs``)
        manifest = _manifest(batch_id, results, unreadable, outputs, waiting)
        if rules is not None and rules.section:
            manifest["rules"] = rules.section
            manifest["totals"]["held"] = sum(r.held for r in results)
            manifest["totals"]["released"] = sum(r.height for r in released)
        if sections:
            manifest["profiles"] = sections
        manifest_path = staging / "manifest.json"
        manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                 encoding="utf-8")
        fsync_path(manifest_path)
        fsync_path(staging)
    except BaseException:
        for _, companion_file in started:  # (nothing may still write into the folder)
            with contextlib.suppress(Exception):
                companion_file.cancel()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Staged(staging, out_dir / batch_id, manifest)


def write_evidence(rejects: pl.DataFrame, staging: Path, digests: dict[str, str]
                   ) -> pl.DataFrame:
    """The rejected rows' pictures (a scan's rows, ``CROP``) written beside the rejects as
    ``evidence/<input's name>-<its sha256, 10 digits>-row<row>.png``, the column holding
    them replaced by ``evidence``: each file's path relative to the batch folder."""
    if CROP not in rejects.columns:
        return rejects
    paths: list[str | None] = []
    folder = staging / EVIDENCE
    for source, row, picture in rejects.select("source", "source_row", CROP).iter_rows():
        if picture is None:
            paths.append(None)
            continue
        tag = (digests.get(str(source)) or hashlib.sha256(str(source).encode()).hexdigest())[:10]
        stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(source).stem)
        relative = f"{EVIDENCE}/{stem[:40]}-{tag}-row{row}.png"
        folder.mkdir(exist_ok=True)
        (staging / relative).write_bytes(picture)
        fsync_path(staging / relative)
        paths.append(relative)
    if folder.exists():
        fsync_path(folder)
    # (a source column of that name keeps it: the pictures' column is named apart)
    name = EVIDENCE if EVIDENCE not in rejects.columns else f"{EVIDENCE} (ordermill)"
    return rejects.with_columns(pl.Series(name, paths, dtype=pl.String)).drop(CROP)


def validated_lines(parts: list[pl.DataFrame | pl.LazyFrame]) -> pl.LazyFrame:
    """The clean lines as one lazy frame for the writer, each piece validated by pandera
    (the schema of record) as the writer takes it: a piece is computed (for a big input,
    read from the spill) once, and only one piece is in memory. An order never spans
    pieces, so pandera's order-level checks see whole orders. The lines of inputs read
    whole come in memory: runs of them are validated together, up to ``VALIDATE_ROWS``
    (a validation costs milliseconds however few its rows: once per input, it was most of
    the time a batch of small inputs took to write). (polars calls its IO-source API
    unstable: the version is pinned, and every run through publish tests it.)"""

    def pieces(columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None,
               batch_size: int | None) -> Iterator[pl.DataFrame]:
        left = n_rows
        for group in _groups(parts):
            if left is not None and left <= 0:
                return
            frame = validate_clean(group)
            if columns is not None:
                frame = frame.select(columns)
            if predicate is not None:
                frame = frame.filter(predicate)
            if left is not None:
                frame = frame.head(left)
                left -= frame.height
            yield frame

    return register_io_source(pieces, schema=polars_schema(), validate_schema=True,
                              explain_name="validated clean lines")


VALIDATE_ROWS = 100_000  # lines of inputs read whole validated at once: about a piece's worth


def _groups(parts: list[pl.DataFrame | pl.LazyFrame]) -> Iterator[pl.DataFrame]:
    """The parts in order, computed: runs of frames in memory together (at most
    ``VALIDATE_ROWS`` lines), each lazy part (a piece of a big input) alone."""
    run: list[pl.DataFrame] = []
    rows = 0
    for part in parts:
        if run and (isinstance(part, pl.LazyFrame) or rows + part.height > VALIDATE_ROWS):
            yield pl.concat(run)
            run, rows = [], 0
        if isinstance(part, pl.LazyFrame):
            yield part.collect()
            continue
        run.append(part)
        rows += part.height
    if run:
        yield pl.concat(run)


def _reject_codes(results: list[InputResult]) -> list[dict[str, int]]:
    """Per input, how many rejected lines carry each code: one query for the batch."""
    counts: list[dict[str, int]] = [{} for _ in results]
    rejecting = [pl.DataFrame([pl.repeat(i, r.rejects.height, dtype=pl.Int64, eager=True)
                               .alias("input"), r.rejects["codes"].cast(pl.String)])
                 for i, r in enumerate(results) if r.rejects.height]
    if not rejecting:
        return counts
    found = (pl.concat(rejecting).lazy()
             .select("input", pl.col("codes").str.split(";"))
             .explode("codes")
             .select("input", pl.col("codes").str.strip_chars().alias("code"))
             .filter(pl.col("code") != "")
             .group_by("input", "code").len()
             .sort("input", "code")
             .collect())
    for index, code, lines in found.iter_rows():
        counts[index][code] = lines
    return counts


def _value_counts(values: pl.Series | None) -> dict[str, int]:
    if values is None or not values.len():
        return {}
    counted = values.value_counts(sort=True, name="lines")
    return {str(name): int(n) for name, n in counted.iter_rows()}


def _manifest(batch_id: str, results: list[InputResult], unreadable: list[dict[str, str]],
              outputs: list[dict[str, Any]],
              waiting: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    inputs = [
        {
            "path": r.path,
            "sha256": r.sha256,
            "size": r.size,
            "channel": r.channel,
            "rows_in": r.rows_in,
            "clean": r.clean_rows,
            "rejected": r.rejects.height,
            "duplicates": r.duplicates,
            "updates": r.updates,
            "waiting": r.waiting,
            "warnings": r.warnings,
            **({"held": r.held} if r.held else {}),
            **({"joined": r.joined} if r.details.get("pair") else {}),
            **r.details,
            # What the daily report needs, counted once here (``ingest.reports``): rejected
            # lines per code (a line with two codes counts for each), warnings per code,
            # rejected lines per named customer.
            "reject_codes": codes,
            "warning_codes": dict(sorted(r.warning_codes.items())),
            "reject_customers": _value_counts(r.reject_customers),
        }
        for r, codes in zip(results, _reject_codes(results), strict=True)
    ]
    return {
        "batch_id": batch_id,
        "schema_version": SCHEMA_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "inputs": inputs,
        "unreadable": unreadable,
        "outputs": outputs,
        "totals": {
            "files": len(results) + len(unreadable),
            "unreadable": len(unreadable),
            "rows_in": sum(r.rows_in for r in results),
            "clean": sum(r.clean_rows for r in results),
            "rejected": sum(r.rejects.height for r in results),
            "duplicates": sum(r.duplicates for r in results),
            "updates": sum(r.updates for r in results),
            "waiting": sum(r.waiting for r in results),
            "warnings": sum(r.warnings for r in results),
            **({"joined": sum(r.joined for r in results)}
               if any(r.details.get("pair") for r in results) else {}),
        },
        "unpaired": waiting or [],
    }

"""Folder sources: list what arrived, then archive what was ingested and quarantine what
could not be read. Nothing is ever deleted: files are moved, never removed."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from ingest.config import Source

PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download")


def list_files(source: Source) -> list[Path]:
    """Files matching the source's patterns, oldest first; hidden and half-copied files
    (``.part``, ``.tmp`` ...) are left for a later run."""
    if not source.path.is_dir():
        return []
    found = {p for pattern in source.patterns for p in source.path.glob(pattern)
             if p.is_file() and not p.name.startswith(".")
             and not p.name.endswith(PARTIAL_SUFFIXES)}
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def _free_name(folder: Path, name: str) -> Path:
    """``name`` in ``folder``, or ``stem (2).ext`` and so on when taken: never overwrite."""
    target = folder / name
    counter = 2
    while target.exists():
        target = folder / f"{Path(name).stem} ({counter}){Path(name).suffix}"
        counter += 1
    return target


def archive(path: Path, archive_dir: Path, source: Source) -> Path:
    """Move an ingested file to ``archive_dir/<source>/<YYYY-MM-DD>/``."""
    folder = archive_dir / source.name / datetime.now(UTC).strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_name(folder, path.name)
    shutil.move(str(path), target)
    return target


def quarantine(path: Path, quarantine_dir: Path, source: Source, reason: str) -> Path:
    """Move an unreadable file to ``quarantine_dir/<source>/`` with ``<name>.reason.txt``."""
    folder = quarantine_dir / source.name
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_name(folder, path.name)
    shutil.move(str(path), target)
    note = target.with_name(target.name + ".reason.txt")
    note.write_text(f"{reason}\n\nfrom {path}\nat {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n",
                    encoding="utf-8")
    return target

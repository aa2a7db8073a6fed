"""Sources, the first stage: a folder that exports are dropped into (``kind = "folder"``).

It lists what arrived, then archives what was ingested (or skipped as ingested before) and
quarantines what can never be read, with the reason beside it; an input that could not be
read for a passing reason (``Fate.RETRY``) stays for the next run. Nothing is ever deleted:
files are moved, never removed.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

from ingest.config import Settings
from ingest.config import Source as SourceConfig
from ingest.errors import InputError
from ingest.inputs import Fate, Input, Outcome, shown
from ingest.ledger import Ledger

PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download")


class FolderSource:
    listing_kinds: tuple[str, ...] = ()  # (``Source``: what the folder holds, once listed)

    def __init__(self, config: SourceConfig, settings: Settings) -> None:
        self.config = config
        self.name = config.name
        self.archive_dir = settings.archive_dir
        self.quarantine_dir = settings.quarantine_dir

    def list_inputs(self, ledger: Ledger | None = None) -> list[Input]:
        """Raises InputError (``source-unreachable``) when the folder is not there: a typo
        or an unmounted share must not pass for a quiet night."""
        folder = self.config.path
        assert folder is not None  # (a folder source has a path: ingest.config)
        if not folder.is_dir():
            what = "is not a folder" if folder.exists() else "does not exist"
            raise InputError.of(str(folder), "source-unreachable",
                                reason=f"cannot list source {self.name}: {folder} {what}")
        return [Input.from_path(path, source=self.name, channel=self.config.channel)
                for path in list_files(folder, self.config.patterns)]

    def settle(self, outcome: Outcome) -> dict[str, str] | None:
        path = outcome.input.path
        if path is None or not path.exists() or outcome.fate in (Fate.RETRY, Fate.WAITING):
            return None
        if outcome.input.not_regular() is not None:
            return None  # (moving a pipe across file systems would read it: it stays, named)
        if outcome.fate is Fate.UNREADABLE:
            reason = outcome.reason or "cannot be read"
            target = quarantine(path, self.quarantine_dir / self.name, reason)
            return {"path": shown(path), "to": shown(target), "why": reason}
        target = archive(path, self.archive_dir / self.name)
        return {"path": shown(path), "to": shown(target), "why": "archived"}

    def finish(self, ledger: Ledger, run_id: int) -> list[dict[str, str]]:
        return []  # (each file was moved as it was settled)

    def close(self) -> None:
        pass


def list_files(folder: Path, patterns: tuple[str, ...]) -> list[Path]:
    """Files matching the patterns, oldest first; hidden and half-copied files (``.part``,
    ``.tmp`` ...) are left for a later run."""
    if not folder.is_dir():
        return []
    # A named pipe, socket or device under a matching name is listed too, so the run names
    # it (``not-a-file``) instead of passing over it; folders are not inputs.
    found = {p for pattern in patterns for p in folder.glob(_any_case(pattern))
             if not p.is_dir() and not p.name.startswith(".")
             and not p.name.endswith(PARTIAL_SUFFIXES)}
    return sorted(found, key=lambda p: (p.lstat().st_mtime, p.name))


def _any_case(pattern: str) -> str:
    """The glob pattern matching names in any case (``*.csv`` also takes ``ORDERS.CSV``, as
    ``ordermill ingest FOLDER`` does): each letter becomes a class of both cases, and a
    ``[...]`` class of the pattern's own takes its letters in the other case too."""
    def one(part: re.Match[str]) -> str:
        text = part.group(0)
        if text.startswith("["):
            negate = text[1] if text[1:2] in ("!", "^") else ""
            body = text[1 + len(negate):-1]
            return f"[{negate}{body}{body.swapcase()}]"
        return f"[{text.lower()}{text.upper()}]" if text.lower() != text.upper() else text
    return re.sub(r"\[[^]]+\]|.", one, pattern)


def _free_name(folder: Path, name: str) -> Path:
    """``name`` in ``folder``, or ``stem (2).ext`` and so on when taken: never overwrite."""
    target = folder / name
    counter = 2
    while target.exists():
        target = folder / f"{Path(name).stem} ({counter}){Path(name).suffix}"
        counter += 1
    return target


def archive(path: Path, folder: Path) -> Path:
    """Move an ingested file to ``folder/<YYYY-MM-DD>/``."""
    dated = folder / datetime.now(UTC).strftime("%Y-%m-%d")
    dated.mkdir(parents=True, exist_ok=True)
    target = _free_name(dated, path.name)
    shutil.move(str(path), target)
    return target


def quarantine(path: Path, folder: Path, reason: str) -> Path:
    """Move an unreadable file to ``folder`` with ``<name>.reason.txt`` beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_name(folder, path.name)
    shutil.move(str(path), target)
    note = target.with_name(target.name + ".reason.txt")
    note.write_text(f"{reason}\n\nfrom {shown(path)}\n"
                    f"at {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n",
                    encoding="utf-8")
    return target

"""Sources, the first stage: files named on the command line (``ordermill ingest PATH...``).

They are read where they are and never moved: archive and quarantine are the business of
configured sources, which own their folders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ingest.inputs import Input, Outcome
from ingest.ledger import Ledger
from ingest.readers import listed_suffixes


def expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Files as given, and the readable files inside folders (sorted, hidden ones skipped).
    A path that does not exist is kept: it is reported as unreadable, not skipped."""
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if _is_dir(path):
            files.extend(sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in listed_suffixes()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)))
        else:
            files.append(path)
    return files


def _is_dir(path: Path) -> bool:
    """Whether it is a folder; a path that cannot be looked at is taken as a file, which
    the run then reports as unreadable (named, with the reason), not as a crash."""
    try:
        return path.is_dir()
    except OSError:
        return False


class GivenPaths:
    """The files and folders a person named, read in place."""

    name = "command line"
    listing_kinds: tuple[str, ...] = ()  # (``Source``: told by listing, which costs nothing)

    def __init__(self, paths: Sequence[str | Path],
                 routes: tuple[tuple[str, str], ...] = ()) -> None:
        self.paths = list(paths)
        self.routes = routes  # for mail files: which channel reads a sender's parts

    def list_inputs(self, ledger: Ledger | None = None) -> list[Input]:
        return [replace(Input.from_path(path), routes=self.routes)
                for path in expand_paths(self.paths)]

    def settle(self, outcome: Outcome) -> dict[str, str] | None:
        return None  # a person's own files stay where they are, whatever happened

    def finish(self, ledger: Ledger, run_id: int) -> list[dict[str, str]]:
        return []  # (each file was moved as it was settled)

    def close(self) -> None:
        pass

"""The ledger, beside publishing: halves of two-file exports waiting for their partner.

A half that arrives alone (Tmall's 订单报表 without its 宝贝报表, or the other way round) is
kept in ``STATE/pairs/`` until its partner arrives: its bytes exactly as read
(``<sha256><suffix>``) and a small JSON record beside them (``<sha256>.json``: its name,
mapping, source and when it arrived). The record is the entry: it is written after the
bytes, each written under a ``.partial`` name, flushed and renamed into place, so a run
killed at any moment leaves an entry whole or not at all (``sweep`` removes what is left
of one half-written).

An entry leaves the store once the ledger has recorded its bytes as ingested (joined with
its partner, or rejected whole with ``partner-missing`` when it waited too long): ``sweep``,
at the start of every run, removes such entries, so a run killed between its commit and the
removal loses nothing and duplicates nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.errors import InputError
from ingest.inputs import Input
from ingest.ledger import Ledger
from ingest.writers.batch import fsync_path

FOLDER = "pairs"


@dataclass(frozen=True)
class Unpaired:
    """One waiting half, as its record says."""

    sha256: str
    size: int
    name: str  # the input's name when it arrived (its path): what reports show
    suffix: str
    mapping: str  # the mapping that recognised it, by file stem
    role: str
    channel: str
    arrived_at: str  # ISO 8601, UTC
    source: str | None
    data: Path  # the bytes

    @property
    def arrived(self) -> datetime:
        return datetime.fromisoformat(self.arrived_at)

    def input(self) -> Input:
        """The stored bytes as an input, named as the file was when it arrived."""
        return Input(self.name, self.suffix, path=self.data,
                     origin={"kind": "waiting", "path": self.name, "stored": str(self.data)},
                     source=self.source)

    def entry(self, wait_days: float) -> dict[str, Any]:
        """What the manifest, the summary and ``history`` say of it."""
        until = self.arrived.timestamp() + wait_days * 86400
        return {"path": self.name, "sha256": self.sha256, "channel": self.channel,
                "mapping": self.mapping, "role": self.role, "since": self.arrived_at,
                "until": _iso(datetime.fromtimestamp(until, UTC))}


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def now_iso() -> str:
    return _iso(datetime.now(UTC))


class UnpairedStore:
    def __init__(self, state_dir: Path) -> None:
        self.folder = state_dir / FOLDER

    def entries(self) -> list[Unpaired]:
        """Every whole entry, oldest first."""
        if not self.folder.is_dir():
            return []
        found = []
        for record in self.folder.glob("*.json"):
            data = json.loads(record.read_text(encoding="utf-8"))
            data["data"] = self.folder / f"{data['sha256']}{data['suffix']}"
            data["arrived_at"] = data["arrived_at"].replace("Z", "+00:00")
            found.append(Unpaired(**data))
        return sorted(found, key=lambda w: (w.arrived_at, w.name))

    def put(self, one: Input, sha256: str, size: int, mapping: str, role: str,
            channel: str) -> Unpaired:
        """Keep the input's bytes and its record, each whole on disk before it counts. The
        bytes copied must be those read (``sha256``): otherwise the file changed since, and
        InputError (``changed-during-run``) leaves it for the next run."""
        self.folder.mkdir(parents=True, exist_ok=True)
        data = self.folder / f"{sha256}{one.suffix}"
        partial = data.with_name(data.name + ".partial")
        digest = hashlib.sha256()
        with one.open() as source, partial.open("wb") as target:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                target.write(chunk)
            target.flush()
            os.fsync(target.fileno())
        if digest.hexdigest() != sha256:
            partial.unlink()
            raise InputError.of(one.name, "changed-during-run")
        partial.rename(data)
        record = {"sha256": sha256, "size": size, "name": one.name, "suffix": one.suffix,
                  "mapping": mapping, "role": role, "channel": channel,
                  "arrived_at": now_iso(), "source": one.source}
        _write_whole(self.folder / f"{sha256}.json",
                     json.dumps(record, ensure_ascii=False, indent=2) + "\n")
        fsync_path(self.folder)
        waiting = self.entry(sha256)
        assert waiting is not None
        return waiting

    def entry(self, sha256: str) -> Unpaired | None:
        return next((w for w in self.entries() if w.sha256 == sha256), None)

    def remove(self, sha256: str) -> None:
        """The record first (the entry ends), then the bytes."""
        (self.folder / f"{sha256}.json").unlink(missing_ok=True)
        for data in self.folder.glob(f"{sha256}.*"):
            data.unlink(missing_ok=True)

    def sweep(self, ledger: Ledger) -> list[str]:
        """Remove what a killed run left: half-written files, bytes without a record, and
        entries the ledger has recorded as ingested since they arrived. Returns what was
        removed, for the run's report."""
        if not self.folder.is_dir():
            return []
        done = []
        for stray in self.folder.glob("*.partial"):
            stray.unlink(missing_ok=True)
        records = {w.sha256 for w in self.entries()}
        for data in self.folder.iterdir():
            if data.name.split(".", 1)[0] not in records:
                data.unlink(missing_ok=True)
        for waiting in self.entries():
            if ledger.ingested_since(waiting.sha256, waiting.arrived_at):
                self.remove(waiting.sha256)
                done.append(f"{waiting.name} left the waiting halves: it was ingested")
        return done


def _write_whole(target: Path, text: str) -> None:
    partial = target.with_name(target.name + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    partial.rename(target)

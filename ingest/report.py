"""Reporting, after a run: what it did, as ops read it (one line, or JSON) and as exit codes.

A run's report is built by the run (``ingest.runs``) and printed by the command line; the
ledger keeps its summary (``ordermill history``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.errors import ExitCode


@dataclass
class RunReport:
    """What one run or ingest did. ``manifest`` is None when no batch was published
    (nothing new arrived)."""

    batch_dir: Path | None
    manifest: dict[str, Any] | None
    skipped: list[dict[str, str]] = field(default_factory=list)
    unreadable: list[dict[str, str]] = field(default_factory=list)
    moved: list[dict[str, str]] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    run_id: int = 0
    # Halves of two-file exports waiting for their partner when the run ended (``path``,
    # ``sha256``, ``channel``, ``mapping``, ``role``, ``since``, ``until``), and how many
    # of them arrived in this run.
    unpaired: list[dict[str, Any]] = field(default_factory=list)
    arrived_unpaired: int = 0

    @property
    def batch_id(self) -> str | None:
        return self.manifest["batch_id"] if self.manifest else None

    @property
    def exit_code(self) -> ExitCode:
        if any(entry.get("code") == "source-unreachable" for entry in self.unreadable):
            return ExitCode.SOURCE_UNREACHABLE
        if self.unreadable:
            return ExitCode.UNREADABLE
        if self.manifest and self.manifest["totals"]["rejected"]:
            return ExitCode.REJECTS
        return ExitCode.CLEAN

    def summary(self) -> dict[str, Any]:
        totals = dict(self.manifest["totals"]) if self.manifest else {
            "files": len(self.unreadable), "unreadable": len(self.unreadable), "rows_in": 0,
            "clean": 0, "rejected": 0, "duplicates": 0, "updates": 0, "waiting": 0,
            "warnings": 0}
        totals["skipped"] = len(self.skipped)
        totals["files"] += len(self.skipped) + self.arrived_unpaired
        if self.unpaired:
            totals["unpaired"] = len(self.unpaired)
        return {"run_id": self.run_id, "batch_id": self.batch_id,
                "batch_dir": str(self.batch_dir) if self.batch_dir else None,
                "exit_code": int(self.exit_code), "totals": totals,
                "skipped": self.skipped, "unreadable": self.unreadable, "moved": self.moved,
                "recovered": self.recovered, "unpaired": self.unpaired}

    def summary_line(self) -> str:
        t = self.summary()["totals"]
        files = f"{t['files']:,} file" + ("" if t["files"] == 1 else "s")
        clean = f"{t['clean']:,} clean"
        notes = [f"{t['updates']:,} updates"] if t["updates"] else []
        if t.get("warnings"):  # (findings about clean lines, not lines of their own)
            notes.append(f"{t['warnings']:,} warning" + ("" if t["warnings"] == 1 else "s"))
        if notes:
            clean += f" ({', '.join(notes)})"
        line = f"{files}, {t['rows_in']:,} lines: {clean}, {t['rejected']:,} rejected"
        if t["duplicates"]:
            line += f", {t['duplicates']:,} duplicates"
        if t.get("waiting"):
            line += f", {t['waiting']:,} waiting"
        if t.get("held"):
            line += f", {t['held']:,} held for approval"
        if t.get("released"):
            line += f", {t['released']:,} released by approval"
        if t.get("joined"):
            line += f", {t['joined']:,} order rows joined"
        if t.get("unpaired"):
            line += f", {t['unpaired']:,} " + (
                "file waiting for its partner" if t["unpaired"] == 1
                else "files waiting for their partners")
        if t["skipped"]:
            line += f", {t['skipped']:,} already ingested"
        if t["unreadable"]:
            line += f", {t['unreadable']:,} unreadable"
        line += f" -> {self.batch_dir}" if self.batch_dir else " -> no new batch"
        return "\n".join([line, *self.forced_notes(), *self.profile_notes()])

    def profile_notes(self) -> list[str]:
        """One line per ERP profile that held orders out for missing codes."""
        profiles = (self.manifest or {}).get("profiles", {})
        return [f"  {name}: {entry['held_orders']:,} order(s) held out for missing codes "
                f"(profiles/{name}/held.csv)"
                for name, entry in profiles.items() if entry["held_orders"]]

    def forced_notes(self) -> list[str]:
        """One line per input read with a mapping forced by ``--channel`` although its
        header lacks some of that mapping's signature columns (the manifest notes it)."""
        inputs = self.manifest["inputs"] if self.manifest else []
        return [f"  note: {entry['path']}: read with mapping {entry.get('mapping')} (forced); "
                f"its header lacks {', '.join(entry['missing_signature'])}"
                for entry in inputs if entry.get("missing_signature")]

"""Reporting, during a run: what happened, told to ops as events on stderr, one per line.

``text`` (the default) prints only what a person must see (quarantined and skipped files,
recovered runs); ``json`` prints every event as one JSON object per line, for log shippers.
The one-line summary is the CLI's job.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

TEXT_EVENTS = {"input_unreadable", "input_quarantined", "input_skipped", "run_recovered",
               "source_unreachable"}


class Events:
    def __init__(self, log_format: str = "text", stream: TextIO | None = None,
                 progress: Callable[[str, float, int], None] | None = None) -> None:
        self.log_format = log_format
        self.stream = stream or sys.stderr
        self.progress = progress

    def emit(self, event: str, **fields: Any) -> None:
        if self.log_format == "json":
            record = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds")
                      .replace("+00:00", "Z"), "event": event, **fields}
            self.stream.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        elif self.log_format == "text" and event in TEXT_EVENTS:
            self.stream.write(f"ordermill: {fields.get('message') or event}\n")
        self.stream.flush()

    def step(self, path: str, done: float, total: int) -> None:
        """Progress: ``done`` of ``total`` files. Its fraction is the share read so far of
        the file ``path`` (a big text file tells it piece by piece)."""
        if self.progress:
            self.progress(path, done, total)


QUIET = Events("none")

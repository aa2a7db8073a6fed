"""The run, around every stage: one run at a time per state directory.

An advisory ``flock`` on ``state/run.lock``: the kernel drops it when the holder dies, even by
SIGKILL, so a lock left by a dead process is taken over by the next run without any stale-lock
guessing. The file names the holder (pid, start time, command) for the message of a run
that finds it held.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ingest.errors import ExitCode, OrdermillError, writing_to


class LockHeld(OrdermillError):
    exit_code = ExitCode.LOCKED


@contextmanager
def run_lock(state_dir: Path, command: str) -> Iterator[None]:
    """Hold the run lock, or raise LockHeld at once."""
    path = state_dir / "run.lock"
    with writing_to(state_dir):  # a state folder that cannot be written: exit 74, named
        state_dir.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another ordermill run"
            raise LockHeld(f"another run holds the lock on {state_dir} ({holder}); "
                           "this run did nothing. It is released when that run ends.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "command": command,
                                 "since": datetime.now(UTC).isoformat(timespec="seconds")}))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()  # a clean end leaves the file empty: nothing to take over
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()

"""Fault injection for the crash tests, at the named steps of a run (every stage may call it).

``ORDERMILL_CRASH_AT=<step>`` kills the process with SIGKILL at that step, as the OOM killer
or a power cut would; tests/test_crash.py proves a run killed at any step is redone or
completed exactly once.
"""

from __future__ import annotations

import os
import signal

STEPS = ("stored", "prepared", "keys-written", "staged", "pending", "published", "committed",
         "moved")


def crash_point(name: str) -> None:
    assert name in STEPS, name
    if os.environ.get("ORDERMILL_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)

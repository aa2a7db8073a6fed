"""Shared test helpers: paths, and a way to run ordermill as ops do (the real console script)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# The real IMAP server's fixtures (imap_server, fresh_imap_server, imap_server_factory, mailbox).
pytest_plugins = ["imapserver"]

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
MAPPINGS = ROOT / "mappings"
ORDERMILL = Path(sys.executable).parent / "ordermill"


def run_cli(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    """The installed `ordermill` console script, as a subprocess: real exit codes, real
    stderr, and proof that no traceback reaches the user."""
    return subprocess.run([str(ORDERMILL), *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(ROOT)
    return ROOT


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own ledger and lock (the CLI subprocesses inherit it too), and no
    ordermill.toml or ORDERMILL_* setting of the developer's leaks in."""
    for name in [n for n in os.environ if n.startswith("ORDERMILL_")]:
        monkeypatch.delenv(name)
    state = tmp_path / "state"
    monkeypatch.setenv("ORDERMILL_STATE_DIR", str(state))
    return state

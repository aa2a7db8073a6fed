"""Rewrite tests/golden/ from the samples. Run from the repository root, then review the diff:
    .venv/bin/python tests/regen_golden.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from golden import CASES, GOLDEN, MAIL_CASES, ROOT, produce, produce_profiles

if __name__ == "__main__":
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        for channel, sample in (CASES | MAIL_CASES).items():
            orders, rejects = produce(sample, Path(tmp) / channel)  # a fresh ledger each
            target = GOLDEN / channel
            target.mkdir(parents=True, exist_ok=True)
            orders.write_csv(target / "orders.csv")
            rejects.write_csv(target / "rejects.csv")
            print(f"{channel}: {orders.height} orders, {rejects.height} rejects -> {target}")
        profiles = GOLDEN / "profiles"
        for name, text in produce_profiles(Path(tmp) / "profiles").items():
            (profiles / name).parent.mkdir(parents=True, exist_ok=True)
            (profiles / name).write_text(text, encoding="utf-8")
            print(f"profiles/{name}")

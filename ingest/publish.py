"""Publishing, the end of the flow: a batch appears whole, and the ledger knows it exactly once.

The protocol, in the order it runs (each step a crash point of tests/test_crash.py):

1. ``keys-written``: the batch's line keys go to a key file the ledger does not count yet;
2. ``staged``: orders, rejects and manifest are written and flushed into a hidden staging
   folder beside the batch (``ingest.writers.batch``);
3. ``pending``: the ledger records the batch as pending (its id, key file, folder);
4. ``published``: the staging folder is renamed into place, in one step;
5. ``committed``: one ledger transaction records the batch, its inputs and its key file,
   and drops the pending row.

A run killed before 4 leaves nothing that counts (``Ledger.recover`` sweeps it, and the
inputs are read again in full); one killed after 4 is completed by the next run, which
finds the manifest and commits it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from ingest.errors import writing_to
from ingest.faults import crash_point
from ingest.ledger import Ledger
from ingest.rules.batch import RulesStep
from ingest.verdicts import Finished, reject_rows
from ingest.writers.batch import new_batch_id, stage_batch
from ingest.writers.erp import ProfileJob


def publish_batch(finished: Finished, unreadable: list[dict[str, str]], ledger: Ledger,
                  out_dir: Path, output_format: str, run_id: int,
                  batch_id: str | None = None,
                  waiting: list[dict[str, Any]] | None = None,
                  profiles: Sequence[ProfileJob] = (),
                  rules: RulesStep | None = None) -> tuple[Path, dict[str, Any]]:
    """Publish ``finished`` as a new batch under ``out_dir``: its folder and manifest (and
    the lines in each ERP profile's layout, inside the batch folder)."""
    batch_id = batch_id or new_batch_id()
    state = ledger.state_dir
    with writing_to(state):
        seq = ledger.next_seq()
        keys = finished.keys
        if rules is not None and rules.released_keys is not None:  # (released holds' lines)
            keys = pl.concat([keys, rules.released_keys.lazy()], how="diagonal_relaxed")
        key_file = ledger.write_keys(batch_id, seq, keys)
        ledger.write_rejects(batch_id, seq, reject_rows(finished))
    crash_point("keys-written")
    with writing_to(out_dir):
        staged = stage_batch(finished.results, unreadable, out_dir, batch_id, output_format,
                             waiting, profiles, rules)
    try:
        crash_point("staged")
        with writing_to(state):
            ledger.mark_pending(batch_id, seq, out_dir, key_file, run_id)
        crash_point("pending")
        with writing_to(out_dir):
            batch_dir = staged.publish()
    except BaseException:
        staged.discard()
        raise
    crash_point("published")
    # From here the batch is out: a ledger that cannot record it now is completed by the
    # next run (it finds the pending row and the manifest).
    with writing_to(state):
        ledger.commit_batch(batch_id, staged.manifest)
        crash_point("committed")
        ledger.compact()
    return batch_dir, staged.manifest

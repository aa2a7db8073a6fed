"""Small text inputs recognised and read ahead in the parser's process (``ingest.early``):
what the run takes from there is what it would have read itself, and when the child cannot
say (replaced, the file changed since) the run reads the input itself."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from conftest import MAPPINGS, SAMPLES
from polars.testing import assert_frame_equal

from ingest import early
from ingest.errors import InputError
from ingest.inputs import Digest, Input, resolved
from ingest.mapping.detect import Match, detect
from ingest.mapping.loader import load_mappings
from ingest.mapping.model import Mapping
from ingest.readers import isolated, open_document
from ingest.readers.base import RawTable

TEXT = sorted(p for p in SAMPLES.rglob("*") if p.suffix in early.TEXT_SUFFIXES)


@pytest.fixture(scope="module")
def mappings() -> list[Mapping]:
    return load_mappings(MAPPINGS)


@pytest.fixture(autouse=True)
def up() -> None:
    child_up()


def child_up() -> None:
    """Inputs are sent only to a child that is up (``isolated.booted``)."""
    isolated.warm()
    deadline = time.monotonic() + 60
    while not isolated.booted():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_nothing_is_sent_to_a_child_still_booting(tmp_path: Path,
                                                  mappings: list[Mapping]) -> None:
    assert isolated._CURRENT is not None
    isolated._CURRENT.process.kill()
    isolated.warm()  # (a new child: it boots)
    one = Input.from_path(SAMPLES / "shopify" / "orders_export_1.csv")
    early.read_ahead([one], mappings, None)  # (booting still, at once after the start)
    assert early.take(one, mappings, None) is None


def here(one: Input, mappings: list[Mapping]) -> tuple[Match, RawTable, Digest]:
    """The input read by this process, as ``ingest.reading`` reads it."""
    with open_document(one) as document:
        match = detect(document, mappings)
        table = document.read(match.options, match.header_row)
        assert document.digest is not None
        return match, table, resolved(document.digest)


def test_every_sample_is_read_there_as_here(mappings: list[Mapping]) -> None:
    assert len(TEXT) >= 15
    inputs = [Input.from_path(path) for path in TEXT]
    early.read_ahead(inputs, mappings, None)
    taken = 0
    for one in inputs:
        ahead = early.take(one, mappings, None)
        if ahead is None:  # (not sent: the pipe had no room for it then)
            early.read_ahead([one], mappings, None)
            ahead = early.take(one, mappings, None)
        assert ahead is not None, one.name
        taken += 1
        match, table, digest = ahead
        mine_match, mine_table, mine_digest = here(one, mappings)
        assert match == mine_match and match.mapping is mine_match.mapping
        assert digest == mine_digest
        assert (table.header, table.header_row, table.layout, table.notes,
                table.rows_outside, table.encoding, table.delimiter) == (
            mine_table.header, mine_table.header_row, mine_table.layout, mine_table.notes,
            mine_table.rows_outside, mine_table.encoding, mine_table.delimiter)
        assert_frame_equal(table.frame, mine_table.frame)
    assert taken == len(inputs)


def test_an_unknown_layout_fails_there_as_here(tmp_path: Path,
                                               mappings: list[Mapping]) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("colour,shape\nred,round\n", encoding="utf-8")
    one = Input.from_path(path)
    with pytest.raises(InputError) as mine:
        here(one, mappings)
    early.read_ahead([one], mappings, None)
    with pytest.raises(InputError) as theirs:
        early.take(one, mappings, None)
    assert (theirs.value.code, theirs.value.reason) == (mine.value.code, mine.value.reason)
    assert theirs.value.code == "unknown-channel"


def sent(tmp_path: Path, mappings: list[Mapping]) -> tuple[Path, Input]:
    """A copy of the Shopify sample, sent to the child to be read ahead."""
    path = tmp_path / "orders_export_1.csv"
    shutil.copy(SAMPLES / "shopify" / "orders_export_1.csv", path)
    one = Input.from_path(path)
    early.read_ahead([one], mappings, None)
    return path, one


def test_a_file_changed_since_it_was_sent_is_read_here(tmp_path: Path,
                                                       mappings: list[Mapping]) -> None:
    path, one = sent(tmp_path, mappings)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n")
    assert early.take(one, mappings, None) is None
    # ... and one sent for other mappings or another channel is not taken either
    early.read_ahead([one], mappings, None)
    assert early.take(one, mappings, "shopify") is None


def test_a_new_child_is_given_the_mappings_again(tmp_path: Path,
                                                 mappings: list[Mapping]) -> None:
    _, one = sent(tmp_path, mappings)
    assert isolated._CURRENT is not None
    isolated._CURRENT.process.kill()  # (the child dies with the input sent to it)
    assert early.take(one, mappings, None) is None  # (then it is read here)
    child_up()  # a new child: given the mappings first
    early.read_ahead([one], mappings, None)
    taken = early.take(one, mappings, None)
    assert taken is not None and taken[0].mapping.channel == "shopify"


def test_an_input_of_an_earlier_run_with_the_same_id_does_not_stand_in_the_way(
        tmp_path: Path, mappings: list[Mapping]) -> None:
    # An input sent and never taken (its run skipped it) is kept a while; a later input may
    # be given its id by Python. That input is still sent, and taken.
    _, stale = sent(tmp_path, mappings)
    one = Input.from_path(SAMPLES / "ebay" / "SalesHistory.csv")
    early._SENT[id(one)] = early._SENT.pop(id(stale))  # (as if the id were reused)
    early.read_ahead([one], mappings, None)
    taken = early.take(one, mappings, None)
    assert taken is not None and taken[0].mapping.channel == "ebay"

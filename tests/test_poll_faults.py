"""A mailbox that cannot be reached: each fault is one line naming the mailbox and the cause,
exit code 5, nothing lost, and the next poll resumes. One bad mailbox stops nothing else."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pytest

from ingest import api
from ingest.config import load_settings
from tests.imapserver import DroppingProxy, HangingServer, ImapServer, Mailbox, down_port
from tests.test_poll import ORDERMILL, PROCESSED, folder, po_mail, write_config

# fault -> (the config's changes, a context giving the port to use, words of the reason)
Fault = tuple[dict[str, object], Callable[[Mailbox], AbstractContextManager[int | None]], str]


@pytest.fixture
def waiting_mail(mailbox: Mailbox, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """A mailbox whose source was polled once (cursor set), with an order mail waiting."""
    monkeypatch.setenv("TEST_PO_MAIL_PASSWORD", mailbox.password)
    api.poll(load_settings(config=str(write_config(tmp_path, mailbox))))
    mailbox.append("INBOX", [po_mail("4500000101")])
    yield mailbox


def _port(value: int | None) -> Callable[[Mailbox], AbstractContextManager[int | None]]:
    return lambda box: nullcontext(value)


def _hanging(greeting: bool) -> Callable[[Mailbox], AbstractContextManager[int | None]]:
    class Hang(AbstractContextManager[int | None]):
        def __enter__(self) -> int:
            self.server = HangingServer(greeting=greeting).__enter__()
            return int(self.server.port)

        def __exit__(self, *exc: object) -> None:
            self.server.__exit__(None, None, None)
    return lambda box: Hang()


def _dropping(box: Mailbox) -> AbstractContextManager[int | None]:
    class Drop(AbstractContextManager[int | None]):
        def __enter__(self) -> int:
            # Past the greeting, login and SELECT: the cut falls inside the FETCH of the mail.
            self.proxy = DroppingProxy(box.server, after_bytes=3_000).__enter__()
            return self.proxy.port

        def __exit__(self, *exc: object) -> None:
            self.proxy.__exit__(None, None, None)
    return Drop()


FAULTS: dict[str, Fault] = {
    "server down": ({}, lambda box: nullcontext(down_port()), "connection refused"),
    "wrong password": ({"password": "wrong"}, _port(None), "login refused"),
    "untrusted certificate": ({"ca_file": None}, _port(None), "not trusted or does not name"),
    "certificate names another host": ({"host": "127.0.0.1"}, _port(None),
                                       "not trusted or does not name 127.0.0.1"),
    "TLS to the plain port": ({"plain": True}, _port(None), "TLS failed"),
    "plain to the TLS port": ({"tls": "none"}, _port(None), "no answer within 3 s"),
    "server hangs before greeting": ({}, _hanging(False), "no answer within 3 s"),
    "server hangs after greeting": ({"tls": "none"}, _hanging(True), "no answer within 3 s"),
    "connection dropped mid-fetch": ({}, _dropping, "dropped the connection"),
    "missing folder": ({"folder": "Orders/PO"}, _port(None), "folder 'Orders/PO' does not exist"),
}


def _config(tmp_path: Path, box: Mailbox, changes: dict[str, object], port: int | None) -> Path:
    extra = []
    if changes.get("tls"):
        extra += [f'tls = "{changes["tls"]}"', "allow_plaintext = true"]
    if changes.get("folder"):
        extra.append(f'folder = "{changes["folder"]}"')
    if changes.get("plain"):
        port = box.plain_port
    path = write_config(tmp_path, box, port=port, host=changes.get("host"),  # type: ignore[arg-type]
                        extra="\n".join(extra))
    if "ca_file" in changes:
        text = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                         if not line.startswith("ca_file"))
        path.write_text(text + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_is_one_line_exit_5_and_the_next_poll_resumes(
        fault: str, waiting_mail: Mailbox, tmp_path: Path) -> None:
    changes, port_of, words = FAULTS[fault]
    box = waiting_mail
    password = str(changes.get("password", box.password))
    with port_of(box) as port:
        config = _config(tmp_path, box, changes, port)
        started = time.monotonic()
        done = subprocess.run([str(ORDERMILL), "poll", "--config", str(config)],
                              capture_output=True, text=True, timeout=60, check=False,
                              cwd=tmp_path, env={**os.environ,
                                                 "TEST_PO_MAIL_PASSWORD": password})
        took = time.monotonic() - started
    assert done.returncode == 5, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    named = [line for line in done.stderr.splitlines() if "cannot poll mailbox po-mail" in line]
    assert len(named) == 1 and words in named[0], done.stderr
    assert took < 30  # (timeouts of 3 s: a hung server never hangs the poll)
    assert len(folder(box)) == 1  # nothing lost: the mail waits in the inbox

    resumed = subprocess.run([str(ORDERMILL), "poll", "--config",
                              str(write_config(tmp_path, box))],
                             capture_output=True, text=True, timeout=60, check=False,
                             cwd=tmp_path, env={**os.environ,
                                                "TEST_PO_MAIL_PASSWORD": box.password})
    assert resumed.returncode == 0, resumed.stderr
    assert not folder(box) and len(folder(box, PROCESSED)) == 1


def test_one_bad_mailbox_stops_neither_the_others_nor_the_folders(
        mailbox: Mailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_PO_MAIL_PASSWORD", mailbox.password)
    config = write_config(tmp_path, mailbox, folder_source=True)
    text = config.read_text(encoding="utf-8") + "\n".join([
        "", "[[sources]]", 'name = "dead-mail"', 'kind = "imap"', 'host = "localhost"',
        f"port = {down_port()}", 'user = "x"', 'password_env = "TEST_PO_MAIL_PASSWORD"', ""])
    config.write_text(text, encoding="utf-8")
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "orders.eml").write_bytes(po_mail("4500000111"))
    settings = load_settings(config=str(config))
    api.poll(settings, ["po-mail"])
    mailbox.append("INBOX", [po_mail("4500000112")])
    report = api.run(settings)
    assert report.exit_code == 5
    assert [e["path"] for e in report.unreadable] == ["source dead-mail"]
    assert report.manifest is not None
    assert sorted(i["path"].rsplit("/", 1)[-1] for i in report.manifest["inputs"]) == [
        "PO-4500000111.csv", "PO-4500000112.csv"]
    assert not folder(mailbox) and not any(drop.iterdir())
    assert list((tmp_path / "archive" / "drop").glob("*/orders.eml"))


def test_a_server_that_dies_while_mail_is_moved_loses_nothing(
        fresh_imap_server: ImapServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    server = fresh_imap_server
    user = server.add_user()
    box = Mailbox(server, user, server.users[user])
    monkeypatch.setenv("TEST_PO_MAIL_PASSWORD", box.password)
    settings = load_settings(config=str(write_config(tmp_path, box)))
    api.poll(settings)
    box.append("INBOX", [po_mail("4500000121")])
    from ingest.sources import imap

    original = imap.ImapSource._move

    def dying(self: imap.ImapSource, uids: list[int], where: str) -> None:
        server.stop()
        original(self, uids, where)

    monkeypatch.setattr(imap.ImapSource, "_move", dying)
    report = api.poll(settings)
    assert report.exit_code == 5 and report.manifest is not None  # published, not moved
    assert "the next poll moves it" in report.unreadable[0]["reason"]
    monkeypatch.setattr(imap.ImapSource, "_move", original)
    server.start()
    again = api.poll(settings)
    assert again.exit_code == 0 and again.manifest is None and len(again.skipped) == 1
    assert not folder(box) and len(folder(box, PROCESSED)) == 1

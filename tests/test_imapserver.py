"""The IMAP test harness (tests/imapserver.py) against a real Dovecot, driven with imapclient
directly: the server behaves as the IMAP source's tests assume, and each fault helper makes
imapclient raise what the table in the final assertions says. When the IMAP source is wrong
about one of these, its tests should fail here first."""

from __future__ import annotations

import datetime as dt
import imaplib
import os
import ssl
import time
from collections.abc import Callable
from typing import Any

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError, LoginError
from imapserver import (
    CAPABILITIES_WITHOUT_MOVE,
    DroppingProxy,
    HangingServer,
    ImapServer,
    Mailbox,
    _private_dir,
    _running,
    down_port,
    find_dovecot,
    sample_message,
    start_server,
)

Factory = Callable[..., ImapServer]


# ---------------------------------------------------------------------------- the server

def test_client_logs_in_over_verified_tls_and_plain(mailbox: Mailbox) -> None:
    with mailbox.client() as tls, mailbox.client(tls=False) as plain:
        assert tls.socket().version() in ("TLSv1.2", "TLSv1.3")
        for client in (tls, plain):
            capabilities = client.capabilities()
            for needed in (b"MOVE", b"UIDPLUS", b"MULTIAPPEND", b"CONDSTORE", b"QRESYNC"):
                assert needed in capabilities
            status = client.folder_status("INBOX", [b"UIDVALIDITY", b"UIDNEXT", b"MESSAGES"])
            assert status[b"MESSAGES"] == 0 and status[b"UIDNEXT"] == 1


def test_each_mailbox_is_a_new_user_that_logs_in_without_a_restart(
        imap_server: ImapServer, mailbox: Mailbox) -> None:
    pid = imap_server._process.pid if imap_server._process else None
    other = imap_server.add_user()
    imap_server.append(other, "INBOX", [sample_message(1)])
    assert mailbox.server.folder_uids(mailbox.user) == []
    assert imap_server.folder_uids(other) == [1]
    # A chosen name is appended to the passwd-file; Dovecot re-reads it within a second.
    named = imap_server.add_user(f"named-{os.getpid()}", "pw-1")
    imap_server.client(named).logout()
    assert imap_server._process is not None and imap_server._process.pid == pid


def test_append_keeps_order_flags_and_internal_date(mailbox: Mailbox) -> None:
    messages = [sample_message(n, subject=f"PO#{n} 采购订单") for n in range(3)]
    when = dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)
    uids = mailbox.append("Orders/2024", messages, flags=[b"\\Seen", b"$Imported"],
                          msg_time=when)
    server, user = mailbox.server, mailbox.user
    assert uids == server.folder_uids(user, "Orders/2024") == [1, 2, 3]
    assert server.fetch_all(user, "Orders/2024") == dict(zip(uids, messages, strict=True))
    assert all(set(flags) == {b"\\Seen", b"$Imported"}
               for flags in server.flags(user, "Orders/2024").values())
    with mailbox.client() as client:
        client.select_folder("Orders/2024", readonly=True)
        dates = client.fetch(uids, [b"INTERNALDATE"])
    assert {data[b"INTERNALDATE"].astimezone(dt.UTC) for data in dates.values()} == {when}
    # Appending again continues the UIDs (one MULTIAPPEND per batch, UIDs from APPENDUID).
    assert mailbox.append("Orders/2024", [sample_message(9)]) == [4]


def test_two_thousand_messages_append_in_under_three_seconds(mailbox: Mailbox) -> None:
    messages = [sample_message(n, size=15_000) for n in range(2_000)]
    started = time.perf_counter()
    uids = mailbox.append("INBOX", messages)
    took = time.perf_counter() - started
    print(f"append 2,000 x 15 KB: {took:.2f} s")
    assert uids == list(range(1, 2_001))
    assert took < 3


def test_reset_uidvalidity_keeps_messages_and_flags(fresh_imap_server: ImapServer) -> None:
    server = fresh_imap_server
    messages = [sample_message(n) for n in range(5)]
    server.append("buyer", "INBOX", messages[:3], flags=[b"\\Seen"])
    server.append("buyer", "INBOX", messages[3:])
    server.append("buyer", "Orders", messages)
    before = {folder: server.uidvalidity("buyer", folder) for folder in ("INBOX", "Orders")}
    assert server.reset_uidvalidity("buyer") != before["INBOX"]
    assert sorted(server.fetch_all("buyer").values()) == sorted(messages)
    assert sorted(flags for flags in server.flags("buyer").values()) == [
        (), (), (b"\\Seen",), (b"\\Seen",), (b"\\Seen",)]
    assert server.uidvalidity("buyer", "Orders") == before["Orders"]  # only INBOX was reset
    assert server.reset_uidvalidity("buyer", "Orders") != before["Orders"]
    assert sorted(server.fetch_all("buyer", "Orders").values()) == sorted(messages)


def test_restart_keeps_ports_and_mail_and_drops_sessions(fresh_imap_server: ImapServer) -> None:
    server = fresh_imap_server
    server.append("buyer", "INBOX", [sample_message(1)])
    client = server.client()
    client.select_folder("INBOX")
    ports = (server.plain_port, server.tls_port)
    server.restart()
    assert (server.plain_port, server.tls_port) == ports
    with pytest.raises(imaplib.IMAP4.abort):  # the old session is gone: "socket error: EOF"
        client.search("ALL")
    assert server.folder_uids("buyer") == [1]


def test_start_and_stop_are_quick() -> None:
    with _private_dir() as base:
        started = time.perf_counter()
        server = start_server(base)
        up = time.perf_counter() - started
        server.client().logout()
        started = time.perf_counter()
        server.stop()
        down = time.perf_counter() - started
    print(f"start (cert + config + greeting) {up:.3f} s, stop {down:.3f} s")
    assert not server.running
    assert up < 5 and down < 5


def test_missing_dovecot_fails_the_fixture_with_the_install_hint(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr("imapserver.DOVECOT_DIRS", ())
    with pytest.raises(RuntimeError, match="make test"):
        find_dovecot()
    with pytest.raises(pytest.fail.Exception, match="make test"), _running():
        pass


# ---------------------------------------------------------------------------- logins

def test_failed_logins_raise_login_error_and_cost_no_delay(
        fresh_imap_server: ImapServer) -> None:
    server = fresh_imap_server
    for user, password in [("buyer", "wrong"), ("nobody-here", "secret"), ("buyer", "")]:
        started = time.perf_counter()
        with server.connect() as client, pytest.raises(LoginError, match="AUTHENTICATIONFAILED"):
            client.login(user, password)
        # Dovecot answers a failure on its next 0.5 s tick; the penalty (growing delays) is
        # off by default, so the third failure is no slower than the first.
        assert time.perf_counter() - started < 1.2
    started = time.perf_counter()
    server.client().logout()
    assert time.perf_counter() - started < 0.5


def test_login_penalty_slows_the_next_login_when_kept(imap_server_factory: Factory) -> None:
    server = imap_server_factory(login_penalty=True)
    with server.connect() as client, pytest.raises(LoginError):
        client.login("buyer", "wrong")
    started = time.perf_counter()
    server.client().logout()
    took = time.perf_counter() - started
    print(f"good login after one failure, penalty kept: {took:.1f} s")
    assert took > 1


def test_xoauth2_token_logs_in_and_a_bad_or_revoked_one_is_refused(
        imap_server_factory: Factory) -> None:
    server = imap_server_factory(oauth2=True)
    token = server.oauth2_token("buyer")
    with server.connect() as client:
        assert b"AUTH=XOAUTH2" in client.capabilities()
        client.oauth2_login("buyer", token)
        assert client.folder_status("INBOX", [b"MESSAGES"])[b"MESSAGES"] == 0
    assert server.introspection_requests >= 1
    with server.connect() as client:
        client.oauthbearer_login("buyer", token)
    with server.connect() as client, pytest.raises(LoginError):
        client.oauth2_login("buyer", "not-a-token")
    with server.connect() as client, pytest.raises(LoginError):
        client.oauth2_login("someone-else", token)  # a token names one user
    server.revoke_oauth2_token(token)
    with server.connect() as client, pytest.raises(LoginError):
        client.oauth2_login("buyer", token)
    server.client().logout()  # passwords still work on an OAuth2 server


# ---------------------------------------------------------------------------- faults

def test_down_port_refuses(imap_server: ImapServer) -> None:
    with pytest.raises(ConnectionRefusedError):
        IMAPClient("localhost", port=down_port(), ssl_context=imap_server.ssl_context(),
                   timeout=2)


@pytest.mark.parametrize("tls", [True, False])
def test_silent_server_times_out_before_the_greeting(tls: bool) -> None:
    with HangingServer() as hanging:
        started = time.perf_counter()
        with pytest.raises(TimeoutError):
            IMAPClient(hanging.host, port=hanging.port, ssl=tls, timeout=0.5)
        assert time.perf_counter() - started < 3


def test_server_that_greets_then_hangs_times_out() -> None:
    # Greeting only: imaplib asks CAPABILITY inside IMAPClient(), so that is what times out.
    with HangingServer(greeting=True, answers=()) as hanging, pytest.raises(TimeoutError):
        IMAPClient(hanging.host, port=hanging.port, ssl=False, timeout=0.5)
    with HangingServer(greeting=True) as hanging:
        client = IMAPClient(hanging.host, port=hanging.port, ssl=False, timeout=0.5)
        with pytest.raises(TimeoutError):
            client.login("buyer", "secret")
    with HangingServer(greeting=True, answers=("CAPABILITY", "LOGIN", "SELECT")) as hanging:
        client = IMAPClient(hanging.host, port=hanging.port, ssl=False, timeout=0.5)
        client.login("buyer", "secret")
        client.select_folder("INBOX")
        with pytest.raises(TimeoutError):
            client.fetch([1], [b"BODY.PEEK[]"])
        # After a timeout the socket's reader is spent: the client must reconnect.
        with pytest.raises(OSError, match="cannot read from timed out object"):
            client.noop()


def _big_message(mailbox: Mailbox) -> tuple[int, bytes]:
    message = sample_message(1, size=2_000_000)
    return mailbox.append("INBOX", [message])[0], message


@pytest.mark.parametrize("tls", [True, False])
def test_connection_cut_mid_fetch(mailbox: Mailbox, tls: bool) -> None:
    uid, message = _big_message(mailbox)
    with DroppingProxy(mailbox.server, after_bytes=300_000, tls=tls, times=1) as proxy:
        client = IMAPClient(proxy.host, port=proxy.port, ssl=tls,
                            ssl_context=mailbox.server.ssl_context() if tls else None, timeout=5)
        client.login(mailbox.user, mailbox.password)
        client.select_folder("INBOX", readonly=True)
        with pytest.raises(imaplib.IMAP4.abort):
            client.fetch([uid], [b"BODY.PEEK[]"])
        with pytest.raises(imaplib.IMAP4.abort):
            client.noop()
        assert proxy.cuts == 1
        # times=1: a reconnect through the same proxy gets the whole message.
        again = IMAPClient(proxy.host, port=proxy.port, ssl=tls,
                           ssl_context=mailbox.server.ssl_context() if tls else None,
                           timeout=5)
        again.login(mailbox.user, mailbox.password)
        again.select_folder("INBOX", readonly=True)
        assert again.fetch([uid], [b"BODY.PEEK[]"])[uid][b"BODY[]"] == message
        again.logout()


@pytest.mark.parametrize(("tls", "raised"), [
    # Python's ssl (OpenSSL 3) reads an RST under TLS as an unexpected EOF, which it
    # suppresses as a "ragged EOF": imaplib then sees EOF, as after a clean cut.
    (True, imaplib.IMAP4.abort),
    (False, ConnectionResetError),
])
def test_connection_reset_mid_fetch(mailbox: Mailbox, tls: bool, raised: type[Exception]
                                    ) -> None:
    uid, _ = _big_message(mailbox)
    with DroppingProxy(mailbox.server, after_bytes=300_000, tls=tls, reset=True) as proxy:
        client = IMAPClient(proxy.host, port=proxy.port, ssl=tls,
                            ssl_context=mailbox.server.ssl_context() if tls else None,
                            timeout=5)
        client.login(mailbox.user, mailbox.password)
        client.select_folder("INBOX", readonly=True)
        with pytest.raises(raised):
            client.fetch([uid], [b"BODY.PEEK[]"])


def test_server_stopped_mid_session_aborts(fresh_imap_server: ImapServer) -> None:
    client = fresh_imap_server.client()
    client.select_folder("INBOX")
    fresh_imap_server.stop()
    with pytest.raises(imaplib.IMAP4.abort):
        client.search("ALL")


def test_tls_mistakes(imap_server: ImapServer) -> None:
    context = imap_server.ssl_context()
    with pytest.raises(ssl.SSLCertVerificationError, match="self-signed"):
        IMAPClient("localhost", port=imap_server.tls_port, timeout=2)  # system CAs only
    with pytest.raises(ssl.SSLCertVerificationError, match="IP address mismatch"):
        IMAPClient("127.0.0.1", port=imap_server.tls_port, ssl_context=context, timeout=2)
    with pytest.raises(ssl.SSLError, match="WRONG_VERSION_NUMBER"):
        IMAPClient("localhost", port=imap_server.plain_port, ssl_context=context, timeout=2)
    with pytest.raises(TimeoutError):  # the TLS port waits for a ClientHello that never comes
        IMAPClient("localhost", port=imap_server.tls_port, ssl=False, timeout=0.5)


@pytest.mark.parametrize(("options", "says"), [
    ({"cert_host": "wrong.example"}, "Hostname mismatch"),
    ({"cert_expired": True}, "certificate has expired"),
])
def test_certificate_for_another_host_or_expired(imap_server_factory: Factory,
                                                 options: dict[str, Any], says: str) -> None:
    server = imap_server_factory(**options)
    with pytest.raises(ssl.SSLCertVerificationError, match=says):
        server.client()
    server.client(tls=False).logout()  # the server itself is fine


def test_missing_folder_and_bad_fetch_are_imap_errors(mailbox: Mailbox) -> None:
    with mailbox.client() as client:
        with pytest.raises(imaplib.IMAP4.error, match="doesn't exist"):
            client.select_folder("No such folder")
        client.select_folder("INBOX")
        with pytest.raises(imaplib.IMAP4.error):
            client.fetch([1], [b"NOT-AN-ITEM"])


def test_no_move_server_hides_move_so_clients_fall_back(
        imap_server_factory: Factory, imap_server: ImapServer) -> None:
    server = imap_server_factory(no_move=True)
    uids = server.append("buyer", "INBOX", [sample_message(n) for n in range(3)])
    with server.client() as client:
        assert b"MOVE" not in client.capabilities()
        client.select_folder("INBOX")
        with pytest.raises(CapabilityError):
            client.move(uids[:2], "Done")
        client.create_folder("Done")
        client.copy(uids[:2], "Done")  # the fallback: COPY, flag \Deleted, UID EXPUNGE
        client.delete_messages(uids[:2])
        client.uid_expunge(uids[:2])
    assert server.folder_uids("buyer") == [uids[2]]
    assert len(server.folder_uids("buyer", "Done")) == 2
    # The hard-coded list is Dovecot's own minus MOVE: an upgrade that adds a capability
    # fails here rather than hiding it from no_move servers.
    with imap_server.client() as normal:
        default = set(normal.capabilities())
    assert default - {b"MOVE"} == set(CAPABILITIES_WITHOUT_MOVE.upper().encode().split())

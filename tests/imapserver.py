"""A real Dovecot IMAP server on loopback, started and stopped by the test suite itself.

Why a real server: the IMAP source must be proven against what a mail server really does
(UIDVALIDITY changes, MOVE missing, literal sizes, TLS, login penalties), and a fake would
only echo what we already believe. Dovecot starts in about 30 ms with a private config on
random high ports, so every test run (and parallel runs) gets its own server, users and mail;
the system's Dovecot, if any, is never touched.

Also here: pytest fixtures (registered from conftest.py) and fault helpers for the client's
error paths: a port with nothing listening, a server that never answers, a proxy that cuts a
connection after N bytes, a server without MOVE, certificates that are wrong or expired.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.policy
import grp
import itertools
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import parse_qs

import pytest
from imapclient import IMAPClient, imap_utf7

DOVECOT_MISSING = (
    "dovecot is not installed: `make test` installs it "
    "(apt-get install -y --no-install-recommends dovecot-core dovecot-imapd openssl)")

# Where Debian puts the binary: /usr/sbin is not on a normal user's PATH.
DOVECOT_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin")

# Dovecot refuses to run mail processes as root, so the mail belongs to nobody when the tests
# run as root (CI); as any other user, Dovecot runs entirely as that user.
MAIL_UID = 65534 if os.geteuid() == 0 else os.geteuid()
MAIL_GID = 65534 if os.geteuid() == 0 else os.getegid()

# Dovecot 2.3.19's post-login CAPABILITY for the config below, minus MOVE. `imap_capability`
# can only replace the list or add to it ("+X"), not remove one item, so the list is spelled
# out; test_imapserver checks it still equals the default list minus MOVE, so an upgrade
# that adds a capability shows up there instead of silently hiding it in no_move servers.
CAPABILITIES_WITHOUT_MOVE = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES "
    "THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN "
    "NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES "
    "WITHIN CONTEXT=SEARCH LIST-STATUS BINARY SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE "
    "SAVEDATE LITERAL+ NOTIFY")

# MULTIAPPEND batches: one round trip per batch instead of per message (2,000 mails in about
# a second instead of five), small enough that Dovecot never holds a huge command.
APPEND_BATCH_MESSAGES = 200
APPEND_BATCH_BYTES = 8_000_000

# Users in the passwd-file from the start, handed out by add_user() (see there why).
SPARE_USERS = 200


class DovecotMissing(RuntimeError):
    """The dovecot binary is not installed; the message says how to get it."""


def find_dovecot(tool: str = "dovecot") -> str:
    """The dovecot binary (or its `doveadm`), or DovecotMissing: tests must fail, not skip,
    without it."""
    path = os.pathsep.join([os.environ.get("PATH", ""), *DOVECOT_DIRS])
    found = shutil.which(tool, path=path)
    if found is None:
        raise DovecotMissing(DOVECOT_MISSING)
    return found


def free_port() -> int:
    """A TCP port nothing listens on right now, chosen by the kernel (bind to port 0), so
    parallel test runs do not fight over fixed numbers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def down_port() -> int:
    """A loopback port with nothing listening: connecting gives ConnectionRefusedError."""
    return free_port()


# ---------------------------------------------------------------------------- certificates

_OPENSSL_CA_CONF = """\
[ ca ]
default_ca = self
[ self ]
database = {dir}/index.txt
new_certs_dir = {dir}
serial = {dir}/serial
default_md = sha256
policy = any
copy_extensions = copy
x509_extensions = ext
[ any ]
commonName = supplied
[ ext ]
basicConstraints = critical,CA:TRUE
subjectKeyIdentifier = hash
"""


def make_cert(directory: Path, host: str = "localhost", *, expired: bool = False
              ) -> tuple[Path, Path]:
    """A self-signed certificate for `host` (CN and DNS SAN) and its key, as
    (cert.pem, key.pem) in `directory`; the cert is its own CA, so a client trusts it by
    passing it as cafile. `expired=True` makes one that ran out in 2020.

    `openssl ca -selfsign` rather than `openssl req -x509` because only `ca` takes explicit
    dates (OpenSSL 3.0's `req -days` refuses past dates); EC keys because an RSA key costs
    ~100 ms per server.
    """
    name = f"{host}-expired" if expired else host
    work = directory / f".{name}-ca"
    work.mkdir(parents=True, exist_ok=True)
    (work / "index.txt").write_text("")
    (work / "serial").write_text(f"{secrets.randbits(60):016X}\n")
    conf = work / "ca.cnf"
    conf.write_text(_OPENSSL_CA_CONF.format(dir=work))
    cert, key, csr = directory / f"{name}.pem", directory / f"{name}.key", work / "req.csr"
    _run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={host}",
          "-addext", f"subjectAltName=DNS:{host}"])
    now = dt.datetime.now(dt.UTC)
    start, end = ((dt.datetime(2020, 1, 1, tzinfo=dt.UTC), dt.datetime(2020, 1, 2, tzinfo=dt.UTC))
                  if expired else (now - dt.timedelta(days=1), now + dt.timedelta(days=3650)))
    _run(["openssl", "ca", "-batch", "-config", str(conf), "-selfsign", "-keyfile", str(key),
          "-in", str(csr), "-out", str(cert), "-notext",
          "-startdate", start.strftime("%Y%m%d%H%M%SZ"),
          "-enddate", end.strftime("%Y%m%d%H%M%SZ")])
    shutil.rmtree(work)
    key.chmod(0o600)
    return cert, key


def _run(args: list[str]) -> None:
    """A helper command that must work; its stderr goes into the error when it does not."""
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr}")


# ---------------------------------------------------------------------------- OAuth2

class _IntrospectionHandler(BaseHTTPRequestHandler):
    """RFC 7662-style token introspection: Dovecot POSTs `token=...` and reads
    `{"active": true, "username": ...}` for a token we issued, `{"active": false}` else."""

    server: _IntrospectionServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        token = (form.get("token") or [""])[0]
        self.server.requests += 1
        user = self.server.tokens.get(token)
        body = json.dumps({"active": True, "username": user} if user else {"active": False})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest output is for failures, and Dovecot's log has the auth story."""


class _IntrospectionServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, tokens: dict[str, str]) -> None:
        super().__init__(("127.0.0.1", port), _IntrospectionHandler)
        self.tokens = tokens
        self.requests = 0


# Dovecot 2.3 keys, from the `PasswordDatabase.oauth2` page of Dovecot's wiki as shipped in
# /usr/share/doc/dovecot-core/wiki/PasswordDatabase.oauth2.txt.gz ("Full config file" and the
# WSO2 example): introspection_mode post sends `token=<bearer>`; with no tokeninfo_url,
# force_introspection makes the introspection answer decide; active_attribute/active_value
# turn `"active": false` into a refusal.
_OAUTH2_CONF = """\
introspection_url = http://127.0.0.1:{port}/introspect
introspection_mode = post
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 5000
"""


# ---------------------------------------------------------------------------- the server

_CONF = """\
# Private test server: everything lives under {dir}; nothing of /etc/dovecot is read.
base_dir  = {dir}/run
state_dir = {dir}/state
instance_name = ordermill-test-{plain_port}
protocols = imap
listen = 127.0.0.1
log_path      = {dir}/log/dovecot.log
info_log_path = {dir}/log/dovecot-info.log
auth_verbose = yes
ssl = yes
ssl_cert = <{cert}
ssl_key  = <{key}
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
auth_failure_delay = 0
first_valid_uid = 1
# A test server: durability is worth nothing, and fsync per message made appends 5-15x slower.
mail_fsync = never
mail_max_userip_connections = 100
{passdbs}
userdb {{
  driver = passwd-file
  args = username_format=%u {dir}/users
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    port = {plain_port}
  }}
  inet_listener imaps {{
    port = {tls_port}
    ssl = yes
  }}
{login_chroot}}}
{penalty}
{capability}
{unprivileged}
"""

_PASSWD_FILE_PASSDB = """\
passdb {{
  driver = passwd-file
  {mechanisms}args = scheme=PLAIN username_format=%u {dir}/users
}}"""

_OAUTH2_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {dir}/dovecot-oauth2.conf.ext
}}"""

# Failed logins are penalised per client address: measured with 2.3.19, failures answer after
# 0.5 s, 4.5 s, 8.5 s and the next good login waits 10 s, so one test that breaks a login
# would slow every later one on a shared server. Off, every failure answers after 0.5 s
# (Dovecot's failure timer) and good logins are instant. Switch from Dovecot's wiki,
# /usr/share/doc/dovecot-core/wiki/Authentication.Penalty.txt.
_NO_PENALTY = """\
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}"""

# Running as a normal user: Dovecot's own users would need root to switch to.
_UNPRIVILEGED = """\
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
service anvil {{
  chroot =
}}"""


@dataclass(kw_only=True)
class ImapServer:
    """One private Dovecot on loopback: config, certificate, users and mail under `dir`.

    The `client` and helper methods log in like any IMAP client (helpers over the plain port,
    which is quicker), so what they see is what the code under test will see.
    """

    dir: Path
    plain_port: int
    tls_port: int
    ca_file: Path
    users: dict[str, str]
    host: str = "localhost"
    oauth2: bool = False
    no_move: bool = False
    login_penalty: bool = False
    oauth2_port: int | None = None
    _spares: list[tuple[str, str]] = field(default_factory=list, repr=False)
    _oauth2_tokens: dict[str, str] = field(default_factory=dict, repr=False)
    _introspection: _IntrospectionServer | None = field(default=None, repr=False)
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start Dovecot in the foreground in its own process group (so stop() can end the
        master and every login and mail process it forked), and return once the plain port
        greets with `* OK`."""
        if self.running:
            return
        self._start_introspection()
        stderr = (self.dir / "log" / "stderr.log").open("ab")
        # setpriv --pdeathsig: the server gets SIGTERM when this process dies, so a test run
        # that is killed (timeout, Ctrl-C twice) leaves no Dovecot behind. (The "parent" is
        # the starting thread: start servers from the main thread, as fixtures do.)
        setpriv = shutil.which("setpriv")
        guard = [setpriv, "--pdeathsig", "TERM"] if setpriv else []
        try:
            self._process = subprocess.Popen(
                [*guard, find_dovecot(), "-F", "-c", str(self.dir / "dovecot.conf")],
                stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr,
                start_new_session=True)
        finally:
            stderr.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                self._stop_introspection()
                raise RuntimeError(f"dovecot exited at start:\n{self.log_tail()}")
            if _greets(self.plain_port):
                return
            time.sleep(0.005)
        self.stop()
        raise RuntimeError(f"dovecot did not greet on port {self.plain_port} in 15 s:\n"
                           f"{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM to the whole process group, then wait until no process of it is alive.
        Killing the master alone leaves open client sessions running; stopping by name would
        hit other servers (and the system's). The master takes 5 ms to 1 s to wind down
        (the second when sessions were open); past 3 s the group gets SIGKILL, harmless for
        mail that no command is writing any more."""
        process, self._process = self._process, None
        self._stop_introspection()
        if process is None:
            return
        pgid = process.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            process.wait(timeout=10)
        deadline = time.monotonic() + 3
        while _group_alive(pgid):
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGKILL)
                deadline = time.monotonic() + 10
            time.sleep(0.01)

    def restart(self) -> None:
        """Stop and start on the same ports with the same mail: every open session drops."""
        self.stop()
        self.start()

    def __enter__(self) -> ImapServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        """The end of Dovecot's logs: the first thing to read when a login or start fails."""
        out = []
        for name in ("stderr.log", "dovecot.log", "dovecot-info.log"):
            path = self.dir / "log" / name
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {name}\n" + "\n".join(text))
        return "\n".join(out)

    # ------------------------------------------------------------------ users and clients

    def add_user(self, user: str | None = None, password: str | None = None) -> str:
        """A new user while the server runs, without a restart. Returns its name.

        Dovecot re-reads the passwd-file when it changed, but checks at most once a second,
        so a line appended now is unknown for up to a second. Hence a stock of spare users
        written at start: add_user() with no name hands out the next one at once. A chosen
        name (or an empty stock) is appended and waited for, proven with `doveadm auth test`
        (a passdb lookup that, unlike a failed IMAP login, is not logged as an attack).
        """
        spares = dict(self._spares)
        if user is None and password is None and spares:
            user = self._spares[0][0]
        if user in spares:
            if password not in (None, spares[user]):
                raise ValueError(f"{user!r} is a spare user with a set password; pick another")
            self._spares = [spare for spare in self._spares if spare[0] != user]
            self.users[user] = spares[user]
            return user
        new_spares: list[tuple[str, str]] = []
        if user is None:
            new_spares = _spare_users(self.users, SPARE_USERS + 1)
            user = new_spares.pop(0)[0]
            self._spares = new_spares
        if user in self.users:
            raise ValueError(f"user {user!r} exists")
        password = password or secrets.token_hex(8)
        self.users[user] = password
        with (self.dir / "users").open("a") as users:
            users.write(_passwd_line(self.dir, user, password))
            users.writelines(_passwd_line(self.dir, u, p) for u, p in new_spares)
        if self.running:
            self._wait_until_known(user, password)
        return user

    def _wait_until_known(self, user: str, password: str) -> None:
        doveadm = find_dovecot("doveadm")
        deadline = time.monotonic() + 5
        while True:
            done = subprocess.run(
                [doveadm, "-c", str(self.dir / "dovecot.conf"), "auth", "test", "-x",
                 "service=imap", user, password], capture_output=True, text=True, timeout=30)
            if done.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot does not know the new user {user!r}: "
                                   f"{done.stdout}{done.stderr}")
            time.sleep(0.05)

    def client(self, user: str = "buyer", tls: bool = True, *, timeout: float = 10
               ) -> IMAPClient:
        """A logged-in client as the code under test would make it: TLS verified against
        `ca_file` for host `localhost` (or the plain port with tls=False)."""
        client = self.connect(tls=tls, timeout=timeout)
        client.login(user, self.users[user])
        return client

    def connect(self, tls: bool = True, *, timeout: float = 10) -> IMAPClient:
        """A connected client that has not logged in (for LOGIN/AUTHENTICATE tests)."""
        if tls:
            return IMAPClient(self.host, port=self.tls_port, ssl=True,
                              ssl_context=self.ssl_context(), timeout=timeout)
        return IMAPClient(self.host, port=self.plain_port, ssl=False, timeout=timeout)

    def ssl_context(self) -> ssl.SSLContext:
        """Default verification, trusting only this server's self-signed certificate."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def oauth2_token(self, user: str) -> str:
        """A bearer token the introspection endpoint reports active for `user`."""
        if not self.oauth2:
            raise RuntimeError("start the server with start_server(..., oauth2=True)")
        token = secrets.token_urlsafe(24)
        self._oauth2_tokens[token] = user
        return token

    def revoke_oauth2_token(self, token: str) -> None:
        """From now on the endpoint answers inactive for `token` (an expired/revoked one)."""
        self._oauth2_tokens.pop(token, None)

    @property
    def introspection_requests(self) -> int:
        """How often Dovecot asked the endpoint: proof that a login went through OAuth2."""
        return self._introspection.requests if self._introspection else 0

    # ------------------------------------------------------------------ mail

    @contextlib.contextmanager
    def _session(self, user: str) -> Iterator[IMAPClient]:
        client = self.client(user, tls=False)
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def append(self, user: str, folder: str, messages: Sequence[bytes],
               flags: Sequence[bytes | str] = (), msg_time: dt.datetime | None = None
               ) -> list[int]:
        """Store `messages` in `folder` (created if missing) and return their UIDs in order.

        MULTIAPPEND in batches (one round trip per batch) with UIDs from the APPENDUID
        answer: 2,000 mails of 15 KB take about a second, against five one by one.
        """
        uids: list[int] = []
        with self._session(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for batch in _batches(messages):
                items: list[dict[str, Any]] = []
                for message in batch:
                    item: dict[str, Any] = {"msg": message, "flags": tuple(flags)}
                    if msg_time is not None:
                        item["date"] = msg_time
                    items.append(item)
                answer = client.multiappend(folder, items)
                uids.extend(_appenduid(answer, len(batch)))
        return uids

    def folder_uids(self, user: str, folder: str = "INBOX") -> list[int]:
        with self._session(user) as client:
            client.select_folder(folder, readonly=True)
            return sorted(int(uid) for uid in client.search("ALL"))

    def fetch_all(self, user: str, folder: str = "INBOX") -> dict[int, bytes]:
        """Every message's raw bytes by UID (BODY.PEEK[]: reading does not mark it seen)."""
        with self._session(user) as client:
            client.select_folder(folder, readonly=True)
            # A list of UIDs, not "1:*": imapclient 4.1's fetch() filters its answer by
            # int(message) for each message asked for, which fails on a range.
            fetched = client.fetch(client.search("ALL"), [b"BODY.PEEK[]"])
            return {int(uid): bytes(data[b"BODY[]"]) for uid, data in fetched.items()}

    def flags(self, user: str, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        """Stored flags and keywords by UID, without \\Recent (which belongs to whichever
        session looks first, so it would say more about this helper than the mail)."""
        with self._session(user) as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            got = client.get_flags(uids) if uids else {}
            return {int(uid): tuple(f for f in flags if f != b"\\Recent")
                    for uid, flags in got.items()}

    def uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        with self._session(user) as client:
            return int(client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])

    def maildir(self, user: str, folder: str = "INBOX") -> Path:
        """The folder on disk (Maildir++: `A/B` is `.A.B`, names in modified UTF-7)."""
        root = self.dir / "mail" / user / "Maildir"
        if folder.upper() == "INBOX":
            return root
        encoded = bytes(imap_utf7.encode(folder)).decode("ascii")
        return root / ("." + encoded.replace("/", "."))

    def reset_uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        """Make the folder's UIDVALIDITY change the way a server migration or index rebuild
        does, keeping every message (its UIDs are renumbered too). Returns the new value.

        The server stops, the folder's UID list and indexes (and the mailbox-list index,
        which caches UIDVALIDITY) are deleted, and the server starts again; the message
        files and their flags stay. Dovecot then gives the folder a fresh UIDVALIDITY, which
        it keeps above every earlier one (the dovecot-uidvalidity file in the mail root).
        """
        before = self.uidvalidity(user, folder)
        was_running = self.running
        self.stop()
        folder_dir, root = self.maildir(user, folder), self.maildir(user)
        for path in [folder_dir / "dovecot-uidlist", *folder_dir.glob("dovecot.index*"),
                     *root.glob("dovecot.list.index*")]:
            path.unlink(missing_ok=True)
        self.start()
        after = self.uidvalidity(user, folder)
        if not was_running:
            self.stop()
        assert after != before, f"UIDVALIDITY stayed {before} after the reset"
        return after

    # ------------------------------------------------------------------ internals

    def _start_introspection(self) -> None:
        if self.oauth2 and self._introspection is None:
            assert self.oauth2_port is not None
            self._introspection = _IntrospectionServer(self.oauth2_port, self._oauth2_tokens)
            threading.Thread(target=self._introspection.serve_forever, daemon=True,
                             name="oauth2-introspection").start()

    def _stop_introspection(self) -> None:
        if self._introspection is not None:
            self._introspection.shutdown()
            self._introspection.server_close()
            self._introspection = None


def start_server(base: Path, users: Mapping[str, str] | None = None, *, oauth2: bool = False,
                 ports: tuple[int, int] | None = None, no_move: bool = False,
                 cert_host: str = "localhost", cert_expired: bool = False,
                 login_penalty: bool = False) -> ImapServer:
    """Write a config under `base` and start a Dovecot on loopback; returns it running.

    - users: name -> password (default buyer/secret); add more later with add_user().
    - ports: (plain, TLS); default: free random ports (retried if another run takes them).
    - oauth2: XOAUTH2/OAUTHBEARER checked against an introspection endpoint in this process;
      tokens come from server.oauth2_token(user). Passwords keep working.
    - no_move: CAPABILITY without MOVE, so a client must fall back to COPY + expunge.
    - cert_host / cert_expired: serve a certificate for another name or one that ran out
      (ca_file still points at it, so only the name or date is wrong).
    - login_penalty: keep Dovecot's growing delay after failed logins (off: tests that
      break logins would slow down every later login from 127.0.0.1).
    """
    dovecot = find_dovecot()
    base.mkdir(parents=True, exist_ok=True)
    _make_searchable(base)
    for sub in ("run", "state", "log", "certs", "mail"):
        (base / sub).mkdir(exist_ok=True)
        (base / sub).chmod(0o755)
    if os.geteuid() == 0:
        os.chown(base / "mail", MAIL_UID, MAIL_GID)
    cert, key = make_cert(base / "certs", cert_host, expired=cert_expired)
    users = dict({"buyer": "secret"} if users is None else users)
    spares = _spare_users(users, SPARE_USERS)
    (base / "users").write_text("".join(_passwd_line(base, u, p)
                                        for u, p in [*users.items(), *spares]))

    attempts = 1 if ports else 5
    for attempt in range(attempts):
        plain_port, tls_port = ports or (free_port(), free_port())
        server = ImapServer(dir=base, plain_port=plain_port, tls_port=tls_port, ca_file=cert,
                            users=users, oauth2=oauth2, no_move=no_move,
                            login_penalty=login_penalty, _spares=spares,
                            oauth2_port=free_port() if oauth2 else None)
        (base / "dovecot.conf").write_text(_config(server, key))
        if oauth2:
            (base / "dovecot-oauth2.conf.ext").write_text(
                _OAUTH2_CONF.format(port=server.oauth2_port))
        _check_config(dovecot, base / "dovecot.conf")
        try:
            server.start()
            return server
        except RuntimeError as error:
            if "Address already in use" not in str(error) or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _config(server: ImapServer, key: Path) -> str:
    base = server.dir
    passdbs = [_PASSWD_FILE_PASSDB.format(
        dir=base, mechanisms="mechanisms = plain login\n  " if server.oauth2 else "")]
    if server.oauth2:
        passdbs.insert(0, _OAUTH2_PASSDB.format(dir=base))
    unprivileged = ""
    login_chroot = ""
    if os.geteuid() != 0:
        account = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
        unprivileged = _UNPRIVILEGED.format(user=account, group=group)
        login_chroot = "  chroot =\n"
    return _CONF.format(
        dir=base, cert=server.ca_file, key=key, plain_port=server.plain_port,
        tls_port=server.tls_port,
        mechanisms="plain login" + (" xoauth2 oauthbearer" if server.oauth2 else ""),
        passdbs="\n".join(passdbs), login_chroot=login_chroot,
        penalty="" if server.login_penalty else _NO_PENALTY,
        capability=f"imap_capability = {CAPABILITIES_WITHOUT_MOVE}" if server.no_move else "",
        unprivileged=unprivileged)


def _check_config(dovecot: str, conf: Path) -> None:
    """`dovecot -n` rejects a bad key with a clear message; starting would only log it."""
    done = subprocess.run([dovecot, "-n", "-c", str(conf)], capture_output=True, text=True,
                          timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"dovecot rejects {conf}: {done.stderr}")


def _spare_users(taken: Mapping[str, str], count: int) -> list[tuple[str, str]]:
    names = (f"user{n:03d}" for n in itertools.count(1))
    return [(name, secrets.token_hex(8))
            for name in itertools.islice((n for n in names if n not in taken), count)]


def _passwd_line(base: Path, user: str, password: str) -> str:
    if any(c in user + password for c in ":\n"):
        raise ValueError("user names and passwords cannot hold ':' or newlines")
    return f"{user}:{{PLAIN}}{password}:{MAIL_UID}:{MAIL_GID}::{base}/mail/{user}\n"


def _make_searchable(base: Path) -> None:
    """Dovecot's login and mail processes run as other users (dovenull, nobody) and need
    +x on every directory down to the mail; a mkdtemp or pytest tmp dir is 0700, and logins
    then fail with `Temporary authentication failure` (log: `missing +x perm`)."""
    base.chmod(0o755)
    if os.geteuid() != 0:
        return
    for parent in base.resolve().parents:
        if not parent.stat().st_mode & 0o001:
            raise RuntimeError(f"{parent} is not searchable by other users (mode "
                               f"{parent.stat().st_mode & 0o777:o}); put the server elsewhere, "
                               "e.g. under tempfile.mkdtemp()")


def _greets(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(200).startswith(b"* OK")
    except OSError:
        return False


def _group_alive(pgid: int) -> bool:
    """Whether any non-zombie process is in group `pgid` (a zombie orphaned to a PID 1
    that does not reap, as in some containers, would otherwise keep us waiting forever)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _batches(messages: Sequence[bytes]) -> Iterator[Sequence[bytes]]:
    start, size = 0, 0
    for index, message in enumerate(messages):
        if index > start and (index - start >= APPEND_BATCH_MESSAGES
                              or size + len(message) > APPEND_BATCH_BYTES):
            yield messages[start:index]
            start, size = index, 0
        size += len(message)
    if start < len(messages):
        yield messages[start:]


def _appenduid(answer: bytes | str, count: int) -> list[int]:
    """UIDs from `[APPENDUID <validity> <uid-set>]` (RFC 4315), in append order."""
    text = answer.decode() if isinstance(answer, bytes) else str(answer)
    match = re.search(r"\[APPENDUID \d+ ([0-9:,]+)\]", text)
    if not match:
        raise RuntimeError(f"no APPENDUID in {text!r}")
    uids: list[int] = []
    for part in match.group(1).split(","):
        low, _, high = part.partition(":")
        uids.extend(range(int(low), int(high or low) + 1))
    if len(uids) != count:
        raise RuntimeError(f"APPENDUID names {len(uids)} UIDs for {count} messages: {text!r}")
    return uids


def sample_message(n: int = 1, *, size: int = 2_000, subject: str | None = None,
                   sender: str = "buyer@example.com") -> bytes:
    """A plain-text mail of about `size` bytes with a distinct subject and body, for tests
    that need many messages fast (building one takes microseconds)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "orders@example.com"
    message["Subject"] = subject or f"PO#{n:06d}"
    message["Message-ID"] = f"<po-{n}-{secrets.token_hex(4)}@example.com>"
    line = f"line of order {n}: 10 x SKU-{n:05d} at 1.50\n"
    message.set_content(line * max(1, size // len(line)))
    # CRLF as on the wire: Dovecot hands back CRLF, so only then do bytes compare equal.
    return message.as_bytes(policy=email.policy.SMTP)


# ---------------------------------------------------------------------------- faults

class _Loopback:
    """A listener on a free loopback port, accepting on a thread of its own (``_accept``)
    while the ``with`` block runs; every socket it made is closed at the end."""

    def __init__(self, name: str) -> None:
        self.host = "localhost"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True, name=name)

    def __enter__(self) -> Any:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        _close(self._listener)
        self._thread.join(5)
        with self._lock:
            for sock in self._sockets:
                _close(sock)

    def _accept(self) -> None:
        raise NotImplementedError


class HangingServer(_Loopback):
    """A loopback listener that accepts connections and then stops talking: what a stuck
    server or a black-holing firewall looks like, where only the client's timeout helps.

    greeting=False: silent from the start (IMAPClient() itself times out).
    greeting=True: sends `* OK`, then answers only the commands in `answers` (canned OKs;
    the default CAPABILITY lets IMAPClient() connect, as imaplib asks for it at once) and
    never answers anything else. answers=("CAPABILITY", "LOGIN", "SELECT") hangs a FETCH.
    """

    GREETING = b"* OK hanging test server ready\r\n"
    CANNED: ClassVar[dict[bytes, bytes]] = {
        b"CAPABILITY": b"* CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN\r\n{tag} OK done\r\n",
        b"LOGIN": b"{tag} OK logged in\r\n",
        b"SELECT": (b"* 1 EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\n* OK [UIDNEXT 2] ok\r\n"
                    b"{tag} OK [READ-WRITE] selected\r\n"),
        b"EXAMINE": (b"* 1 EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\n* OK [UIDNEXT 2] ok\r\n"
                     b"{tag} OK [READ-ONLY] examined\r\n"),
        b"NOOP": b"{tag} OK done\r\n",
    }

    def __init__(self, *, greeting: bool = False,
                 answers: Sequence[str] = ("CAPABILITY",)) -> None:
        self.greeting = greeting
        self.answers = {a.upper().encode() for a in answers}
        unknown = self.answers - set(self.CANNED)
        if unknown:
            raise ValueError(f"no canned answer for {sorted(unknown)}")
        super().__init__("hanging")

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._sockets.append(connection)
            if self.greeting:
                threading.Thread(target=self._talk, args=(connection,), daemon=True).start()

    def _talk(self, connection: socket.socket) -> None:
        with contextlib.suppress(OSError):
            connection.sendall(self.GREETING)
            for line in connection.makefile("rb"):
                tag, _, rest = line.strip().partition(b" ")
                command = rest.split(b" ", 1)[0].upper()
                if command in self.answers:
                    connection.sendall(self.CANNED[command].replace(b"{tag}", tag))


class DroppingProxy(_Loopback):
    """A TCP proxy on loopback in front of the server's TLS port (tls=True) or plain port
    that forwards both ways and cuts both sides once `after_bytes` went from server to
    client, so a FETCH of a big message dies in the middle. TLS passes through untouched
    (the client still verifies the server's certificate for `localhost`).

    times: how many connections to cut (None: all); later ones pass through, so a client's
    reconnect can succeed. reset=True cuts with a TCP RST instead of a FIN.
    """

    def __init__(self, server: ImapServer, after_bytes: int, *, tls: bool = True,
                 times: int | None = None, reset: bool = False) -> None:
        self.target = ("127.0.0.1", server.tls_port if tls else server.plain_port)
        self.after_bytes = after_bytes
        self.times = times
        self.reset = reset
        self.cuts = 0  # connections cut so far
        super().__init__("proxy")

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
                cut = self.times is None or self.cuts < self.times
                if cut:
                    self.cuts += 1
            limit = self.after_bytes if cut else None
            threading.Thread(target=self._pump, args=(client, upstream, None),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, limit),
                             daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while limit is None or sent < limit:
                chunk = source.recv(65536)
                if not chunk:
                    break
                if limit is not None:
                    chunk = chunk[:limit - sent]
                sink.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        if self.reset:
            for sock in (source, sink):
                _reset(sock)
        else:
            _close(source)
            _close(sink)


def _reset(sock: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashed middlebox would; SHUT_RD first wakes
    the other pump thread's recv() without sending the FIN a full shutdown would."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)
    with contextlib.suppress(OSError):
        sock.close()


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


# ---------------------------------------------------------------------------- fixtures

@dataclass
class Mailbox:
    """One test's own user on the shared server: what the IMAP source needs to connect
    (host, ports, user, password, ca_file) plus shortcuts to fill and inspect it."""

    server: ImapServer
    user: str
    password: str

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def tls_port(self) -> int:
        return self.server.tls_port

    @property
    def plain_port(self) -> int:
        return self.server.plain_port

    @property
    def ca_file(self) -> Path:
        return self.server.ca_file

    def client(self, tls: bool = True) -> IMAPClient:
        return self.server.client(self.user, tls)

    def append(self, folder: str, messages: Sequence[bytes], flags: Sequence[bytes | str] = (),
               msg_time: dt.datetime | None = None) -> list[int]:
        return self.server.append(self.user, folder, messages, flags, msg_time)


@contextlib.contextmanager
def _private_dir() -> Iterator[Path]:
    """A fresh directory under the system temp dir (pytest's are under a 0700 parent that
    Dovecot's users cannot enter), removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="ordermill-imap-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _running(**options: Any) -> Iterator[ImapServer]:
    with _private_dir() as base:
        try:
            server = start_server(base, **options)
        except DovecotMissing as missing:
            pytest.fail(str(missing), pytrace=False)
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    """One Dovecot for the whole session (starting one per test would be cheap, but tests
    that share it are faster still); give each test its own user with `mailbox`."""
    with _running() as server:
        yield server


@pytest.fixture
def fresh_imap_server() -> Iterator[ImapServer]:
    """A Dovecot of this test's own: for tests that stop, restart or break the server."""
    with _running() as server:
        yield server


@pytest.fixture
def imap_server_factory() -> Iterator[Any]:
    """start_server with options (oauth2, no_move, cert_host, ...): `factory(**options)`;
    every server it started is stopped after the test."""
    with contextlib.ExitStack() as stack:
        def factory(**options: Any) -> ImapServer:
            return stack.enter_context(_running(**options))
        yield factory


@pytest.fixture
def mailbox(imap_server: ImapServer) -> Mailbox:
    """A new user on the session server, so no test sees another's mail."""
    # A server stopped by an earlier test's mistake would fail every later test: restart it.
    if not imap_server.running:
        imap_server.start()
    user = imap_server.add_user()
    return Mailbox(imap_server, user, imap_server.users[user])

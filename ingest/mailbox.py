"""Configuration, beside the flow: a mailbox source (``[[sources]]`` with ``kind = "imap"``).

What ``ordermill.toml`` says about a mailbox (server, TLS, login, folders, which mails are
orders, which mapping reads a sender's mail), checked when the config is loaded so a typo
is an error before a poll, never a quiet night. The secret itself is never in the file:
the file names where it is (``password_env``, ``password_file``, ``oauth2_token_command``)
and it is read only when the mailbox is opened (``secret``), never shown.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ingest.errors import InputError, OrdermillError
from ingest.mapping.loader import nearest

TLS_MODES = ("implicit", "starttls", "none")
DEFAULT_PORTS = {"implicit": 993, "starttls": 143, "none": 143}
MAILBOX_KEYS = ("name", "kind", "channel", "host", "port", "tls", "ca_file",
                "allow_plaintext", "user", "password_env", "password_file",
                "oauth2_token_command", "folder", "subject", "senders", "processed_folder",
                "review_folder", "routes", "since", "timeout_seconds", "max_attachment_mb")
# Keys that name where a secret is, not the secret: allowed although they say "password".
SECRET_POINTERS = ("password_env", "password_file", "oauth2_token_command")
DEFAULT_ATTACHMENT_BYTES = 50 * 1024 * 1024  # ``max_attachment_mb`` when a source names none
TOKEN_SECONDS = 30  # an oauth2_token_command that takes longer is taken as hung


@dataclass(frozen=True)
class Route:
    """Mail from senders matching ``sender`` (``*@acme.example``) is read with ``channel``
    (a channel or a mapping name), its attachments and body tables alike."""

    sender: str
    channel: str


@dataclass(frozen=True)
class Mailbox:
    """One IMAP mailbox folder that purchase orders are mailed to."""

    host: str
    user: str
    port: int
    tls: str = "implicit"
    ca_file: Path | None = None
    allow_plaintext: bool = False
    password_env: str | None = None
    password_file: Path | None = None
    oauth2_token_command: str | None = None
    folder: str = "INBOX"
    subject: tuple[str, ...] = ()
    senders: tuple[str, ...] = ()
    processed_folder: str = "ordermill/processed"
    review_folder: str = "ordermill/needs-review"
    routes: tuple[Route, ...] = ()
    since: date | None = None
    timeout_seconds: float = 30.0
    max_attachment_mb: float = 50.0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def address(self) -> str:
        """``user@host`` as lineage names the mailbox (``imap://<address>/<folder>...``)."""
        return f"{self.user}@{self.host}"

    @property
    def login_kind(self) -> str:
        return "xoauth2" if self.oauth2_token_command else "password"

    def shown(self) -> str:
        """For ``config show``: everything but the secret, and where the secret comes from."""
        secret = (f"token from `{self.oauth2_token_command}`" if self.oauth2_token_command
                  else f"password from ${self.password_env}" if self.password_env
                  else f"password from file {self.password_file}")
        words = [f"imap {self.address}:{self.port} tls={self.tls}", f"folder={self.folder}",
                 secret]
        if self.subject:
            words.append("subject~" + "|".join(self.subject))
        if self.senders:
            words.append("senders=" + ",".join(self.senders))
        words += [f"processed={self.processed_folder}", f"review={self.review_folder}"]
        words += [f"route {r.sender}->{r.channel}" for r in self.routes]
        if self.since:
            words.append(f"since={self.since.isoformat()}")
        return " ".join(words)


def secret(mailbox: Mailbox, source: str,
           run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run) -> str:
    """The password or OAuth2 access token, read now from where the config says it is.
    Raises InputError (``source-unreachable``) naming the source when it cannot be had."""
    def fail(why: str) -> InputError:
        return InputError.of(f"source {source}", "source-unreachable",
                             reason=f"mailbox {source} ({mailbox.address}): {why}")

    if mailbox.oauth2_token_command:
        try:
            done = run(shlex.split(mailbox.oauth2_token_command), capture_output=True,
                       text=True, timeout=TOKEN_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise fail(f"oauth2_token_command failed: {exc}") from None
        token = done.stdout.strip()
        if done.returncode != 0 or not token:
            said = (done.stderr.strip().splitlines() or [""])[-1][:200]
            raise fail(f"oauth2_token_command exited {done.returncode} without a token"
                       + (f": {said}" if said else "")) from None
        return token
    if mailbox.password_env:
        value = os.environ.get(mailbox.password_env)
        if not value:
            raise fail(f"the environment variable {mailbox.password_env} (password_env) is "
                       "not set")
        return value
    assert mailbox.password_file is not None
    try:
        return mailbox.password_file.read_text(encoding="utf-8").strip("\r\n")
    except OSError as exc:
        raise fail(f"cannot read password_file {mailbox.password_file}: "
                   f"{exc.strerror or exc}") from None


def parse_mailbox(item: dict[str, Any], fail: Callable[[str, str], OrdermillError],
                  base: Path) -> Mailbox:
    """The mailbox a ``[[sources]]`` table with ``kind = "imap"`` describes; ``fail(key,
    problem)`` makes the config error naming the file and the key."""
    for key in item:
        if key not in MAILBOX_KEYS:
            raise fail(key, "unknown key for an imap source" + nearest(key, MAILBOX_KEYS)
                       + "; allowed: " + ", ".join(MAILBOX_KEYS))

    def text(key: str, default: str | None = None, required: bool = False) -> str | None:
        value = item.get(key, default)
        if value is None and required:
            raise fail(key, "is required for an imap source")
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise fail(key, "must be a non-empty string")
        return value

    def texts(key: str) -> tuple[str, ...]:
        value = item.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise fail(key, "must be a list of non-empty strings")
        return tuple(value)

    def number(key: str, default: float) -> float:
        value = item.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise fail(key, "must be a number above 0")
        return float(value)

    tls = text("tls", "implicit") or "implicit"
    if tls not in TLS_MODES:
        raise fail("tls", f"must be one of: {', '.join(TLS_MODES)}" + nearest(tls, TLS_MODES))
    allow_plaintext = item.get("allow_plaintext", False)
    if not isinstance(allow_plaintext, bool):
        raise fail("allow_plaintext", "must be true or false")
    if tls == "none" and not allow_plaintext:
        raise fail("tls", "\"none\" sends the password in clear text: refused unless "
                   "allow_plaintext = true (use implicit or starttls)")
    port = item.get("port", DEFAULT_PORTS[tls])
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise fail("port", "must be a port number (1-65535)")
    pointers = [k for k in SECRET_POINTERS if k in item]
    if len(pointers) != 1:
        raise fail("password_env", "name exactly one of password_env, password_file or "
                   "oauth2_token_command (where the secret is; never the secret itself)"
                   + (f"; found {', '.join(pointers)}" if pointers else ""))
    routes = []
    raw_routes = item.get("routes", [])
    if not isinstance(raw_routes, list):
        raise fail("routes", "must be a list of tables: [[sources.routes]]")
    for index, route in enumerate(raw_routes):
        if not isinstance(route, dict) or set(route) != {"from", "channel"} or not all(
                isinstance(v, str) and v for v in route.values()):
            raise fail(f"routes[{index}]", "must have exactly `from` (a sender pattern such "
                       "as \"*@acme.example\") and `channel`")
        routes.append(Route(route["from"], route["channel"]))
    since = item.get("since")
    if isinstance(since, str):
        try:
            since = date.fromisoformat(since)
        except ValueError:
            raise fail("since", "must be a date such as 2026-12-01") from None
    if since is not None and not isinstance(since, date):
        raise fail("since", "must be a date such as 2026-12-01")
    ca_file = text("ca_file")
    password_file = text("password_file")
    host = text("host", required=True)
    user = text("user", required=True)
    assert host is not None and user is not None
    return Mailbox(
        host=host, user=user, port=port, tls=tls,
        ca_file=base / ca_file if ca_file else None, allow_plaintext=allow_plaintext,
        password_env=text("password_env"),
        password_file=base / password_file if password_file else None,
        oauth2_token_command=text("oauth2_token_command"),
        folder=text("folder", "INBOX") or "INBOX", subject=texts("subject"),
        senders=texts("senders"),
        processed_folder=text("processed_folder", "ordermill/processed") or "",
        review_folder=text("review_folder", "ordermill/needs-review") or "",
        routes=tuple(routes), since=since,
        timeout_seconds=number("timeout_seconds", 30.0),
        max_attachment_mb=number("max_attachment_mb", 50.0))


def route_for(sender: str, routes: Sequence[Route],
              matches: Callable[[str, Sequence[str]], bool]) -> str | None:
    """The channel of the first route whose pattern the sender matches."""
    for route in routes:
        if matches(sender, [route.sender]):
            return route.channel
    return None

"""Mailbox sources in ordermill.toml: the keys the README documents, checked when loaded."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

from ingest.config import ConfigError, load_settings
from ingest.errors import InputError
from ingest.mailbox import secret

FULL = '''
[[sources]]
name = "po-mail"
kind = "imap"
host = "imap.example.com"
ca_file = "certs/ca.pem"
user = "orders@example.com"
password_env = "PO_MAIL_PASSWORD"
folder = "INBOX"
subject = ["PO#", "Purchase Order", "采购订单", "订货单"]
senders = ["*@acme.example", "buyer@huaxin.example"]
processed_folder = "ordermill/processed"
review_folder = "ordermill/needs-review"
since = "2026-12-01"
[[sources.routes]]
from = "*@acme.example"
channel = "po-acme"

[[sources]]
name = "drop"
path = "drop"
'''


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "ordermill.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(config=str(path), environ={})


def test_a_mailbox_source_is_read_with_every_documented_key(tmp_path: Path) -> None:
    settings = _load(tmp_path, FULL)
    source = settings.source("po-mail")  # type: ignore[attr-defined]
    box = source.mailbox
    assert source.kind == "imap" and source.path is None
    assert (box.host, box.port, box.tls, box.user) == (
        "imap.example.com", 993, "implicit", "orders@example.com")
    assert box.ca_file == tmp_path / "certs/ca.pem"  # (relative to the config file)
    assert box.subject == ("PO#", "Purchase Order", "采购订单", "订货单")
    assert box.senders == ("*@acme.example", "buyer@huaxin.example")
    assert box.routes[0].sender == "*@acme.example" and box.routes[0].channel == "po-acme"
    assert box.since == date(2026, 12, 1)
    assert box.address == "orders@example.com@imap.example.com"
    assert settings.source("drop").kind == "folder"  # type: ignore[attr-defined]


def test_config_show_names_where_the_secret_is_never_the_secret(tmp_path: Path) -> None:
    settings = _load(tmp_path, FULL)
    shown = dict((s, v) for s, v, _ in settings.show())  # type: ignore[attr-defined]
    line = shown["sources.po-mail"]
    assert "imap orders@example.com@imap.example.com:993 tls=implicit" in line
    assert "password from $PO_MAIL_PASSWORD" in line
    assert "route *@acme.example->po-acme" in line


@pytest.mark.parametrize(("change", "key", "words"), [
    ('password = "hunter2"', "password", "secrets are never read from the config file"),
    ('tls = "none"', "tls", "refused unless allow_plaintext = true"),
    ('tls = "implict"', "tls", "did you mean 'implicit'"),
    ('foldr = "INBOX"', "foldr", "did you mean 'folder'"),
    ('port = 99999', "port", "must be a port number"),
    ('password_file = "secret.txt"', "password_env", "name exactly one of"),
])
def test_a_bad_mailbox_key_is_named_with_what_to_do(tmp_path: Path, change: str, key: str,
                                                    words: str) -> None:
    text = FULL.replace('folder = "INBOX"\n', f'folder = "INBOX"\n{change}\n')
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, text)
    assert f"sources[0].{key}" in str(raised.value) and words in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_since_must_be_a_date(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sources\[0\]\.since: must be a date"):
        _load(tmp_path, FULL.replace('since = "2026-12-01"', 'since = "yesterday"'))


def test_plain_imap_is_allowed_only_when_asked_for(tmp_path: Path) -> None:
    text = FULL.replace('folder = "INBOX"\n', 'tls = "none"\nallow_plaintext = true\n')
    box = _load(tmp_path, text).source("po-mail").mailbox  # type: ignore[attr-defined]
    assert (box.tls, box.port) == ("none", 143)


def test_a_route_needs_a_sender_and_a_channel(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"routes\[0\].*exactly `from`"):
        _load(tmp_path, FULL.replace('channel = "po-acme"', 'mapping = "po-acme"'))


def test_the_secret_is_read_from_where_the_config_says(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    box = _load(tmp_path, FULL).source("po-mail").mailbox  # type: ignore[attr-defined]
    monkeypatch.delenv("PO_MAIL_PASSWORD", raising=False)
    with pytest.raises(InputError, match=r"PO_MAIL_PASSWORD .* is not set") as raised:
        secret(box, "po-mail")
    assert raised.value.code == "source-unreachable"
    monkeypatch.setenv("PO_MAIL_PASSWORD", "s3cret")
    assert secret(box, "po-mail") == "s3cret"

    (tmp_path / "pw").write_text("from-file\n", encoding="utf-8")
    text = FULL.replace('password_env = "PO_MAIL_PASSWORD"', 'password_file = "pw"')
    box = _load(tmp_path, text).source("po-mail").mailbox  # type: ignore[attr-defined]
    assert secret(box, "po-mail") == "from-file"

    script = tmp_path / "token.py"
    script.write_text("print('tok-123')\n", encoding="utf-8")
    text = FULL.replace('password_env = "PO_MAIL_PASSWORD"',
                        f"oauth2_token_command = '{sys.executable} {script}'")
    box = _load(tmp_path, text).source("po-mail").mailbox  # type: ignore[attr-defined]
    assert box.login_kind == "xoauth2" and secret(box, "po-mail") == "tok-123"
    script.write_text("import sys\nsys.exit('token expired')\n", encoding="utf-8")
    with pytest.raises(InputError, match="exited 1 without a token: token expired"):
        secret(box, "po-mail")

"""Configuration, beside the flow: ``ordermill.toml``, ``ORDERMILL_*`` variables, options.

Precedence: command-line option > environment variable > config file > default. Every
resolved value remembers where it came from, so ``ordermill config show`` can say. Secrets
(mailbox passwords, later) are never read from the file and never printed.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ingest.bundled import bundled_dir
from ingest.errors import OrdermillError
from ingest.mailbox import SECRET_POINTERS, Mailbox, parse_mailbox
from ingest.mapping.loader import nearest
from ingest.readers import listed_suffixes
from ingest.writers import WRITERS

CONFIG_FILE = "ordermill.toml"
SECRET_WORDS = ("password", "secret", "token", "passwd", "api_key")


def formats() -> tuple[str, ...]:
    """The output formats: the writers registered (``ingest.writers``), asked when needed so
    that a format registered after this module was imported counts too."""
    return tuple(WRITERS)


def default_patterns() -> tuple[str, ...]:
    """A folder source's patterns when it names none: every suffix a reader is registered
    for, so ``run`` reads the same files as ``ingest FOLDER`` (``sources.given.expand_paths``
    picks files by the same registry)."""
    return tuple(f"*{suffix}" for suffix in listed_suffixes())


def _either(names: Sequence[str]) -> str:
    """'csv, parquet or ndjson'."""
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)


def bundled_mappings_dir() -> Path:
    """The mappings that ship with ordermill (``bundled_dir``)."""
    return bundled_dir("mappings", "name a directory with --mappings or mappings_dir")


# name -> (default, environment variable, help)
SETTINGS: dict[str, tuple[str, str, str]] = {
    "out_dir": ("out", "ORDERMILL_OUT_DIR", "where batches are published"),
    "format": ("csv", "ORDERMILL_FORMAT", f"format of orders.*: {_either(formats())}"),
    "timezone": ("UTC", "ORDERMILL_TIMEZONE",
                 "zone of timestamps without an offset, for mappings that name none"),
    "mappings_dir": ("", "ORDERMILL_MAPPINGS", "directory of mapping files (default: bundled)"),
    "state_dir": ("state", "ORDERMILL_STATE_DIR", "the ledger and the run lock"),
    "archive_dir": ("archive", "ORDERMILL_ARCHIVE_DIR",
                    "where files from folder sources go once ingested (dated subfolders)"),
    "quarantine_dir": ("quarantine", "ORDERMILL_QUARANTINE_DIR",
                       "where unreadable files go, with <name>.reason.txt beside them"),
    "pair_wait_days": ("3", "ORDERMILL_PAIR_WAIT_DAYS",
                       "days half of a two-file export waits for the other (partner-missing)"),
    "profile": ("", "ORDERMILL_PROFILE",
                "ERP profiles written beside the standard files (comma list, e.g. odoo,json)"),
    "profiles_dir": ("", "ORDERMILL_PROFILES",
                     "directory of your own profile files (besides the bundled ones)"),
    "products": ("", "ORDERMILL_PRODUCTS",
                 "the product list OCR'd SKUs are checked against (a CSV with a sku column, "
                 "or one SKU a line); a mapping's [checks] products wins"),
    "rules": ("", "ORDERMILL_RULES",
              "order rule files or folders of them, run in this order (comma list)"),
}
SOURCE_KEYS = ("name", "kind", "path", "patterns", "channel", "profile")
SOURCE_KINDS = ("folder", "imap")  # an imap source's keys: ingest.mailbox


class ConfigError(OrdermillError):
    """A bad config file: names the file, the key and what is wrong (exit 2)."""

    def __init__(self, path: str, key: str, problem: str) -> None:
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Source:
    """A place orders arrive: a folder with glob patterns (``path``), or a mailbox
    (``kind = "imap"``, ``mailbox``), read with one channel or by detection."""

    name: str
    path: Path | None
    patterns: tuple[str, ...] = field(default_factory=default_patterns)
    channel: str | None = None
    kind: str = "folder"
    mailbox: Mailbox | None = None
    profiles: tuple[str, ...] = ()  # ERP profiles for this source's lines only


@dataclass(frozen=True)
class Settings:
    values: dict[str, str]
    origins: dict[str, str]  # setting -> "option", "env ORDERMILL_X", "file PATH" or "default"
    sources: tuple[Source, ...] = ()
    config_path: Path | None = None
    sources_origin: str = "default"
    lookups: dict[str, Any] = field(default_factory=dict)  # [lookups], read when a run needs it
    reference: dict[str, Any] = field(default_factory=dict)  # [reference.*]: the rules' data
    merge: dict[str, Any] | None = None  # [merge]: repeat orders merged (``ingest.rules``)

    @property
    def profiles(self) -> tuple[str, ...]:
        """The ERP profiles every batch is written in too (``profile``: a comma list)."""
        return split_names(self.values["profile"])

    @property
    def rules(self) -> tuple[Path, ...]:
        """The rule files (or folders), in order; relative to the config file when named
        there."""
        base = self.config_path.parent if self.config_path is not None and \
            self.origins["rules"].startswith("file") else Path()
        return tuple(p if p.is_absolute() else base / p
                     for p in map(Path, split_names(self.values["rules"])))

    @property
    def base_dir(self) -> Path:
        """Where relative paths of the config file's tables are taken from."""
        return self.config_path.parent if self.config_path is not None else Path()

    @property
    def profiles_dir(self) -> Path | None:
        return Path(self.values["profiles_dir"]) if self.values["profiles_dir"] else None

    @property
    def output_format(self) -> str:
        """Format of orders.*: one of ``formats()`` (checked when loaded)."""
        return self.values["format"]

    @property
    def timezone(self) -> str:
        """IANA zone of timestamps without an offset, for mappings that name none
        (checked when loaded)."""
        return self.values["timezone"]

    @property
    def out_dir(self) -> Path:
        return Path(self.values["out_dir"])

    @property
    def state_dir(self) -> Path:
        return Path(self.values["state_dir"])

    @property
    def archive_dir(self) -> Path:
        return Path(self.values["archive_dir"])

    @property
    def quarantine_dir(self) -> Path:
        return Path(self.values["quarantine_dir"])

    @property
    def pair_wait_days(self) -> float:
        """How many days half of a two-file export waits for its partner (checked when
        loaded)."""
        return float(self.values["pair_wait_days"])

    @property
    def products(self) -> Path | None:
        """The product list OCR'd SKUs are checked against, for mappings that name none
        (``ingest.ocr_checks``); None when none is configured."""
        return Path(self.values["products"]) if self.values["products"] else None

    @property
    def mappings_dir(self) -> Path:
        """The mappings directory: the one resolution of it (option > ORDERMILL_MAPPINGS >
        config file, else the bundled mappings)."""
        return Path(self.values["mappings_dir"]) if self.values["mappings_dir"] \
            else bundled_mappings_dir()

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none configured"
        raise ConfigError(str(self.config_path or CONFIG_FILE), "sources",
                          f"no source named {name!r}{nearest(name, [s.name for s in self.sources])}"
                          f"; known: {known}")

    def show(self) -> list[tuple[str, str, str]]:
        """(setting, value, origin) rows for ``config show``."""
        rows = [(name, self.values[name] or "(bundled)", self.origins[name])
                for name in SETTINGS]
        for source in self.sources:
            if source.mailbox is not None:  # (never the secret: where it is read from)
                value = source.mailbox.shown() + f" channel={source.channel or 'auto'}"
            else:
                value = (f"{source.kind} {source.path} [{','.join(source.patterns)}] "
                         f"channel={source.channel or 'auto'}")
            if source.profiles:
                value += f" profile={','.join(source.profiles)}"
            rows.append((f"sources.{source.name}", value, self.sources_origin))
        return rows


def config_path(option: str | None, environ: Mapping[str, str]) -> tuple[Path | None, bool]:
    """The config file to read and whether it was asked for explicitly (then it must exist)."""
    if option:
        return Path(option), True
    if environ.get("ORDERMILL_CONFIG"):
        return Path(environ["ORDERMILL_CONFIG"]), True
    default = Path(CONFIG_FILE)
    return (default, False) if default.is_file() else (None, False)


def load_settings(options: Mapping[str, str | None] | None = None, config: str | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    options = options or {}
    path, explicit = config_path(config, environ)
    data: dict[str, Any] = {}
    if path is not None:
        data = _read_file(path, explicit)
    values: dict[str, str] = {}
    origins: dict[str, str] = {}
    for name, (default, env_name, _help) in SETTINGS.items():
        if options.get(name) not in (None, ""):
            values[name], origins[name] = str(options[name]), "option"
        elif environ.get(env_name):
            values[name], origins[name] = environ[env_name], f"env {env_name}"
        elif name in data:
            value = ",".join(data[name]) if isinstance(data[name], list) else str(data[name])
            if (name.endswith("_dir") or name == "products") and value and path is not None:
                value = str(path.parent / value)  # relative to the config file, not the cwd
            values[name], origins[name] = value, f"file {path}"
        else:
            values[name], origins[name] = default, "default"
    _check_values(values, origins)
    sources = _sources(data.get("sources", []), str(path)) if path else ()
    lookups = data.get("lookups", {})
    if not isinstance(lookups, dict):
        raise ConfigError(str(path), "lookups", "must be a table: [lookups] item = \"items.csv\"")
    reference = data.get("reference", {})
    if not isinstance(reference, dict):
        raise ConfigError(str(path), "reference", "must be tables: [reference.stock] ...")
    merge = data.get("merge")
    if merge is not None and not isinstance(merge, dict):
        raise ConfigError(str(path), "merge", "must be a table: [merge]")
    return Settings(values, origins, sources, path, f"file {path}" if path else "default",
                    lookups, reference, merge)


def split_names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Profile names from a comma list or a list of them (repeated options), in order,
    each once."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    names = [n.strip() for item in items for n in item.split(",") if n.strip()]
    return tuple(dict.fromkeys(names))


def _read_file(path: Path, explicit: bool) -> dict[str, Any]:
    if not path.is_file():
        if explicit:
            raise ConfigError(str(path), "", "config file not found")
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"is not valid TOML: {exc}") from None
    allowed = (*SETTINGS, "sources", "lookups", "reference", "merge")
    for key in data:
        if any(word in key.lower() for word in SECRET_WORDS):
            raise ConfigError(str(path), key, "secrets are never read from the config file; "
                              "set them in the environment instead")
        if key not in allowed:
            raise ConfigError(str(path), key, "unknown setting" + nearest(key, allowed)
                              + "; allowed: " + ", ".join(allowed))
        if key == "pair_wait_days" and isinstance(data[key], int | float) \
                and not isinstance(data[key], bool):
            continue
        if key in ("profile", "rules") and isinstance(data[key], list) \
                and all(isinstance(v, str) for v in data[key]):
            continue  # (profile = ["odoo", "json"])
        if key not in ("sources", "lookups", "reference", "merge") \
                and not isinstance(data[key], str):
            # (the value is not shown: a secret pasted into the wrong key must not reach logs)
            raise ConfigError(str(path), key, "must be a string, not a "
                              + _TOML_TYPES.get(type(data[key]).__name__, "value"))
    return data


_TOML_TYPES = {"dict": "table", "list": "list", "int": "number", "float": "number",
               "bool": "boolean", "datetime": "date-time", "date": "date", "time": "time"}


def _shown(value: str, origin: str) -> str:
    """A setting's value for an error message: as typed on the command line; from a file or
    the environment not at all, where a secret pasted into the wrong key would reach logs."""
    return f" {value!r}" if origin == "option" else ""


def _check_values(values: dict[str, str], origins: dict[str, str]) -> None:
    known = formats()
    if values["format"] not in known:
        raise ConfigError(origins["format"], "format",
                          f"unknown format{_shown(values['format'], origins['format'])}"
                          + nearest(values["format"], known) + f"; use {_either(known)}")
    try:
        if not float(values["pair_wait_days"]) >= 0:
            raise ValueError
    except ValueError:
        raise ConfigError(origins["pair_wait_days"], "pair_wait_days",
                          "must be a number of days, 0 or more (such as 3 or 0.5)") from None
    try:
        ZoneInfo(values["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(origins["timezone"], "timezone",
                          f"unknown time zone{_shown(values['timezone'], origins['timezone'])}"
                          " (use an IANA name such as 'Asia/Shanghai')") from None


def _sources(raw: Any, path: str) -> tuple[Source, ...]:
    if not isinstance(raw, list):
        raise ConfigError(path, "sources", "must be a list of tables: [[sources]]")
    sources: list[Source] = []
    for index, item in enumerate(raw):
        key = f"sources[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(path, key, "must be a table with name, path and patterns")
        kind = item.get("kind", "folder")
        if kind not in SOURCE_KINDS:
            raise ConfigError(path, f"{key}.kind", f"unknown kind {kind!r}; known: "
                              + ", ".join(SOURCE_KINDS))
        for name in item:
            if name in SECRET_POINTERS and kind == "imap":
                continue  # (where the secret is, not the secret)
            if any(word in name.lower() for word in SECRET_WORDS):
                raise ConfigError(path, f"{key}.{name}", "secrets are never read from the "
                                  "config file; set them in the environment instead")
            if name not in SOURCE_KEYS and kind == "folder":
                raise ConfigError(path, f"{key}.{name}", "unknown key"
                                  + nearest(name, SOURCE_KEYS) + "; allowed: "
                                  + ", ".join(SOURCE_KEYS))
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigError(path, f"{key}.name", "is required: a short name for the source")
        if any(s.name == name for s in sources):
            raise ConfigError(path, f"{key}.name", f"{name!r} is used twice")
        channel = item.get("channel")
        if channel is not None and not isinstance(channel, str):
            raise ConfigError(path, f"{key}.channel", "must be a channel name")
        profile = item.pop("profile", None) if kind == "imap" else item.get("profile")
        if profile is not None and not (isinstance(profile, str) or (
                isinstance(profile, list) and all(isinstance(p, str) for p in profile))):
            raise ConfigError(path, f"{key}.profile", "must be a profile name or a list of "
                              "them (profile = \"odoo\")")
        profiles = split_names(profile)
        base = Path(path).parent
        if kind == "imap":
            def fail(sub: str, problem: str, where: str = f"{key}") -> ConfigError:
                return ConfigError(path, f"{where}.{sub}", problem)
            sources.append(Source(name, None, (), channel, kind,
                                  parse_mailbox(item, fail, base), profiles))
            continue
        folder = item.get("path")
        if not isinstance(folder, str) or not folder:
            raise ConfigError(path, f"{key}.path", "is required: the folder to read")
        patterns = item.get("patterns", list(default_patterns()))
        if isinstance(patterns, str):
            patterns = [patterns]
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise ConfigError(path, f"{key}.patterns", "must be a list of glob patterns")
        sources.append(Source(name, base / folder, tuple(patterns), channel, kind,
                              profiles=profiles))
    return tuple(sources)

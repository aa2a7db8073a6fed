"""What a user gets from ``pip install ordermill`` (a wheel, not our editable checkout):
the bundled channel mappings come with it and are found from any directory.

The wheel is built from a copy of the project (the checkout stays clean) and installed,
without network, into a fresh virtual environment that borrows this environment's
dependencies, pip and setuptools through a ``.pth`` line. A ``.pth`` line only adds a
directory to ``sys.path``: the ``.pth`` files inside it (this environment's editable
install of ordermill) are not run, so ``ingest`` can only come from the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
import venv
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES

# What the wheel is built from: the sources of the ``[project]`` and nothing else.
PROJECT_FILES = ("pyproject.toml", "README.md", "cli.py", "ingest", "mappings", "profiles",
                 "rules")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` directory of a fresh environment with ordermill installed from a wheel."""
    base = tmp_path_factory.mktemp("packaging")
    project = base / "project"
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            project.mkdir(exist_ok=True)
            shutil.copy2(source, project / name)
    env_dir = base / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)  # pip comes from this environment
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n",
                                             encoding="utf-8")
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--disable-pip-version-check", "-q", str(project)],
        capture_output=True, text=True, cwd=base, timeout=300, env=_clean_env())
    assert result.returncode == 0, result.stdout + result.stderr
    return env_dir / "bin"


def _clean_env() -> dict[str, str]:
    """No ORDERMILL_* setting, no PYTHONPATH pointing into the checkout."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("ORDERMILL_") and k not in ("PYTHONPATH", "PYTHONHOME")}


def _ordermill(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(bin_dir / "ordermill"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env=_clean_env())


def test_the_installed_package_is_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    # Guards the other tests: were ``ingest`` imported from the checkout, they would prove
    # nothing about the wheel.
    found = subprocess.run([str(installed / "python"), "-c",
                            "import ingest, cli; print(ingest.__file__); print(cli.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True,
                           env=_clean_env()).stdout.split()
    assert all(Path(f).is_relative_to(installed.parent) for f in found), found


def test_the_wheel_holds_every_package_of_the_checkout(installed: Path,
                                                       tmp_path: Path) -> None:
    # pyproject.toml lists the packages (the bundled mappings need a package-dir entry,
    # which rules out automatic discovery): a new package left out of the list fails here.
    packages = sorted(".".join(p.parent.relative_to(ROOT).parts)
                      for p in (ROOT / "ingest").rglob("__init__.py")
                      if "__pycache__" not in p.parts)
    code = ("import importlib, sys\n"
            "for name in sys.argv[1:]:\n"
            "    importlib.import_module(name)\n"
            "print('ok')")
    result = subprocess.run([str(installed / "python"), "-c", code, *packages], cwd=tmp_path,
                            capture_output=True, text=True, env=_clean_env())
    assert result.stdout.strip() == "ok", result.stderr


def test_mappings_list_finds_the_bundled_channels_outside_the_checkout(
        installed: Path, tmp_path: Path) -> None:
    result = _ordermill(installed, tmp_path, "mappings", "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    channels = {row["channel"] for row in rows}
    assert {"tmall", "shopify", "po-acme", "jd", "pinduoduo"} <= channels
    expected = {p.stem for p in (ROOT / "mappings").glob("*.toml")}
    # every bundled mapping (one per layout), all of them loading
    assert {Path(row["file"]).stem for row in rows} == expected
    # ... and read from the installed package, not from the checkout
    assert all(Path(row["file"]).is_relative_to(installed.parent) for row in rows), rows


def test_ingest_with_the_bundled_mappings_outside_the_checkout(installed: Path,
                                                               tmp_path: Path) -> None:
    shutil.copy(SAMPLES.parent / "tests" / "fixtures" / "tmall-combined.csv", tmp_path / "t.csv")
    result = _ordermill(installed, tmp_path, "ingest", "t.csv", "--json", "--state-dir",
                        "state")
    assert result.returncode in (0, 1), result.stderr  # 1: the sample's bad rows
    body = json.loads(result.stdout)
    assert body["totals"]["clean"] > 0
    assert [i["channel"] for i in body["manifest"]["inputs"]] == ["tmall"]



def test_the_bundled_rules_and_their_codes_come_with_the_wheel(installed: Path,
                                                              tmp_path: Path) -> None:
    # The example rules ship as ingest.bundled_rules: the README's table of rule codes is
    # generated from them, and `rules check` reads them, from the installed package.
    code = ("from ingest.codes import bundled_rule_codes\n"
            "from ingest.rules.model import bundled_rules_dir\n"
            "print(bundled_rules_dir())\n"
            "print(' '.join(c.code for c in bundled_rule_codes()))")
    result = subprocess.run([str(installed / "python"), "-c", code], cwd=tmp_path,
                            capture_output=True, text=True, env=_clean_env())
    assert result.returncode == 0, result.stderr
    folder, codes = result.stdout.strip().splitlines()
    assert Path(folder).is_relative_to(installed.parent)
    assert {p.name for p in Path(folder).glob("*.toml")} == {
        p.name for p in (ROOT / "rules").glob("*.toml")}
    assert {"out-of-stock", "credit-low", "urgent-fj"} <= set(codes.split())
    checked = _ordermill(installed, tmp_path, "rules", "check", folder)
    assert checked.returncode == 0, checked.stderr

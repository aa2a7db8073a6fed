"""Configuration: where the mappings, profiles and rules that ship with ordermill are."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from ingest.errors import UsageError


def bundled_dir(kind: str, otherwise: str = "") -> Path:
    """What ships with ordermill beside its code (``kind``: mappings, profiles, rules): the
    checkout's top-level folder of that name, installed as the package
    ``ingest.bundled_<kind>`` (pyproject.toml ``package-dir``). Found through the import
    system, so an editable install finds the checkout's folder and a wheel its own copy in
    site-packages. ``otherwise``: how else to name such a folder, for the error."""
    package = f"ingest.bundled_{kind}"
    try:
        found = files(package)
    except ModuleNotFoundError:
        # An install made before the folder was a package (an old editable install, say)
        # has ordermill without it: say how to mend it instead of a traceback.
        raise UsageError(f"the bundled {kind} are not installed (no package {package}): "
                         "reinstall ordermill (`make install` or `pip install .`)"
                         + (f", or {otherwise}" if otherwise else "")) from None
    # A package installed as files is a directory on disk (a pathlib.Path); the loaders
    # glob it, so it must be one.
    return Path(str(found))

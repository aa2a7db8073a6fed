"""Writing, the last stage (validation): pandera's polars API, without its pandas half.

``import pandera`` loads its pandas API (pandas and pandera's pandas engine: about 0.5 s)
whenever pandas is installed, though ordermill uses only ``pandera.polars``. pandas is no
dependency of ordermill, but it is in most analysts' environments (and in ours, for the
benchmark's reference), and every ``ordermill`` call, a cron poll every few minutes
included, would pay for it. So pandas is hidden while pandera loads, the way pandera itself
expects to find it missing, and while pandera decides (once, cached) whether its pandas
check backends exist: in this process pandera works as in a polars-only install. pandas
itself imports normally afterwards. Import pandera's names from here.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType


class _HidePandas(importlib.abc.MetaPathFinder):
    """Hides pandas from the thread that loads pandera (which may be a background thread:
    ``ingest.validate``), not from the others."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if threading.get_ident() == self.thread and (
                fullname == "pandas" or fullname.startswith("pandas.")):
            # pandera tells "not installed" by this exact message
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def _load() -> None:
    if "pandera" in sys.modules or "pandas" in sys.modules:
        return  # loaded already, or pandas is: nothing left to save
    hide = _HidePandas()
    sys.meta_path.insert(0, hide)
    try:
        import pandera.polars  # noqa: F401
        from pandera.backends import register_checks

        # pandera looks for its pandas check backends at the first validation and caches
        # the answer: answer now, while pandas is hidden. (A pandera without this cache
        # only costs the 0.4 s again.)
        find_pandas_backends = getattr(register_checks, "_load_get_backend_types_from_mro",
                                       None)
        if find_pandas_backends is not None:
            find_pandas_backends()
    except ImportError:
        # A pandera that does not take a missing pandas this way: forget what loaded, and
        # load it whole (below), only slower.
        for name in [n for n in sys.modules if n == "pandera" or n.startswith("pandera.")]:
            del sys.modules[name]
    finally:
        sys.meta_path.remove(hide)


_load()

import pandera.polars as pa  # noqa: E402
from pandera.api.polars.types import PolarsData  # noqa: E402

__all__ = ["PolarsData", "pa"]

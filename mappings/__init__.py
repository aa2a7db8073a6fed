"""The bundled channel mappings (the ``*.toml`` files beside this one).

Not code: this file makes the directory the package ``ingest.bundled_mappings`` (see
``package-dir`` in pyproject.toml), so that an installed ordermill, editable or not, finds
the mappings through ``importlib.resources`` (``ingest.config.bundled_mappings_dir``).
"""

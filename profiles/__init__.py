"""The bundled ERP import profiles (the ``*.toml`` files beside this one).

Not code: this file makes the directory the package ``ingest.bundled_profiles`` (see
``package-dir`` in pyproject.toml), so that an installed ordermill, editable or not, finds
the profiles through ``importlib.resources`` (``ingest.writers.profiles``).
"""

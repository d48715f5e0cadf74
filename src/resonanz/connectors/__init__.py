"""Connectors: one folder per platform with ``connector.py`` (I/O), ``parse.py`` (pure) and
``DESCRIPTION.md``. The contract lives in :mod:`resonanz.connectors.base`."""

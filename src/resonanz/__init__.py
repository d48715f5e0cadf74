"""Resonanz: listen, empower, engage."""

__version__ = "0.1.0"

"""Resonanz: listen, empower, engage."""

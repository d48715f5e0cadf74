"""Helpers shared by tests of several areas (local servers, builders)."""

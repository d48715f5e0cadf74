"""Configured sources: connector kind, settings, schedule, cursor, health, and the pull job."""

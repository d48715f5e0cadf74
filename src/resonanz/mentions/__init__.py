"""Normalised mentions, authors, threads, raw payloads and the quarantine of rejected items."""

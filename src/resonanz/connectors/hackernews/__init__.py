"""Hacker News through the Algolia HN Search API: stories and comments (read-only)."""

"""Bluesky (AT Protocol): post search and notifications; replies with reply refs and facets."""

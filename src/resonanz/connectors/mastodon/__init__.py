"""Mastodon: hashtag timelines, status search and mentions; replies and direct messages."""

"""YouTube: comment threads on own and searched videos (Data API v3), replies via comments.insert."""

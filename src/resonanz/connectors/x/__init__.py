"""X (Twitter API v2): recent search and mentions in, replies out."""

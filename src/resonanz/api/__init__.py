"""The HTTP entry point: FastAPI app factory, JSON API, inbound webhooks."""

"""Inbound webhook: other systems POST mentions to ``/hooks/{source}`` (see DESCRIPTION.md)."""

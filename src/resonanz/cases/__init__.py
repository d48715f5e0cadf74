"""The care inbox: cases, routing, SLAs, notes, knowledge, suggestions, policy checks, approvals
and replies."""

"""The append-only audit log: who did what, when, to what, with the before and after."""

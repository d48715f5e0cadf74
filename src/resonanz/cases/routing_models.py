"""Tables of this feature (filled in by its owner; imported by resonanz.db.all_models)."""

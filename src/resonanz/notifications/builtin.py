"""Built-in plugin of this feature: its hook implementations (filled in by its owner)."""

"""Engine, sessions, portable column types and migrations."""

"""The ``resonanz`` command line: thin wrappers over services and actions."""

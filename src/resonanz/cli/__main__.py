"""``python -m resonanz.cli``: the same as the ``resonanz`` command."""

from resonanz.cli.main import main

main()

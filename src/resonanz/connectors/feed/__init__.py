"""RSS and Atom feeds, blog comment feeds included: see ``DESCRIPTION.md``."""

"""The demo workspace: a deterministic, generated data set about a fictional German mobility
company (:mod:`resonanz.demo.world`), rendered as real feed documents and import files
(:mod:`resonanz.demo.render`) and ingested through the real pipeline (:mod:`resonanz.demo.workspace`).

Everything in it is labelled as demo data: source names and author handles start with ``demo-``,
feed titles say "DEMO DATA", article titles start with "[DEMO]", imported records carry
``"demo": true`` in their raw payload, and every URL is on a reserved ``.example`` domain.
"""

from resonanz.demo.generate import DEFAULT_ANCHOR, DEFAULT_SEED, DemoDataset, DemoPost, generate

__all__ = ["DEFAULT_ANCHOR", "DEFAULT_SEED", "DemoDataset", "DemoPost", "generate"]

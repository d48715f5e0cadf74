"""The compiled part of Resonanz: the listening matcher's key finder (``_keyscan.c``).

Everything else is in pyproject.toml. The extension is optional: without a C compiler the install
still succeeds and the matcher uses the pure-Python automaton (pyahocorasick), slower on a stream
but with the same answers (resonanz.listening.query.keyscan).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "resonanz.listening.query._keyscan",
            ["src/resonanz/listening/query/_keyscan.c"],
            extra_compile_args=["-O2", "-std=c11"],
            optional=True,
        )
    ]
)

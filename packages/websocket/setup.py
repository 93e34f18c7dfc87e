"""The optional C accelerator of squall-websocket (everything else is in pyproject.toml).

``squall.websocket._speedups`` (RFC 6455 masking in C) is built against Python 3.11's
limited API, so the wheel is tagged abi3 and serves every Python from 3.11 on. The build is
``optional``: without a C compiler or Python's headers setuptools prints a warning, skips
the module, and the package runs on its pure-Python masking (same results, slower).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "squall.websocket._speedups",
            ["src/squall/websocket/_speedups.c"],
            optional=True,
            py_limited_api=True,
            # No debug info: it embeds the build directory, and the wheel built from the
            # sdist must be byte-for-byte the wheel built from the tree (tools/build_dists.py).
            extra_compile_args=["-g0"],
        )
    ],
    options={"bdist_wheel": {"py_limited_api": "cp311"}},
)

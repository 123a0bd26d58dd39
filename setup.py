"""Packaging hook: with `LOYALTY_COMPILE=1` the rulebook is compiled to C with mypyc.

The rulebook (`loyalty/`) is pure, strictly typed Python, which is what mypyc compiles. A
compiled build replays the bench workload ~1.3x faster with byte-identical outputs
(docs/performance.md). Development installs (`make install`, editable) stay interpreted: a
compiled module beside its source would shadow later edits. The image (Dockerfile) and
`make bench-core` build the compiled form; tests/integration/test_compiled_core.py checks it
gives the same outputs as the interpreted one.

Needs mypy and the project's dependencies importable at build time (the pydantic plugin in
[tool.mypy]), so build without isolation: `LOYALTY_COMPILE=1 pip install --no-build-isolation .`
"""

from __future__ import annotations

import os
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent


def compiled_modules() -> list[str]:
    """Every rulebook module but the programme's: those are pydantic-validated dataclasses,
    and mypyc's native classes have no `__dict__` for pydantic to fill."""
    return sorted(
        str(path.relative_to(HERE))
        for path in (HERE / "loyalty").glob("*.py")
        if not path.name.startswith("program")
    )


ext_modules = []
if os.environ.get("LOYALTY_COMPILE") == "1":
    from mypyc.build import mypycify

    ext_modules = mypycify(compiled_modules(), opt_level="3")

setup(ext_modules=ext_modules)

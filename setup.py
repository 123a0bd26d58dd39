"""Packaging hook: the huge-page arena allocator (`entrypoints/_arena.c`, C, optional) for every
install; with `LOYALTY_COMPILE=1` also the rulebook (and the edge modules every event line
passes through) is compiled to C with mypyc.

The rulebook (`loyalty/`) is pure, strictly typed Python, which is what mypyc compiles. A
compiled build replays the bench workload ~2x faster with byte-identical outputs
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

from setuptools import Extension, setup

HERE = Path(__file__).resolve().parent


# Outside the rulebook, the modules every event line passes through: decoding (the msgspec fast
# path and its conversion to the core's inputs), the replay's loop and its output records, and
# the stream runner's status records. Interpreted, they were ~30% of a compiled replay;
# compiled, a replay of the bench workload's first 30,000 lines runs 8.5% fewer instructions
# (docs/performance.md). Their packages are copied whole beside the rulebook (bench/compiled.py).
EDGE_MODULES = (
    "edge/member_events.py",
    "edge/translate.py",
    "edge/wire_fast.py",
    "entrypoints/progress.py",
    "entrypoints/replay.py",
)


def compiled_modules() -> list[str]:
    """Every rulebook module but the programme's (those are pydantic-validated dataclasses,
    and mypyc's native classes have no `__dict__` for pydantic to fill), and the edge's hot
    modules."""
    rulebook = [
        str(path.relative_to(HERE))
        for path in (HERE / "loyalty").glob("*.py")
        if not path.name.startswith("program")
    ]
    return sorted([*rulebook, *EDGE_MODULES])


# pymalloc's arenas on transparent huge pages (entrypoints/heap.py). Optional: where it cannot
# be built (no C compiler) the engine runs on CPython's own arenas, a little slower.
ext_modules = [
    Extension(
        "entrypoints._arena", ["entrypoints/_arena.c"], optional=True, extra_compile_args=["-O2"]
    )
]
if os.environ.get("LOYALTY_COMPILE") == "1":
    from mypyc.build import mypycify

    rulebook = mypycify(compiled_modules(), opt_level="3")
    for extension in rulebook:
        # Calls between the module's own functions go straight to them, not through the PLT
        # (and may be inlined): nothing interposes on this module's symbols. A compiled
        # replay of the bench file's first 30,000 lines: 1.5% fewer instructions.
        extension.extra_compile_args.append("-fno-semantic-interposition")
        extension.extra_link_args.append("-fno-semantic-interposition")
    ext_modules += rulebook

setup(ext_modules=ext_modules)

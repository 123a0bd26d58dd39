"""The rulebook compiled with mypyc, beside the interpreted source, for measuring and checking.

`setup.py` decides what is compiled (`LOYALTY_COMPILE=1`). Here a copy of the packages holding
compiled modules (`loyalty/`; `edge/` and `entrypoints/` for decoding and the replay, with
`schemas/` they are type-checked against) is built in place under
`.loyalty/compiled/<digest of the sources>/`, so the working tree never holds a compiled module
that would shadow an edit, and a changed source gives a new build. A program run with that
folder first on `sys.path` imports those packages from it (their other modules interpreted,
from the same sources) and everything else from the project as usual.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILDS = ROOT / ".loyalty" / "compiled"
# What a build is made of; any change to these gives a new build folder. (README.md is copied
# too, as the package metadata names it, but does not change what is built.)
INPUTS = ("setup.py", "pyproject.toml")
# The packages copied whole: a package on the path first hides the project's copy of it.
# (`schemas` holds no compiled module: mypyc type-checks the decoding against it.)
PACKAGES = ("loyalty", "edge", "entrypoints", "schemas")


class BuildFailed(RuntimeError):
    pass


def _fingerprint() -> str:
    import mypy.version

    digest = hashlib.sha256()
    digest.update(f"{sys.version} {mypy.version.__version__}".encode())
    sources = [
        path
        for package in PACKAGES
        for pattern in ("*.py", "*.c")  # the C extensions setup.py builds beside the rulebook
        for path in sorted((ROOT / package).glob(pattern))
    ]
    for path in sources + [ROOT / name for name in INPUTS]:
        name = str(path.relative_to(ROOT))
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def compiled_tree(quiet: bool = True) -> Path:
    """The folder holding the compiled `loyalty` package for the current sources, built on
    first use (~30 s on 2 cores)."""
    tree = BUILDS / _fingerprint()
    if (tree / ".built").exists():
        return tree
    BUILDS.mkdir(parents=True, exist_ok=True)
    # One builder per tree: a second process (a test beside a bench) waits for the first
    # instead of deleting its half-built folder.
    with open(BUILDS / f"{tree.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (tree / ".built").exists():
            _build(tree, quiet)
    return tree


def _build(tree: Path, quiet: bool) -> None:
    building = tree.with_name(tree.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, building / package, ignore=shutil.ignore_patterns("__pycache__", "*.so")
        )
    for name in (*INPUTS, "README.md"):
        shutil.copy2(ROOT / name, building / name)
    if not quiet:
        print(f"compiling the rulebook with mypyc into {tree.relative_to(ROOT)} ...", flush=True)
    done = subprocess.run(
        [sys.executable, "setup.py", "build_ext", "--inplace"],
        cwd=building,
        env={**os.environ, "LOYALTY_COMPILE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BuildFailed(f"mypyc build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    shutil.rmtree(building / "build", ignore_errors=True)
    (building / ".built").touch()
    shutil.rmtree(tree, ignore_errors=True)
    building.rename(tree)


def python_code(tree: Path, code: str) -> list[str]:
    """A command running `code` with the compiled rulebook first on the path. (`-m` would put
    the working directory, the interpreted source, first.)"""
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(tree)!r}); {code}"]


def python_with(tree: Path, module: str, *args: str) -> list[str]:
    """A command running `python -m module args` with the compiled rulebook."""
    return python_code(
        tree,
        f"import runpy; sys.argv[1:] = {list(args)!r}; "
        f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)",
    )


def is_compiled() -> bool:
    """Whether the rulebook this process imported is the compiled one."""
    import loyalty.book

    return not str(loyalty.book.__file__).endswith(".py")


if __name__ == "__main__":
    # `python -m bench.compiled`: build (if needed) and print the folder.
    print(compiled_tree(quiet=False))

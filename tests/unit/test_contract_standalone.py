"""`schemas/` is the wire contract partners install on its own: it must import nothing from
the engine. Checked in a fresh interpreter where the engine's packages cannot be imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, importlib.abc, pkgutil, sys

ENGINE = ("loyalty", "streams", "gateway", "edge", "entrypoints")

class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ENGINE:
            raise ImportError(f"schemas imported the engine package {name}")
        return None

sys.meta_path.insert(0, Blocked())
import schemas
names = [m.name for m in pkgutil.walk_packages(schemas.__path__, "schemas.")]
for name in names:
    importlib.import_module(name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ENGINE)
assert not loaded, loaded
print(" ".join(names))
"""


def test_schemas_imports_without_the_engine() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    imported = done.stdout.split()
    assert {"schemas.events", "schemas.status"} <= set(imported)


def test_the_probe_would_catch_an_engine_import(tmp_path: Path) -> None:
    # The same probe over a package that does import the engine must fail.
    package = tmp_path / "schemas"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "leaky.py").write_text("from loyalty import inputs\n")
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert done.returncode != 0
    assert "engine package loyalty" in done.stderr

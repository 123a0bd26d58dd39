"""`__reduce__` for the dataclasses whose `__init__` is written out.

mypyc compiles a written-out `__init__` (a generated one stays interpreted, mypyc/mypyc#817),
which builds the objects made for nearly every input several times faster. But compiled, such
a class is rebuilt by copy and pickle through its `__new__`, which calls that `__init__`
without arguments and fails. Reducing to the constructor with every field, in declaration
order (the written-out signatures take them so, `tests/unit/core/test_written_out.py`), makes
`copy`, `deepcopy` and `pickle` work in both forms.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any


def rebuilt(obj: Any) -> tuple[Any, tuple[Any, ...]]:
    # Fields outside `__init__` are memos it derives again.
    return type(obj), tuple([getattr(obj, f.name) for f in fields(obj) if f.init])

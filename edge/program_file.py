"""Loading a programme definition (YAML) into `loyalty.program.Program`.

pydantic validates straight into the core's frozen dataclasses, so there is one model of a
programme, and every error names its field path and, where the YAML has it, the line.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml
from pydantic import ConfigDict, TypeAdapter, ValidationError

from loyalty import program as program_model
from loyalty import program_status
from loyalty.program import Program
from loyalty.program_errors import FieldError


def _forbid_unknown_keys() -> None:
    # A misspelt key in a programme must be an error, not a silently ignored rule. The core's
    # dataclasses stay free of pydantic; the config is attached to them from here.
    for module in (program_model, program_status):
        for value in vars(module).values():
            if dataclasses.is_dataclass(value) and isinstance(value, type):
                value.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]


_forbid_unknown_keys()
_ADAPTER: TypeAdapter[Program] = TypeAdapter(Program)


class ProgramError(ValueError):
    """The programme file is invalid; the message lists each problem with path and line."""


def load_program(path: Path | str) -> Program:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ProgramError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_program(text, str(path))


def parse_program(text: str, source: str = "<program>") -> Program:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProgramError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ProgramError(f"{source}: a programme is a mapping at the top level")
    lines: dict[tuple[str, ...], int] = {}
    _index_lines(node, (), lines)
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(str(p) for p in err["loc"])
            message = err["msg"]
            error = (err.get("ctx") or {}).get("error")
            if isinstance(error, FieldError):
                # A rule across fields names its own field: point there, not at the section.
                loc, message = (*loc, *error.path.split(".")), error.message
            line = _line_for(loc, lines)
            where = ".".join(loc) or "<root>"
            problems.append(f"  {where}{f' (line {line})' if line else ''}: {message}")
        raise ProgramError(f"{source}: invalid programme\n" + "\n".join(problems)) from None


def _index_lines(node: Any, path: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> None:
    if node is None:
        return
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            lines[child] = key.start_mark.line + 1
            _index_lines(value, child, lines)
            lines[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, (*path, str(index)), lines)


def _line_for(loc: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> int | None:
    for end in range(len(loc), -1, -1):
        # pydantic adds the dataclass/union name to some locations; skip what YAML lacks.
        line = lines.get(loc[:end])
        if line is not None:
            return line
    return None


def program_json_schema() -> dict[str, Any]:
    return _ADAPTER.json_schema()

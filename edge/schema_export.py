"""JSON Schema files for every wire model and the programme file, and the AsyncAPI 3 document
of every topic (`loyalty schemas`)."""

from __future__ import annotations

from pathlib import Path

import orjson

from edge.asyncapi import asyncapi_document
from edge.program_file import program_json_schema
from schemas.events import EXTERNAL_MODELS, INTERNAL_MODELS


def all_json_schemas() -> dict[str, dict[str, object]]:
    schemas: dict[str, dict[str, object]] = {}
    for model in (*EXTERNAL_MODELS, *INTERNAL_MODELS):
        kind = model.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
        schemas[f"event.{kind}.json"] = model.model_json_schema()
    schemas["program.json"] = program_json_schema()
    schemas["asyncapi.json"] = asyncapi_document()
    return schemas


def export_json_schemas(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in sorted(all_json_schemas().items()):
        path = out / name
        path.write_bytes(
            orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
        )
        written.append(path)
    return written

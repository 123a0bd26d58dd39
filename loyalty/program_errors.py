"""Errors in a programme definition that name the field at fault."""

from __future__ import annotations


class FieldError(ValueError):
    """A rule broken by one field of a programme section: `path` is the field's dotted place
    inside the section that raises it, so the loader can name it and point at its line."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message

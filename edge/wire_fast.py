"""The wire decoder's fast path: msgspec structs generated from the pydantic wire models.

pydantic (`schemas/events.py`) is the contract and stays the judge. Validating one event with it
costs ~4 us, more than parsing the JSON; msgspec decodes the same line into a struct in well
under one. The structs here are generated from the models' own fields and constraints at
import, so they cannot drift from the contract, and they are deliberately narrower than it:
what they accept, pydantic accepts with the same values; anything else (every invalid event,
and valid but unusual spellings: a number where the contract takes a decimal string, an
integer written `1.0`, a timestamp in another ISO 8601 form) gets `None` here, and the caller
asks pydantic, which decides and words the rejection. So the verdicts and messages are
pydantic's by construction, and `tests/unit/edge/test_wire_fast.py` checks the accepted side
over generated and mutated events.

How each field type is narrowed:
- decimals are read as JSON strings of plain digits (`12.50`), at most the contract's digits
  and places counted without any normalising (never fewer than pydantic counts), then
  checked against the bounds;
- timestamps are read as strings of one strict RFC 3339 shape and parsed by the standard
  library; they must carry an offset (`AwareDatetime`);
- string patterns are matched whole, all of an event's at once: its values joined by NUL
  under one regular expression (with exactly one NUL between values, so none holds one), as
  msgspec's own per-field check costs more than the rest of its decoding (Python's `$` would
  also have matched before a final newline, the contract's does not); a joined text whose
  canonical form matched before is not matched again (`_Shapes`: the expression is checked,
  when the decoder is built, to be unable to tell apart characters of one form);
- a model validator (PartnerAccrual's "amount or points") runs on the struct as it is.
A model using anything else (another constraint, a field validator, a `before` validator) makes
generation fail at import, so a change to the contract cannot be silently skipped here.
"""

from __future__ import annotations

import enum
import operator
import re
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

import msgspec
from pydantic import AwareDatetime, BaseModel
from pydantic_core import PydanticUndefined

Convert = Callable[[Any], Any]


class _Slow(Exception):
    """The struct's value is outside the narrowed form: pydantic decides."""


# One RFC 3339 shape; `datetime.fromisoformat` then rejects impossible values (month 13,
# hour 24, an offset of a day or more), which pydantic rejects too.
_TIMESTAMP = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"  # date and time
    r"(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})"  # microseconds at most; an offset
)
_SEPARATOR: Final = "\x00"


@dataclass
class _Field:
    """One field of a struct: its msgspec type, the regular shape its string must have (checked
    in Python: msgspec's own pattern check costs ~0.3 us a field, one joined match for all the
    fields ~0.4 us in all), and how its value becomes pydantic's."""

    kind: Any
    shape: str | None = None
    convert: Convert | None = None  # a nested struct's finishing
    decimal: dict[str, Any] | None = None  # a decimal's constraints (`_Decimal`)
    timestamp: bool = False  # a timestamp's text, parsed (`_timestamp`)
    optional: bool = False


_CONSTRAINTS = (
    *("min_length", "max_length", "pattern"),
    *("gt", "ge", "lt", "le", "max_digits", "decimal_places"),
)


def _constraints(metadata: Sequence[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in metadata:
        known = False
        for name in _CONSTRAINTS:
            value = getattr(item, name, None)
            if value is not None:
                found[name] = value
                known = True
        if not known:
            raise TypeError(f"wire_fast: unsupported constraint {item!r}")
    return found


def _meta(constraints: dict[str, Any], names: tuple[str, ...]) -> msgspec.Meta | None:
    chosen = {n: v for n, v in constraints.items() if n in names}
    return msgspec.Meta(**chosen) if chosen else None


def _annotated(kind: Any, meta: msgspec.Meta | None) -> Any:
    return kind if meta is None else Annotated[kind, meta]


def _anchored(pattern: str) -> str:
    """The contract's `^...$` pattern as a fragment to match a whole value."""
    if not (pattern.startswith("^") and pattern.endswith("$")):
        raise TypeError(f"wire_fast: pattern {pattern!r} is not anchored at both ends")
    return f"(?:{pattern[1:-1]})"


def _decimal_shape(constraints: dict[str, Any]) -> str:
    """Plain digits, never more whole digits or places than the contract allows however they
    are counted. Leading zeros (`007`) are left to pydantic, but told by `_Decimal.convert`, not
    here: every digit plays the same part in the shape, so it can be remembered by its
    canonical form (`_Shapes`)."""
    digits, places = constraints.get("max_digits"), constraints.get("decimal_places")
    if digits is not None and places is None:
        raise TypeError("wire_fast: max_digits without decimal_places")
    if digits is not None and places is not None:
        whole = f"[0-9]{{1,{digits - places}}}"
    else:
        whole = "[0-9]+"
    if places is None:
        fraction = r"(?:\.[0-9]+)?"
    else:
        fraction = rf"(?:\.[0-9]{{1,{places}}})?" if places > 0 else ""
    return whole + fraction


class _Decimal:
    """A decimal field's conversion: its text (shape checked) as a `Decimal`, within bounds.
    A class, not a closure: compiled, the finisher calls it natively."""

    def __init__(self, constraints: dict[str, Any], optional: bool) -> None:
        # Bounds as decimals once: a decimal compared with an int converts the int every time.
        self.gt, self.ge = _bound(constraints.get("gt")), _bound(constraints.get("ge"))
        self.lt, self.le = _bound(constraints.get("lt")), _bound(constraints.get("le"))
        self.optional = optional  # absent or null: its default (None, `Decimal(0)`) stays

    def convert(self, value: Any) -> Any:
        if type(value) is not str:
            if self.optional:
                return value
            raise _Slow
        text: str = value
        if len(text) > 1 and text[0] == "0" and text[1] != ".":
            raise _Slow  # a leading zero: pydantic counts the digits
        number = _DECIMAL(text)  # the shape is checked: plain digits
        gt, ge, lt, le = self.gt, self.ge, self.lt, self.le
        if (
            (gt is not None and not number > gt)
            or (ge is not None and not number >= ge)
            or (lt is not None and not number < lt)
            or (le is not None and not number <= le)
        ):
            raise _Slow
        return number


def _bound(value: Any) -> Decimal | None:
    """A contract's bound as a decimal, exactly (an int or a decimal; a float exactly too)."""
    return None if value is None else Decimal(value)


# Bound once: compiled, `datetime.fromisoformat` is a method lookup on the type per call.
_FROM_ISO: Final = datetime.fromisoformat
# Bound as `Final`: any other module-level name is a dict lookup per use, compiled.
_DECIMAL: Final = Decimal


def _timestamp(value: Any) -> datetime:
    try:
        return _FROM_ISO(value)
    except ValueError:
        raise _Slow from None


class _Generator:
    def __init__(self) -> None:
        self.structs: dict[type[BaseModel], tuple[type[msgspec.Struct], _Finish]] = {}

    def field(self, annotation: Any, metadata: Sequence[Any]) -> _Field:
        """How one field is read (see `_Field`)."""
        constraints = _constraints(metadata)
        origin = get_origin(annotation)
        if origin is Annotated:
            inner, *extra = get_args(annotation)
            nested = [m for info in extra for m in getattr(info, "metadata", [info])]
            return self.field(inner, [*metadata, *nested])
        if origin in (Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            if len(options) != 1 or len(get_args(annotation)) != 2:
                raise TypeError(f"wire_fast: unsupported union {annotation!r}")
            inner_field = self.field(options[0], metadata)
            inner_field.kind = inner_field.kind | None
            inner_field.optional = True
            return inner_field
        if origin is dict:
            if set(constraints) - {"max_length", "min_length"}:
                raise TypeError(f"wire_fast: unsupported dict constraints {constraints}")
            key, value = (self._entry(arg) for arg in get_args(annotation))
            meta = _meta(constraints, ("max_length", "min_length"))
            return _Field(_annotated(dict[key, value], meta))  # type: ignore[valid-type]
        if origin is Literal:
            return _Field(annotation)
        if annotation is AwareDatetime:
            return _Field(str, _TIMESTAMP, timestamp=True)
        if annotation is Decimal:
            return _Field(str, _decimal_shape(constraints), decimal=constraints)
        if annotation is str:
            meta = _meta(constraints, ("min_length", "max_length"))
            pattern = constraints.get("pattern")
            return _Field(_annotated(str, meta), None if pattern is None else _anchored(pattern))
        if annotation is int:
            return _Field(_annotated(int, _meta(constraints, ("gt", "ge", "lt", "le"))))
        if constraints:
            raise TypeError(f"wire_fast: constraints {constraints} on {annotation!r}")
        if annotation in (bool, date) or (
            isinstance(annotation, type) and issubclass(annotation, enum.Enum)
        ):
            return _Field(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            struct, finisher = self.struct(annotation)
            return _Field(struct, None, finisher.finish)
        raise TypeError(f"wire_fast: unsupported field type {annotation!r}")

    def _entry(self, annotation: Any) -> Any:
        """A dict's key or value type: msgspec checks its pattern itself (rare: enrolments)."""
        entry = self.field(annotation, [])
        if entry.convert is not None or entry.decimal is not None or entry.timestamp:
            raise TypeError(f"wire_fast: unsupported dict entry {annotation!r}")
        if entry.shape is None:
            return entry.kind
        return Annotated[entry.kind, msgspec.Meta(pattern=rf"\A{entry.shape}\Z")]

    def struct(self, model: type[BaseModel]) -> tuple[type[msgspec.Struct], _Finish]:
        """The struct for `model` (tagged by its `type` literal, if it has one) and what
        finishes a decoded struct into what pydantic would give (raises _Slow)."""
        known = self.structs.get(model)
        if known is not None:
            return known
        decorators = model.__pydantic_decorators__
        if (
            decorators.field_validators
            or decorators.validators
            or decorators.root_validators
            or any(d.info.mode != "after" for d in decorators.model_validators.values())
        ):
            raise TypeError(f"wire_fast: {model.__name__} has validators it cannot follow")
        if model.model_config.get("extra") != "forbid":
            raise TypeError(f"wire_fast: {model.__name__} does not forbid unknown fields")
        tag: str | None = None
        fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
        joined: list[tuple[str, str]] = []  # (name, shape): always a string, matched together
        alone: list[tuple[str, re.Pattern[str]]] = []  # may be None or a default: one by one
        timestamps: list[tuple[str, bool]] = []  # (name, optional)
        decimals: list[tuple[str, _Decimal]] = []
        nested: list[tuple[str, Convert]] = []
        for name, info in model.model_fields.items():
            if info.alias is not None and info.alias != name:
                raise TypeError(f"wire_fast: {model.__name__}.{name} has an alias")
            if name == "type" and get_origin(info.annotation) is Literal:
                (tag,) = get_args(info.annotation)
                continue
            spec = self.field(info.annotation, info.metadata)
            required = info.default is PydanticUndefined and info.default_factory is None
            if info.default_factory is not None:
                factory = typing.cast(Callable[[], Any], info.default_factory)
                fields.append((name, spec.kind, msgspec.field(default_factory=factory)))
            elif required:
                fields.append((name, spec.kind))
            else:
                fields.append((name, spec.kind, info.default))
            if spec.shape is not None:
                if required and not spec.optional:
                    joined.append((name, spec.shape))
                else:
                    alone.append((name, re.compile(spec.shape)))
            # A field that may be absent or null keeps its default (None, `Decimal(0)`).
            optional = spec.optional or not required
            if spec.timestamp:
                timestamps.append((name, optional))
            if spec.decimal is not None:
                decimals.append((name, _Decimal(spec.decimal, optional)))
            if spec.convert is not None:
                convert = _skipping_defaults(spec.convert) if optional else spec.convert
                nested.append((name, convert))
        struct = msgspec.defstruct(
            f"Fast{model.__name__}",
            fields,
            kw_only=True,
            forbid_unknown_fields=True,
            tag_field="type" if tag is not None else None,
            tag=tag,
        )
        finisher = _Finish(
            [name for name, _ in joined],
            [shape for _, shape in joined],
            alone,
            timestamps,
            decimals,
            nested,
            [d.func for d in decorators.model_validators.values()],
        )
        self.structs[model] = (struct, finisher)
        return struct, finisher


def _skipping_defaults(convert: Convert) -> Convert:
    """For a nested struct that may be absent or null: None stays."""
    return lambda value: value if value is None else convert(value)


class _Finish:
    """Finishes a decoded struct into what pydantic would give, or raises _Slow: the strings'
    shapes, then conversions (timestamps, decimals, nested structs), then the model's own
    checks. A class with typed parts, not a closure over them: compiled, its conversions are
    native calls (a closure's were generic ones, ~1,500 instructions each)."""

    def __init__(
        self,
        names: list[str],  # the fields always strings, matched together (`_Shapes`)
        shapes: list[str],
        alone: list[tuple[str, re.Pattern[str]]],  # may be None or a default: one by one
        timestamps: list[tuple[str, bool]],  # (name, optional)
        decimals: list[tuple[str, _Decimal]],
        nested: list[tuple[str, Convert]],
        checks: list[Callable[[Any], Any]],
    ) -> None:
        self.names = names
        self.get: Callable[[Any], Any] | None = (
            operator.attrgetter(*names) if len(names) > 1 else None
        )
        self.shapes = _Shapes(_SEPARATOR.join(shapes))
        self.separators = max(len(names) - 1, 0)
        self.alone = alone
        self.timestamps = timestamps
        self.decimals = decimals
        self.nested = nested
        self.checks = checks

    def finish(self, decoded: Any) -> Any:
        get = self.get
        if get is not None:
            values: str = _SEPARATOR.join(get(decoded))
        elif self.names:
            values = getattr(decoded, self.names[0])
        else:
            values = ""
        # Exactly one separator between values, so no value holds one and every shape
        # matches its own value whole.
        if values.count(_SEPARATOR) != self.separators or not self.shapes.match(values):
            raise _Slow
        for name, shape in self.alone:
            value = getattr(decoded, name)
            if type(value) is str and shape.fullmatch(value) is None:
                raise _Slow
        for name, optional in self.timestamps:
            value = getattr(decoded, name)
            if type(value) is str:
                setattr(decoded, name, _timestamp(value))
            elif not optional:
                raise _Slow
        for name, decimal in self.decimals:
            setattr(decoded, name, decimal.convert(getattr(decoded, name)))
        for name, convert in self.nested:
            setattr(decoded, name, convert(getattr(decoded, name)))
        for check in self.checks:
            try:
                check(decoded)
            except ValueError:
                raise _Slow from None
        return decoded


# Canonical forms of ASCII text for `_Shapes`: every digit is "0", every lowercase letter "a",
# every capital but T and Z (timestamps spell them) "A"; anything else stays itself.
_CANONICAL: Final = bytes.maketrans(
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSUVWXY",
    b"0" * 10 + b"a" * 26 + b"A" * 24,
)
MEMO_LIMIT: Final = 65536


class _Shapes:
    """One regular expression over a struct's joined strings, with a memo of the canonical
    forms (`_CANONICAL`) of texts it matched. When the expression cannot tell apart two
    characters of one canonical class (`invariant`: every character class in it holds all of
    a canonical class or none of it, and every literal character is alone in its class), two
    texts of one form both match or both do not, so a known form is a match without running
    the expression (~70 instructions a character in the regular expression engine, against a
    few for `bytes.translate`). An event's strings mostly share their forms (ids of one
    length, times of one precision): the memo stays small, and it is cleared when full."""

    def __init__(self, pattern: str) -> None:
        self.whole = re.compile(pattern)
        self.memo: set[bytes] | None = set() if invariant(pattern) else None

    def match(self, text: str) -> bool:
        memo = self.memo
        if memo is not None:
            try:
                raw = text.encode()
            except UnicodeEncodeError:  # a lone surrogate: the expression decides
                return self.whole.fullmatch(text) is not None
            if len(raw) == len(text):  # ASCII, one byte a character: it has a form
                form = raw.translate(_CANONICAL)
                if form in memo:
                    return True
                if self.whole.fullmatch(text) is None:
                    return False
                if len(memo) >= MEMO_LIMIT:
                    memo.clear()
                memo.add(form)
                return True
        return self.whole.fullmatch(text) is not None


def _classes() -> list[frozenset[int]]:
    """The ASCII characters grouped by canonical form."""
    groups: dict[int, set[int]] = {}
    for char in range(128):
        groups.setdefault(_CANONICAL[char], set()).add(char)
    return [frozenset(group) for group in groups.values()]


_CLASSES: Final = _classes()
_ALONE: Final = frozenset(next(iter(group)) for group in _CLASSES if len(group) == 1)


def invariant(pattern: str) -> bool:
    """Whether `pattern` matches ASCII texts alike when their canonical forms are equal (see
    `_Shapes`). Anything it cannot tell (a category such as `\\d`, a backreference, a
    lookaround, a flag) counts as not. Remembered per pattern: each decoder asks for every
    model's (parsing them is a share of the import's time)."""
    known = _INVARIANT.get(pattern)
    if known is None:
        known = _INVARIANT[pattern] = _invariant(pattern)
    return known


_INVARIANT: Final[dict[str, bool]] = {}


def _invariant(pattern: str) -> bool:
    try:
        from re import _constants as sre  # type: ignore[attr-defined]
        from re import _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern)
    except Exception:
        return False
    if parsed.state.flags & ~(sre.SRE_FLAG_UNICODE):
        return False
    return _walk(parsed, sre)


def _walk(items: Any, sre: Any) -> bool:
    for op, arg in items:
        if op in (sre.LITERAL, sre.NOT_LITERAL):
            if arg < 128 and arg not in _ALONE:
                return False
        elif op is sre.IN:
            if not _whole_classes(arg, sre):
                return False
        elif op is sre.ANY or op is sre.AT:
            if op is sre.AT and arg not in (
                sre.AT_BEGINNING,
                sre.AT_BEGINNING_STRING,
                sre.AT_END,
                sre.AT_END_STRING,
            ):
                return False
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            if not _walk(arg[2], sre):
                return False
        elif op is sre.SUBPATTERN:
            if arg[1] or arg[2] or not _walk(arg[3], sre):  # no flags inside
                return False
        elif op is sre.ATOMIC_GROUP:
            if not _walk(arg, sre):
                return False
        elif op is sre.BRANCH:
            if not all(_walk(branch, sre) for branch in arg[1]):
                return False
        else:
            return False
    return True


def _whole_classes(items: Any, sre: Any) -> bool:
    """Whether a character set holds every canonical class wholly or not at all."""
    held: set[int] = set()
    for op, arg in items:
        if op is sre.LITERAL:
            held.add(arg)
        elif op is sre.RANGE:
            held.update(range(arg[0], min(arg[1], 127) + 1))
        elif op is not sre.NEGATE:  # a negated set holds the complement: whole just the same
            return False
    ascii_held = {char for char in held if char < 128}
    return all(group <= ascii_held or not group & ascii_held for group in _CLASSES)


class FastDecoder:
    """Decodes one JSON event into a struct that reads like the pydantic model (same field
    names and values), or None: then pydantic must decide."""

    def __init__(self, models: Sequence[type[BaseModel]]) -> None:
        generator = _Generator()
        self._finish: dict[type, tuple[type[BaseModel], _Finish]] = {}
        structs = []
        for model in models:
            struct, finisher = generator.struct(model)
            structs.append(struct)
            self._finish[struct] = (model, finisher)
        self._decoder = msgspec.json.Decoder(Union[tuple(structs)])  # noqa: UP007

    def decode(self, raw: bytes | str) -> tuple[type[BaseModel], Any] | None:
        """(the model the event is, the finished struct), or None."""
        try:
            decoded = self._decoder.decode(raw)
        except msgspec.MsgspecError:
            return None
        model, finisher = self._finish[type(decoded)]
        try:
            return model, finisher.finish(decoded)
        except _Slow:
            return None

"""Strict YAML -> frozen dataclass conversion, shared by recipes and training configs.

Unknown keys fail with a did-you-mean hint, values are checked against the type hints (Optional,
Literal, nested dataclasses, tuples, int/float/str/bool), and every message names the key path, so
a typo never silently falls back to a default. Callers pass their own error class.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from typing import Any, Literal


def check_keys(cls, data: dict, where: str, error: type[Exception]) -> None:
    """Raise ``error`` naming the first key of ``data`` that ``cls`` has no field for."""
    known = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known keys: {', '.join(sorted(known))}"
            raise error(f"{where + ': ' if where else ''}unknown key {key!r}{hint}")


def build(cls, data: Any, where: str, error: type[Exception]):
    """``cls(**data)`` with every value coerced to its field's type; ``where`` prefixes messages."""
    if not isinstance(data, dict):
        raise error(f"{where or 'config'}: expected a mapping, got {data!r}")
    check_keys(cls, data, where, error)
    hints = typing.get_type_hints(cls)
    kwargs = {key: coerce(hints[key], value, f"{where}.{key}" if where else str(key), error) for key, value in data.items()}
    try:
        return cls(**kwargs)
    except error as err:
        raise error(f"{where + ': ' if where else ''}{err}") from None


def coerce(hint, value, path: str, error: type[Exception]):
    """``value`` checked (and, for numbers, converted) against the type hint ``hint``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return coerce(inner, value, path, error)
    if dataclasses.is_dataclass(hint):
        return build(hint, value, path, error)
    if origin is Literal:
        if value not in args:
            raise error(f"{path}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if origin is tuple:
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise error(f"{path}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce(args[0], v, f"{path}[{i}]", error) for i, v in enumerate(value))
        if len(value) != len(args):
            raise error(f"{path}: expected {len(args)} values, got {len(value)}")
        return tuple(coerce(a, v, f"{path}[{i}]", error) for i, (a, v) in enumerate(zip(args, value)))
    if hint is float:
        if isinstance(value, str):  # YAML 1.1 reads `1e-5` (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise error(f"{path}: expected a number, got {value!r}")
        return float(value)
    if hint in (int, str, bool):
        if type(value) is not hint:
            expected = {int: "an integer", str: "a string", bool: "true or false"}[hint]
            raise error(f"{path}: expected {expected}, got {value!r}")
        return value
    if hint is Any:
        return value
    raise TypeError(f"{path}: unsupported config type {hint!r}")  # a bug in a config dataclass

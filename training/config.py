"""Training configs: a bundled YAML holds every default, a user YAML overrides any subset of it.

The bundled file is the single source of defaults (the dataclasses have none), so the YAML a user
copies is always complete and documented. Unknown keys and wrong types are refused with the file and
key named (a typo like ``learning_rat`` must not silently train with the default), in the style of
``eax_data.recipe``.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Optional, TypeVar

from eax_data.training.errors import TrainingConfigError

C = TypeVar("C")


def bundled_config_path(name: str):
    """The packaged ``configs/<name>`` (a Traversable; ``str()`` gives its path)."""
    return resources.files("eax_data.training").joinpath("configs", name)


def load_config(cls: type[C], bundled: str, path: Optional[str | Path] = None, **overrides) -> C:
    """``cls`` from the bundled YAML ``bundled``, updated by the YAML at ``path`` and then ``overrides``."""
    data = _read_yaml(bundled_config_path(bundled).read_text(encoding="utf-8"), f"<bundled {bundled}>")
    source = f"<bundled {bundled}>"
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise TrainingConfigError(f"{path}: config file not found")
        user = _read_yaml(path.read_text(encoding="utf-8"), str(path))
        _check_keys(cls, user, str(path))
        data.update(user)
        source = str(path)
    if overrides:
        _check_keys(cls, overrides, "overrides")
        data.update(overrides)
    return config_from_dict(cls, data, source)


def config_from_dict(cls: type[C], data: dict, source: str = "<config>") -> C:
    """Build and validate ``cls`` from a complete mapping; every field must be given."""
    _check_keys(cls, data, source)
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    missing = [name for name in names if name not in data]
    if missing:
        raise TrainingConfigError(f"{source}: missing key(s): {', '.join(missing)}")
    values = {name: _coerce(hints[name], data[name], f"{source}: {name}") for name in names}
    try:
        return cls(**values)
    except TrainingConfigError as err:
        raise TrainingConfigError(f"{source}: {err}") from None


def replace_config(config: C, **changes) -> C:
    """A copy of ``config`` with ``changes``, validated like a loaded one."""
    _check_keys(type(config), changes, "overrides")
    return config_from_dict(type(config), {**dataclasses.asdict(config), **changes}, "overrides")


def _read_yaml(text: str, source: str) -> dict:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise TrainingConfigError(f"{source}: not valid YAML: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TrainingConfigError(f"{source}: a training config is a mapping of keys, got {type(data).__name__}")
    return data


def _check_keys(cls, data: dict, source: str) -> None:
    known = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TrainingConfigError(f"{source}: unknown key {key!r}{hint}; known keys: {', '.join(known)}")


def _coerce(hint, value: Any, path: str):
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _coerce(inner, value, path)
    if origin is Literal:
        if value not in args:
            raise TrainingConfigError(f"{path}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise TrainingConfigError(f"{path}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TrainingConfigError(f"{path}: expected an integer, got {value!r}")
        return value
    if hint is float:
        # YAML 1.1 reads `1e-5` (no dot) as a string; accept it rather than surprise the user.
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TrainingConfigError(f"{path}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise TrainingConfigError(f"{path}: expected a string, got {value!r}")
        return value
    raise TypeError(f"{path}: unsupported config type {hint!r}")  # a bug in a config dataclass

"""Training configs: a bundled YAML holds every default, a user YAML overrides any subset of it.

The bundled file is the single source of defaults (the dataclasses have none), so the YAML a user
copies is always complete and documented. Unknown keys and wrong types are refused with the file and
key named (a typo like ``learning_rat`` must not silently train with the default), in the style of
``eax_data.recipe``.
"""

from __future__ import annotations

import dataclasses
import typing
from importlib import resources
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Literal, Optional, TypeVar

from eax_data import typed_config
from eax_data.training.errors import TrainingConfigError

C = TypeVar("C")


@dataclass(frozen=True)
class TrainerConfig:
    """Fields and checks every trainer's config shares (reward model, DPO, CPO, SFT); a subclass adds its
    own fields after these, and each trainer's YAML holds their defaults and reasons."""

    learning_rate: float
    num_train_epochs: float
    max_steps: int
    per_device_train_batch_size: int
    per_device_eval_batch_size: int
    gradient_accumulation_steps: int
    max_length: Optional[int]
    warmup_ratio: float
    lr_scheduler_type: Literal["linear", "cosine", "constant", "constant_with_warmup"]
    weight_decay: float
    max_grad_norm: float
    seed: int
    eval_fraction: float
    eval_steps: Optional[int]
    logging_steps: int
    save_steps: int
    gradient_checkpointing: bool
    bf16: Optional[bool]

    def __post_init__(self):
        for name in ("per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps",
                     "logging_steps"):
            if getattr(self, name) < 1:
                raise TrainingConfigError(f"{name}: must be >= 1, got {getattr(self, name)}")
        for name in ("max_length", "eval_steps"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise TrainingConfigError(f"{name}: must be >= 1 or null, got {getattr(self, name)}")
        if self.learning_rate <= 0:
            raise TrainingConfigError(f"learning_rate: must be > 0, got {self.learning_rate}")
        if self.max_steps == 0 or self.max_steps < -1:
            raise TrainingConfigError(f"max_steps: must be -1 (use num_train_epochs) or > 0, got {self.max_steps}")
        if self.max_steps == -1 and self.num_train_epochs <= 0:
            raise TrainingConfigError(f"num_train_epochs: must be > 0, got {self.num_train_epochs}")
        if not 0 <= self.warmup_ratio < 1:
            raise TrainingConfigError(f"warmup_ratio: must be in [0, 1), got {self.warmup_ratio}")
        if not 0 <= self.eval_fraction < 1:
            raise TrainingConfigError(f"eval_fraction: must be in [0, 1), got {self.eval_fraction}")
        if self.save_steps < 0:
            raise TrainingConfigError(f"save_steps: must be >= 0, got {self.save_steps}")


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
    typed_config.check_keys(cls, data, source, TrainingConfigError)


def _coerce(hint, value: Any, path: str):
    return typed_config.coerce(hint, value, path, TrainingConfigError)

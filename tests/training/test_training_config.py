"""Reward-model config: bundled defaults, partial user YAML, strict keys and types."""

from __future__ import annotations

import dataclasses

import pytest

from eax_data.training.config import replace_config
from eax_data.training.errors import TrainingConfigError
from eax_data.training.reward_model import RewardModelConfig, load_reward_model_config


def test_bundled_defaults():
    config = load_reward_model_config()
    assert (config.learning_rate, config.num_train_epochs, config.per_device_train_batch_size) == (1e-5, 1.0, 8)
    assert (config.max_length, config.warmup_ratio, config.lr_scheduler_type) == (512, 0.1, "cosine")
    assert config.bf16 is None and config.report_to == "none" and config.eval_fraction == 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 1


def test_user_yaml_overrides_a_subset(tmp_path):
    path = tmp_path / "rm.yaml"
    path.write_text("learning_rate: 2e-5\nmax_length: null\nbf16: false\n")  # YAML 1.1 reads 2e-5 as a string
    config = load_reward_model_config(path, max_steps=3)
    assert (config.learning_rate, config.max_length, config.bf16, config.max_steps) == (2e-5, None, False, 3)
    assert config.per_device_train_batch_size == 8  # untouched keys keep the bundled value
    assert replace_config(config, seed=7).seed == 7


def test_unknown_key_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "rm.yaml"
    path.write_text("learning_rat: 1.0e-5\n")
    with pytest.raises(TrainingConfigError, match=r"rm.yaml: unknown key 'learning_rat' \(did you mean 'learning_rate'\?\)"):
        load_reward_model_config(path)
    with pytest.raises(TrainingConfigError, match="unknown key 'epochs'"):
        load_reward_model_config(None, epochs=2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("per_device_train_batch_size: 2.5\n", "per_device_train_batch_size: expected an integer"),
        ("gradient_checkpointing: 1\n", "gradient_checkpointing: expected true or false"),
        ("lr_scheduler_type: cosine_decay\n", "lr_scheduler_type: 'cosine_decay' is not one of"),
        ("learning_rate: fast\n", "learning_rate: expected a number"),
        ("warmup_ratio: 1.5\n", r"warmup_ratio: must be in \[0, 1\)"),
        ("max_steps: 0\n", "max_steps: must be -1"),
        ("- a list\n", "a training config is a mapping"),
        ("learning_rate: [1\n", "not valid YAML"),
    ],
)
def test_bad_values_are_refused(tmp_path, text, message):
    path = tmp_path / "rm.yaml"
    path.write_text(text)
    with pytest.raises(TrainingConfigError, match=message):
        load_reward_model_config(path)


def test_missing_file_and_incomplete_mapping(tmp_path):
    from eax_data.training.config import config_from_dict

    with pytest.raises(TrainingConfigError, match="config file not found"):
        load_reward_model_config(tmp_path / "nope.yaml")
    with pytest.raises(TrainingConfigError, match="missing key"):
        config_from_dict(RewardModelConfig, {"seed": 1})

"""train_cpo / `train cpo` on a tiny random Llama (CPU): ALMA-R's objective, no reference model, an honest card."""

from __future__ import annotations

import argparse
import json
import math
import re

import pytest

from eax_data.training import commands
from eax_data.training.cpo import CPOTrainingConfig, load_cpo_config, train_cpo
from eax_data.training.errors import TrainingConfigError


def _tiny(**changes) -> CPOTrainingConfig:
    return load_cpo_config(None, per_device_train_batch_size=2, per_device_eval_batch_size=2,
                           gradient_checkpointing=False, logging_steps=1, **changes)


@pytest.fixture
def trainers(spy_train):
    """The CPOTrainers whose train() ran, kept to assert on their arguments."""
    from trl.experimental.cpo import CPOTrainer

    return spy_train(CPOTrainer)


def test_bundled_defaults_are_alma_rs_objective():
    config = load_cpo_config()
    assert (config.beta, config.cpo_alpha, config.loss_type) == (0.1, 1.0, "sigmoid")
    assert (config.learning_rate, config.lr_scheduler_type, config.warmup_ratio) == (2e-7, "cosine", 0.1)
    assert config.lora is None
    with pytest.raises(TrainingConfigError, match="cpo_alpha: must be >= 0"):
        load_cpo_config(None, cpo_alpha=-1.0)
    with pytest.raises(TrainingConfigError, match="loss_type: 'dpo' is not one of"):
        load_cpo_config(None, loss_type="dpo")


def test_two_steps_with_a_held_out_split(pair_folder, tiny_model_dir, tmp_path, trainers):
    import torch
    from transformers import AutoModelForCausalLM

    out = tmp_path / "cpo"
    assert train_cpo(pair_folder, tiny_model_dir, out, config=_tiny(max_steps=2, eval_fraction=0.25)) == str(out)

    (trainer,) = trainers
    args = trainer.args
    assert (args.beta, args.cpo_alpha, args.loss_type) == (0.1, 1.0, "sigmoid")
    assert (args.learning_rate, args.bf16) == (2e-7, False)
    assert len(trainer.train_dataset) == 9 and len(trainer.eval_dataset) == 3  # 12 pairs, 25% held out
    # loss = -log sigmoid(margin) + cpo_alpha x NLL: the logged terms add up (one batch of similar pairs).
    first = next(e for e in trainer.state.log_history if "loss" in e)
    preference = math.log1p(math.exp(-first["rewards/margins"]))
    assert first["loss"] == pytest.approx(preference + 1.0 * first["nll_loss"], abs=0.02), first

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir).state_dict()
    trained = AutoModelForCausalLM.from_pretrained(out).state_dict()
    assert any(not torch.equal(base[k], trained[k]) for k in base)
    assert json.loads((out / "training_args.json").read_text())["cpo_alpha"] == 1.0

    card = (out / "README.md").read_text()
    assert f"local build folder `{pair_folder.resolve()}`" in card and "Content hash of the parquet files" in card
    assert "| reference model | none (CPO is reference-free) |" in card and "| cpo_alpha | 1 |" in card
    assert "| train | 9 |" in card and "| eval | 3 |" in card
    final = card.split("Last logged training step (2):")[1]
    for metric in ("nll_loss", "rewards/accuracies", "rewards/margins", "eval_rewards/accuracies"):
        assert re.search(rf"\| {re.escape(metric)} \| -?[\d.e-]+ \|", final), metric


def test_cli(pair_folder, tiny_model_dir, tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="eax_data")
    commands.register(parser.add_subparsers(dest="command", required=True))
    config = tmp_path / "cpo.yaml"
    config.write_text("per_device_train_batch_size: 2\ngradient_checkpointing: false\ncpo_alpha: 0.5\n")
    args = parser.parse_args(["train", "cpo", "--dataset", str(pair_folder), "--model", tiny_model_dir,
                              "--config", str(config), "--directions", "en-de", "--max-steps", "1",
                              "-o", str(tmp_path / "out")])
    assert commands.run(args) == 0
    assert "CPO model:" in capsys.readouterr().out
    card = (tmp_path / "out" / "README.md").read_text()
    assert "Directions: en-de" in card and "| cpo_alpha | 0.5 |" in card and "| max_steps | 1 |" in card
    assert (tmp_path / "out" / "model.safetensors").is_file()

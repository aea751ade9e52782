"""train_dpo / `train dpo` on a tiny random Llama (CPU): the paper's loss reaches trl, the reference
model is the right one, and the card pins the data (folder + hash, or release repo + tag + commit)."""

from __future__ import annotations

import argparse
import json
import math
import re

import pytest

from eax_data.training import commands
from eax_data.training.dpo import DPOTrainingConfig, load_dpo_config, train_dpo
from eax_data.training.errors import TrainingConfigError, TrainingError

FAKE_TOKEN = "hf_thisIsAFakeSecretThatMustNeverBeWritten"
PROMPT = "Translate the following text from English into German:\nEnglish: Good morning.\nGerman:"


def _tiny(**changes) -> DPOTrainingConfig:
    return load_dpo_config(None, per_device_train_batch_size=2, gradient_checkpointing=False, logging_steps=1,
                           **changes)


@pytest.fixture
def trainers(spy_train):
    """The DPOTrainers whose train() ran, kept to assert on their arguments and reference model."""
    from trl import DPOTrainer

    return spy_train(DPOTrainer)


def _usage(card: str) -> str:
    """The card's Python snippet, generating 4 tokens instead of 256 (a slow CPU would take seconds)."""
    usage = re.search(r"```python\n(.*?)```", card, re.S).group(1)
    assert "max_new_tokens=256" in usage
    return usage.replace("max_new_tokens=256", "max_new_tokens=4")


def _weights(model) -> dict:
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def test_bundled_defaults_are_the_papers():
    config = load_dpo_config()
    assert (config.beta, config.loss_type, config.loss_weights) == (0.4, ("sigmoid", "sft"), (1.0, 2.0))
    assert (config.learning_rate, config.num_train_epochs, config.lr_scheduler_type, config.warmup_ratio) == (
        2e-7, 1.0, "cosine", 0.1)
    assert config.bf16 is None and config.lora is None and config.dtype == "float32"


def test_two_steps_from_a_folder(pair_folder, tiny_model_dir, tmp_path, monkeypatch, trainers):
    import torch
    from transformers import AutoModelForCausalLM

    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    out = tmp_path / "dpo"
    assert train_dpo(pair_folder, tiny_model_dir, out, config=_tiny(max_steps=2)) == str(out)

    (trainer,) = trainers
    args = trainer.args
    assert (args.loss_type, args.loss_weights, args.beta) == (["sigmoid", "sft"], [1.0, 2.0], 0.4)
    assert (args.learning_rate, args.lr_scheduler_type, args.bf16, args.max_steps) == (2e-7, "cosine", False, 2)
    # The reference is a separate, frozen copy of the base weights, not the policy and not a reload by name.
    base = _weights(AutoModelForCausalLM.from_pretrained(tiny_model_dir))
    assert trainer.ref_model is not None and trainer.ref_model is not trainer.model
    assert all(torch.equal(base[k], v) for k, v in _weights(trainer.ref_model).items())
    # Step 1 (warm-up, policy == reference): DPO's term is exactly log 2, so the rest is 2 x the chosen
    # translation's token NLL, about log(vocabulary) for a random model: the NLL weight 2.0 is in the loss.
    first = next(e for e in trainer.state.log_history if "loss" in e)
    assert first["rewards/margins"] == 0.0
    nll = (first["loss"] - math.log(2)) / 2
    assert abs(nll - math.log(trainer.model.config.vocab_size)) < 0.3, first

    trained = _weights(AutoModelForCausalLM.from_pretrained(out))
    assert set(trained) == set(base) and any(not torch.equal(base[k], trained[k]) for k in base)
    saved = json.loads((out / "training_args.json").read_text())
    assert (saved["loss_type"], saved["loss_weights"], saved["beta"]) == (["sigmoid", "sft"], [1.0, 2.0], 0.4)

    card = (out / "README.md").read_text()
    from eax_data.training.datasets import resolve_training_data

    assert f"local build folder `{pair_folder.resolve()}` (not a release)" in card
    assert resolve_training_data(pair_folder)[1]["content_hash"] in card
    assert re.search(r"- trl: \d+\.\d+", card) and "library_name: transformers" in card
    for field in ("beta", "loss_type", "loss_weights", "learning_rate", "warmup_ratio", "lr_scheduler_type", "lora"):
        assert f"| {field} | " in card
    assert '| loss_weights | [1.0, 2.0] |' in card and "| reference model | a frozen second copy" in card
    final = card.split("Last logged training step (2):")[1].split("Whole run")[0]
    for metric in ("loss", "rewards/accuracies", "rewards/margins", "rewards/chosen"):
        assert re.search(rf"\| {re.escape(metric)} \| -?[\d.e-]+ \|", final), metric
    namespace = {"PROMPT": PROMPT}
    exec(_usage(card), namespace)  # the card's snippet runs as written (but for the number of new tokens)
    assert isinstance(namespace["translation"], str)
    for path in out.rglob("*"):
        if path.is_file():
            assert FAKE_TOKEN.encode() not in path.read_bytes(), path


def test_lora_on_a_release(pair_folder, tiny_model_dir, tmp_path, trainers):
    from accelerate.utils import is_peft_model

    from eax_data.release import publish

    store = tmp_path / "store"
    release = publish(pair_folder, "acme/mt-pairs", "1.0.0", store=store)
    out = tmp_path / "dpo-lora"
    train_dpo("acme/mt-pairs@v1.0.0", tiny_model_dir, out, config=_tiny(max_steps=2), store=store,
              directions=["en-fr"], peft={"r": 4})

    (trainer,) = trainers
    assert is_peft_model(trainer.model) and trainer.ref_model is None  # reference = adapter disabled
    assert (out / "adapter_model.safetensors").is_file() and not (out / "model.safetensors").exists()
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert (adapter["r"], adapter["lora_alpha"], adapter["base_model_name_or_path"]) == (4, 32, tiny_model_dir)

    card = (out / "README.md").read_text()
    assert "Dataset: `acme/mt-pairs` (local eax-data store)" in card
    assert "Version tag: `v1.0.0`" in card and f"Commit: `{release.commit}`" in card
    assert "Directions: en-fr" in card and "| loaded | 4 |" in card
    assert "library_name: peft" in card and "the base model with the LoRA adapter disabled" in card
    namespace = {"PROMPT": PROMPT}
    exec(_usage(card), namespace)  # loads base + adapter through peft
    assert isinstance(namespace["translation"], str)


def test_refusals(pair_folder, tiny_model_dir, tmp_path, busy_output):
    with pytest.raises(TrainingConfigError, match=r"loss_weights: 1 weight\(s\) for 2 loss type\(s\)"):
        load_dpo_config(None, loss_weights=[1.0])
    with pytest.raises(TrainingConfigError, match=r"loss_type\[1\]: 'nll' is not one of"):
        load_dpo_config(None, loss_type=["sigmoid", "nll"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("lora: {rank: 8}\n")
    with pytest.raises(TrainingConfigError, match=r"bad.yaml: lora: unknown key 'rank'"):
        load_dpo_config(bad)
    good = tmp_path / "lora.yaml"
    good.write_text("lora: {r: 8, target_modules: [q_proj, v_proj]}\n")
    lora = load_dpo_config(good).lora
    assert (lora.r, lora.alpha, lora.dropout, lora.target_modules) == (8, 32, 0.05, ("q_proj", "v_proj"))
    with pytest.raises(TrainingConfigError, match="peft: expected None, True, False"):
        train_dpo(pair_folder, tiny_model_dir, tmp_path / "o0", config=_tiny(max_steps=1), peft="yes")
    with pytest.raises(TrainingError, match="exists and is not empty"):
        train_dpo(pair_folder, tiny_model_dir, busy_output, config=_tiny(max_steps=1))
    with pytest.raises(TrainingError, match="every training example is longer than max_length=8"):
        train_dpo(pair_folder, tiny_model_dir, tmp_path / "o1", config=_tiny(max_steps=1, max_length=8))


def _run(argv) -> int:
    parser = argparse.ArgumentParser(prog="eax_data")
    commands.register(parser.add_subparsers(dest="command", required=True))
    return commands.run(parser.parse_args(argv))


def test_cli(pair_folder, tiny_model_dir, tmp_path, monkeypatch, capsys):
    config = tmp_path / "dpo.yaml"
    config.write_text("per_device_train_batch_size: 2\ngradient_checkpointing: false\n")
    monkeypatch.chdir(tmp_path)
    assert _run(["train", "dpo", "--dataset", str(pair_folder), "--model", tiny_model_dir, "--config", str(config),
                 "--directions", "en-fr", "--max-steps", "1", "--lora"]) == 0
    assert "DPO model: dpo-rm-data (adapter," in capsys.readouterr().out
    card = (tmp_path / "dpo-rm-data" / "README.md").read_text()
    assert "Directions: en-fr" in card and "| max_steps | 1 |" in card and "| per_device_train_batch_size | 2 |" in card
    assert (tmp_path / "dpo-rm-data" / "adapter_config.json").is_file()
    config.write_text("beta: [0.4]\n")
    assert _run(["train", "dpo", "--dataset", str(pair_folder), "--model", tiny_model_dir, "--config", str(config),
                 "-o", str(tmp_path / "o")]) == 2
    assert "dpo.yaml: beta: expected a number" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()

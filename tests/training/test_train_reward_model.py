"""train_reward_model on a tiny random Llama (CPU): a loadable one-score model and an honest card."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil

import pytest

from eax_data.training.errors import TrainingError
from eax_data.training.reward_model import RewardModelConfig, load_reward_model_config, train_reward_model

FAKE_TOKEN = "hf_thisIsAFakeSecretThatMustNeverBeWritten"


def _tiny(**changes) -> RewardModelConfig:
    return load_reward_model_config(None, per_device_train_batch_size=2, per_device_eval_batch_size=2,
                                    gradient_checkpointing=False, **changes)


def _scores(folder, texts):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    chats = [tokenizer.apply_chat_template([{"role": "user", "content": "Translate into German: hello"},
                                            {"role": "assistant", "content": t}], tokenize=False) for t in texts]
    batch = tokenizer(chats, return_tensors="pt", padding=True)
    with torch.no_grad():
        return model(**batch).logits


def test_train_two_steps_from_a_folder(pair_folder, tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    out = tmp_path / "rm"
    config = _tiny(max_steps=2)
    assert train_reward_model(pair_folder, tiny_model_dir, out, config=config) == str(out)

    logits = _scores(out, ["Hallo", "Guten Tag, wie geht es?", "xx"])
    assert logits.shape == (3, 1)  # one score per input
    assert (out / "tokenizer_config.json").is_file()

    args = json.loads((out / "training_args.json").read_text())
    assert (args["learning_rate"], args["max_steps"], args["bf16"], args["seed"]) == (1e-5, 2, False, 42)

    card = (out / "README.md").read_text()
    assert str(pair_folder.resolve()) in card and "not a release" in card
    from eax_data.training.datasets import resolve_training_data

    assert resolve_training_data(pair_folder)[1]["content_hash"] in card
    for name in ("trl", "transformers", "torch"):
        assert re.search(rf"- {name}: \d+\.\d+", card)
    assert f"Base model: `{tiny_model_dir}`" in card and "base_model:" not in card  # a local path is no Hub id
    for field in dataclasses.fields(RewardModelConfig):
        assert f"| {field.name} | " in card
    assert "| loaded | 12 |" in card and "| train, used (within max_length) | 12 |" in card
    assert "| optimizer steps | 2 |" in card
    final = re.search(r"Last logged training step \(2\):.*?\| loss \| ([\d.e-]+) \|.*?\| accuracy \| ([\d.e-]+) \|", card, re.S)
    assert final, card  # the last step is logged although logging_steps is 10
    assert 0.0 <= float(final.group(2)) <= 1.0 and float(final.group(1)) > 0
    usage = re.search(r"```python\n(.*?)```", card, re.S).group(1)  # the card's snippet runs as written
    namespace = {"PROMPT": "Translate the following text from English into German.\nEnglish: hi\nGerman:",
                 "TRANSLATION": "Hallo"}
    exec(usage, namespace)
    assert isinstance(namespace["score"], float)
    for path in out.rglob("*"):
        if path.is_file():
            assert FAKE_TOKEN.encode() not in path.read_bytes(), path


def test_train_on_a_release_with_eval(pair_folder, tiny_model_dir, tmp_path):
    from eax_data.release import publish

    store = tmp_path / "store"
    release = publish(pair_folder, "acme/rm-data", "1.2.0", store=store)
    out = train_reward_model("acme/rm-data@v1.2.0", tiny_model_dir, tmp_path / "rm", store=store,
                             config=_tiny(max_steps=1, eval_fraction=0.25), directions=["en-de"])
    card = (tmp_path / "rm" / "README.md").read_text()
    assert "Dataset: `acme/rm-data` (local eax-data store)" in card
    assert "Version tag: `v1.2.0`" in card and f"Commit: `{release.commit}`" in card
    assert "Directions: en-de" in card and "| train | 6 |" in card and "| eval | 2 |" in card
    assert re.search(r"\| eval_accuracy \| [\d.]+ \|", card)
    assert _scores(out, ["Hallo"]).shape == (1, 1)


def test_refusals_before_any_training(pair_folder, tiny_model_dir, tmp_path, busy_output):
    with pytest.raises(TrainingError, match="exists and is not empty"):
        train_reward_model(pair_folder, tiny_model_dir, busy_output, config=_tiny(max_steps=1))
    with pytest.raises(TrainingError, match="cannot load a model and tokenizer"):
        train_reward_model(pair_folder, str(tmp_path / "no-model"), tmp_path / "o1", config=_tiny(max_steps=1))
    with pytest.raises(TrainingError, match="every training pair is longer than max_length=4"):
        train_reward_model(pair_folder, tiny_model_dir, tmp_path / "o2", config=_tiny(max_steps=1, max_length=4))
    with pytest.raises(TrainingError, match="leaves no training pairs"):
        train_reward_model(pair_folder, tiny_model_dir, tmp_path / "o3", config=_tiny(eval_fraction=0.99))


def test_missing_pad_token_falls_back_to_eos(tiny_model_dir, tmp_path):
    from transformers import AutoTokenizer

    from eax_data.training.reward_model import _load_model

    folder = shutil.copytree(tiny_model_dir, tmp_path / "no-pad")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.pad_token = None
    tokenizer.save_pretrained(folder)
    assert AutoTokenizer.from_pretrained(folder).pad_token is None
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "pad_token_id": None}))
    tokenizer, model, _ = _load_model(str(folder))
    assert tokenizer.pad_token == tokenizer.eos_token
    assert model.config.pad_token_id == tokenizer.eos_token_id and model.config.num_labels == 1

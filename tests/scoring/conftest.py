"""Scoring fixtures: a tiny real reward model (one-label sequence classifier) built from ``tiny_model_dir``."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_reward_model_dir(tiny_model_dir, tmp_path_factory) -> str:
    """A saved one-label ``AutoModelForSequenceClassification`` (random Llama, SmolLM2 tokenizer + chat template).

    Loads as a reward model for scoring and as a starting point for trl ``RewardTrainer`` tests.
    The score head is seeded, so every session builds the same weights.
    """
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    if tokenizer.pad_token is None:  # as trl does: pad with EOS when the tokenizer has no pad token
        tokenizer.pad_token = tokenizer.eos_token
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=1, dtype=torch.float32)
    model.config.pad_token_id = tokenizer.pad_token_id  # the head finds each row's last non-pad token by it
    out = tmp_path_factory.mktemp("tiny-reward-model")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)

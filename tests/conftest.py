"""Shared fixtures: a tiny real Llama model (random weights, SmolLM2's tokenizer) saved locally."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> str:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from eax_data.generation.model_files import resolve_model

    folder, gguf_file, _ = resolve_model("smollm2-135m", None)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    out = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)


@pytest.fixture(autouse=True, scope="session")
def _private_score_cache(tmp_path_factory):
    """The test session's own score cache, never the user's (~/.cache/eax-data). Tests that count
    scorer calls give their recipe a cache folder of their own."""
    import os

    previous = os.environ.get("EAX_DATA_CACHE")
    os.environ["EAX_DATA_CACHE"] = str(tmp_path_factory.mktemp("score-cache"))
    yield
    if previous is None:
        os.environ.pop("EAX_DATA_CACHE", None)
    else:
        os.environ["EAX_DATA_CACHE"] = previous


@pytest.fixture
def log():
    """Messages logged at WARNING and above (loguru) while the test runs."""
    from loguru import logger

    messages = []
    handler = logger.add(lambda message: messages.append(message.record["message"]), level="WARNING")
    yield messages
    logger.remove(handler)

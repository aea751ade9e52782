"""Greedy decoding: the paper's prompt, one decode per distinct prompt, the paper's output cleaning."""

from __future__ import annotations

import pytest

from eax_data.generation.base import Completion, GenerationBackend
from eax_data.training.evaluation import EvaluationError
from eax_data.training.evaluation import decode


class RecordingBackend(GenerationBackend):
    """Answers "<n>: line one\\nline two</s>tail" per prompt and records every call."""

    def __init__(self):
        self.calls = []

    @property
    def id(self) -> str:
        return "recording@folder:abc"

    def generate(self, messages, sampling, seeds):
        self.calls.append((list(messages), sampling, list(seeds)))
        return [[Completion(f"{len(m)}: line one\n line two </s>tail", "stop")] for m in messages]


def test_eval_prompt_is_the_papers_direct_template():
    assert decode.eval_prompt("de", "zh", "Guten Morgen.") == (
        "Translate the following text from German into Chinese:\nGerman: Guten Morgen.\nChinese:")


def test_translate_is_greedy_decodes_each_prompt_once_and_cleans_output():
    backend = RecordingBackend()
    prompts = ["a", "bb", "a", "ccc", "bb"]
    saved = []
    done = decode.translate(backend, prompts, max_new_tokens=7, chunk_size=2, on_chunk=saved.append)
    assert [call[0] for call in backend.calls] == [["a", "bb"], ["ccc"]]  # distinct prompts, in chunks of 2
    sampling = backend.calls[0][1]
    assert (sampling.n, sampling.temperature, sampling.max_new_tokens) == (1, 0.0, 7)
    assert done == {"a": ("1: line one; line two", "stop"), "bb": ("2: line one; line two", "stop"), "ccc": ("3: line one; line two", "stop")}
    assert saved == [{"a": done["a"], "bb": done["bb"]}, {"ccc": done["ccc"]}]


def test_fingerprint_follows_weights_and_settings_not_the_folder_path():
    fp = decode.decoder_fingerprint
    assert fp("/a/model@folder:123", 256) == fp("/b/copy@folder:123", 256)
    assert fp("/a/model@folder:123", 256) != fp("/a/model@folder:456", 256) != fp("/a/model@folder:123", 128)
    assert fp("org/model@hub", 256) != fp("org/other@hub", 256)


def test_backend_choice():
    import importlib.util

    assert decode.choose_backend("transformers") == "transformers"
    if importlib.util.find_spec("vllm") is None:
        assert decode.choose_backend("auto") == "transformers"
    with pytest.raises(EvaluationError, match="--backend: 'tgi'"):
        decode.choose_backend("tgi")
    with pytest.raises(EvaluationError, match="--max-new-tokens"):
        decode.translate(RecordingBackend(), ["a"], max_new_tokens=0)

"""The generation seam: one interface, three backends (transformers, vLLM, any OpenAI endpoint).

A backend turns user messages into N sampled completions each. Everything around it - prompts,
chunked checkpoints, seeds, cleaning - lives in ``builders.generate`` and is shared.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass

from eax_data.recipe import GeneratorConfig, SamplingConfig


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str | None  # "stop" (EOS/stop string), "length" (hit max_new_tokens), None if unknown


class GenerationError(RuntimeError):
    """A generator that cannot be loaded or reached; the message names the model or URL."""


class GenerationBackend(ABC):
    @property
    @abstractmethod
    def id(self) -> str:
        """Provenance written into every candidate: model id/path plus revision or file hash."""

    @abstractmethod
    def generate(self, messages: list[str], sampling: SamplingConfig, seeds: list[int]) -> list[list[Completion]]:
        """``sampling.n`` completions per user message; ``seeds[i]`` makes message i reproducible."""

    def close(self) -> None:
        """Release the model or connection."""


def task_seed(base_seed: int, task_id: str) -> int:
    """A per-task seed that does not depend on batch composition or on which worker runs the task."""
    digest = hashlib.blake2b(f"{base_seed}:{task_id}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF


def make_backend(config: GeneratorConfig, chat_template: bool = True) -> GenerationBackend:
    if config.backend == "transformers":
        from eax_data.generation.hf_transformers import TransformersBackend

        return TransformersBackend(config, chat_template=chat_template)
    if config.backend == "vllm":
        from eax_data.generation.vllm_backend import VLLMBackend

        return VLLMBackend(config, chat_template=chat_template)
    if config.backend == "endpoint":
        from eax_data.generation.endpoint import EndpointBackend

        return EndpointBackend(config, chat_template=chat_template)
    raise GenerationError(f"unknown generator backend {config.backend!r}")

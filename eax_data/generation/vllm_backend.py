"""vLLM offline engine (GPU extra: ``pip install eax-data[vllm]``).

Uses ``LLM.generate`` with one ``SamplingParams(n=N, seed=...)`` per prompt, so each task's
samples are reproducible whatever the batch around it.
"""

from __future__ import annotations

import os

from eax_data.generation.base import Completion, GenerationBackend, GenerationError
from eax_data.generation.model_files import EMBEDDED_MODELS, fingerprint, resolve_model
from eax_data.recipe import GeneratorConfig, SamplingConfig


class VLLMBackend(GenerationBackend):
    def __init__(self, config: GeneratorConfig, chat_template: bool = True):
        try:
            from vllm import LLM
        except ImportError as err:
            raise GenerationError("generator.backend 'vllm' needs vLLM on a GPU machine: pip install 'eax-data[vllm]'") from err
        self.config = config
        self.chat_template = chat_template
        path, gguf_file, display = resolve_model(config.model, config.gguf_file)
        kwargs = dict(
            tensor_parallel_size=config.tensor_parallel_size,
            gpu_memory_utilization=config.gpu_memory_utilization,
            revision=config.revision,
        )
        if config.dtype != "auto":
            kwargs["dtype"] = config.dtype
        model = path
        if gguf_file:  # vLLM loads a GGUF file directly, with the upstream tokenizer
            model = os.path.join(path, gguf_file)
            upstream = EMBEDDED_MODELS.get(config.model, (None, None, display))[2]
            kwargs["tokenizer"] = upstream
        self.llm = LLM(model=model, **kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        self._id = f"{display}@{fingerprint(path, gguf_file, config.revision)}"

    @property
    def id(self) -> str:
        return self._id

    def generate(self, messages: list[str], sampling: SamplingConfig, seeds: list[int]) -> list[list[Completion]]:
        from vllm import SamplingParams

        prompts = [
            self.tokenizer.apply_chat_template([{"role": "user", "content": m}], tokenize=False, add_generation_prompt=True)
            if self.chat_template and getattr(self.tokenizer, "chat_template", None)
            else m
            for m in messages
        ]
        params = [
            SamplingParams(
                n=sampling.n,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                max_tokens=sampling.max_new_tokens,
                seed=seed,
            )
            for seed in seeds
        ]
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        return [[Completion(o.text, o.finish_reason) for o in out.outputs] for out in outputs]

    def close(self) -> None:
        self.llm = None

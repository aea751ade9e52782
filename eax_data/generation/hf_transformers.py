"""In-process generation with transformers: the embedded default, CPU or GPU.

Why not datatrove's InferenceRunner + ``transformers serve`` on CPU: the server ignores ``n``,
samples greedily unless the model's generation config says otherwise, and ran 3-7x slower than
batched in-process ``generate`` on 2 cores (shared/NOTES.md). Here each prompt is prefilled once and
its KV cache repeated N times, instead of prefilling N copies (3x faster measured on SmolLM2).
"""

from __future__ import annotations

import hashlib

from eax_data.generation.base import Completion, GenerationBackend, GenerationError
from eax_data.generation.model_files import fingerprint, resolve_model
from eax_data.recipe import GeneratorConfig, SamplingConfig


class TransformersBackend(GenerationBackend):
    def __init__(self, config: GeneratorConfig, chat_template: bool = True):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.config = config
        self.chat_template = chat_template
        path, gguf_file, display = resolve_model(config.model, config.gguf_file)
        device = config.device if config.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = {"auto": torch.bfloat16 if device.startswith("cuda") else torch.float32}.get(config.dtype) or getattr(torch, config.dtype)
        extra = {"gguf_file": gguf_file} if gguf_file else {}
        if config.revision:
            extra["revision"] = config.revision
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, **extra)
            self.model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, **extra).to(device).eval()
        except (OSError, ValueError) as err:
            raise GenerationError(f"could not load generator model {config.model!r} from {path}: {err}") from err
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.device = device
        # generate's prefilled-cache argument: transformers lists its accepted names, the current one first
        # (`cache` from about 5.2x, `past_key_values` before: 5.17 rejects `cache`, seen on a GPU machine)
        from transformers.generation import utils as generation_utils

        cache_names = getattr(generation_utils, "ALL_CACHE_NAMES", None) or ["past_key_values"]
        self._cache_argument = "cache" if cache_names[0] == "cache" else "past_key_values"
        self._id = f"{display}@{fingerprint(path, gguf_file, config.revision)}" + (f" ({gguf_file})" if gguf_file else "")

    @property
    def id(self) -> str:
        return self._id

    def _render(self, message: str) -> str:
        if self.chat_template and self.tokenizer.chat_template:
            return self.tokenizer.apply_chat_template(
                [{"role": "user", "content": message}], tokenize=False, add_generation_prompt=True
            )
        return message

    def generate(self, messages: list[str], sampling: SamplingConfig, seeds: list[int]) -> list[list[Completion]]:
        prompts = [self._render(m) for m in messages]
        lengths = [len(self.tokenizer(p, add_special_tokens=False).input_ids) for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: (lengths[i], i))  # less padding, still deterministic
        results: list[list[Completion]] = [[] for _ in prompts]
        size = self.config.batch_size
        for start in range(0, len(order), size):
            batch = order[start : start + size]
            batch_seed = int.from_bytes(hashlib.blake2b(str([seeds[i] for i in batch]).encode(), digest_size=4).digest(), "big")
            for index, completions in zip(batch, self._generate_batch([prompts[i] for i in batch], sampling, batch_seed)):
                results[index] = completions
        return results

    def _generate_batch(self, prompts: list[str], sampling: SamplingConfig, seed: int) -> list[list[Completion]]:
        import torch

        n = sampling.n
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        ids, mask = enc.input_ids, enc.attention_mask
        torch.manual_seed(seed)
        if self.device.startswith("cuda"):
            torch.cuda.manual_seed_all(seed)
        sample = sampling.temperature > 0
        kwargs = dict(
            max_new_tokens=sampling.max_new_tokens,
            do_sample=sample,
            pad_token_id=self.tokenizer.pad_token_id,
        )
        if sample:
            kwargs.update(temperature=sampling.temperature, top_p=sampling.top_p, top_k=0)
        with torch.inference_mode():
            # Prefill all but the last prompt token once, then share that cache across the N samples.
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            # logits_to_keep=1: the prefill's logits are discarded; all positions' logits would cost
            # batch x prompt length x vocabulary floats (1.4 GB for the demo's 48 prompts on SmolLM2).
            prefill = self.model(
                input_ids=ids[:, :-1], attention_mask=mask[:, :-1], position_ids=positions[:, :-1], use_cache=True, logits_to_keep=1
            )
            cache = prefill.past_key_values
            cache.batch_repeat_interleave(n)
            output = self.model.generate(
                input_ids=ids.repeat_interleave(n, 0),
                attention_mask=mask.repeat_interleave(n, 0),
                **{self._cache_argument: cache},
                **kwargs,
            )
        new_tokens = output[:, ids.shape[1] :]
        eos_ids = self.model.generation_config.eos_token_id
        eos_ids = set(eos_ids if isinstance(eos_ids, list) else [eos_ids]) | {self.tokenizer.eos_token_id}
        texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        finished = [any(int(t) in eos_ids for t in row) for row in new_tokens]
        flat = [Completion(text, "stop" if done else "length") for text, done in zip(texts, finished)]
        return [flat[i * n : (i + 1) * n] for i in range(len(prompts))]

    def close(self) -> None:
        self.model = None

"""Greedy translations with the paper's evaluation prompt, through the build's generation backends.

The prompt is ``prompts.DIRECT_TEMPLATE`` (the paper's eval template, also the training prompt), the
model's chat template wraps it, decoding is greedy (``SamplingConfig(n=1, temperature=0)``) and the
output is cleaned as the paper does (``prompts.clean_output``). Identical prompts are decoded once.
Reusing ``make_backend`` keeps one code path for vLLM (GPU) and transformers (CPU or GPU).
"""

from __future__ import annotations

import hashlib
import importlib.util
import time
from collections.abc import Callable

from loguru import logger

from eax_data.prompts import DIRECT_TEMPLATE, clean_output, training_prompt
from eax_data.training.evaluation import EvaluationError

BACKENDS = ("auto", "transformers", "vllm")
STOP = ("</s>",)  # the paper's stop string, as in SamplingConfig
VLLM_CHUNK = 4096  # prompts per vLLM call: progress and resumable hypotheses at this granularity


def eval_prompt(src: str, trg: str, source: str) -> str:
    """The paper's direct x->y evaluation prompt (no English reference)."""
    return training_prompt("direct", src, trg, source, task_id="")


def choose_backend(name: str) -> str:
    """``auto``: vLLM when it is installed and a GPU is visible, transformers otherwise."""
    if name not in BACKENDS:
        raise EvaluationError(f"--backend: {name!r} is not one of {', '.join(BACKENDS)}")
    if name != "auto":
        return name
    if importlib.util.find_spec("vllm") is None:
        return "transformers"
    import torch

    return "vllm" if torch.cuda.is_available() else "transformers"


def load_backend(model: str, backend: str = "auto", batch_size: int = 16, device: str = "auto", dtype: str = "auto",
                 gguf_file: str | None = None, revision: str | None = None):
    """A ``GenerationBackend`` for greedy evaluation (chat template on)."""
    from eax_data.generation.base import make_backend
    from eax_data.recipe import GeneratorConfig

    if batch_size < 1:
        raise EvaluationError("--batch-size: must be >= 1")
    config = GeneratorConfig(backend=choose_backend(backend), model=model, gguf_file=gguf_file, revision=revision,
                             device=device, dtype=dtype, batch_size=batch_size)
    logger.info("loading {} with the {} backend", model, config.backend)
    return make_backend(config, chat_template=True)


def decoder_fingerprint(backend_id: str, max_new_tokens: int) -> str:
    """Names what produced a hypothesis: two runs with the same fingerprint decode identically.

    A local model counts by its weights (the folder or GGUF hash after "@"), not its path, so a moved
    or copied folder still reuses its hypotheses; a Hub model counts by its full id.
    """
    _, _, weights = backend_id.partition("@")
    identity = weights if weights.startswith(("folder:", "sha256:")) else backend_id
    text = f"{identity}|{DIRECT_TEMPLATE}|chat_template|greedy|{max_new_tokens}|{STOP}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def translate(backend, prompts: list[str], max_new_tokens: int = 256, chunk_size: int | None = None,
              on_chunk: Callable[[dict[str, tuple[str, str | None]]], None] | None = None) -> dict[str, tuple[str, str | None]]:
    """Prompt -> (cleaned hypothesis, finish reason) for every distinct prompt, decoded greedily.

    Prompts go to the backend in chunks of ``chunk_size`` (default: 8 batches, 4096 prompts with vLLM) so progress is logged
    and ``on_chunk`` can save finished work before the next chunk starts.
    """
    from eax_data.recipe import SamplingConfig

    if max_new_tokens < 1:
        raise EvaluationError("--max-new-tokens: must be >= 1")
    unique = list(dict.fromkeys(prompts))
    sampling = SamplingConfig(n=1, temperature=0.0, top_p=1.0, max_new_tokens=max_new_tokens, seed=0, stop=STOP)
    config = getattr(backend, "config", None)
    if chunk_size is None:  # vLLM batches continuously: hand it large chunks, or the GPU idles between them
        chunk_size = VLLM_CHUNK if getattr(config, "backend", None) == "vllm" else 8 * getattr(config, "batch_size", 16)
    size = max(1, chunk_size)
    done: dict[str, tuple[str, str | None]] = {}
    started = time.monotonic()
    for start in range(0, len(unique), size):
        chunk = unique[start : start + size]
        outputs = backend.generate(chunk, sampling, [0] * len(chunk))
        fresh = {}
        for prompt, completions in zip(chunk, outputs):
            if len(completions) != 1:
                raise EvaluationError(f"backend {backend.id}: {len(completions)} completions for one greedy prompt")
            fresh[prompt] = (clean_output(completions[0].text, STOP), completions[0].finish_reason)
        done.update(fresh)
        if on_chunk:
            on_chunk(fresh)
        elapsed = time.monotonic() - started
        logger.info("decoded {}/{} prompts ({:.0f}%, {:.1f} prompts/s)", len(done), len(unique),
                    100 * len(done) / len(unique), len(done) / max(elapsed, 1e-9))
    return done

"""GPU check (issue 10.8): the transformers backend on CUDA in bf16, the reward-model scorer's OOM
halving against a real CUDA out-of-memory, and 20 DPO steps on the GPU. Prints the figures and
writes them as JSON.

The models have random weights built from a config (a GPU machine here cannot download or carry a
real checkpoint): speed, memory and the OOM path do not depend on the weights, translation quality
does and is not measured here. Run it on a CUDA machine, from the repository root:

    python benchmarks/gpu_check.py --tokenizer DIR_WITH_SMOLLM2_TOKENIZER --out gpu_check.json

``--size small`` (and ``--device cpu``) runs the same code on tiny shapes, to test the script itself.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

SHAPES = {  # Llama shapes: SmolLM2-135M, and a 1.1B (TinyLlama) shape for the scorer and training
    "135m": dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
                 num_key_value_heads=3),
    "1.1b": dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32,
                 num_key_value_heads=4),
    "tiny": dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                 num_key_value_heads=1),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def make_model(kind: str, shape: str, tokenizer, out: Path, dtype) -> str:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, LlamaForSequenceClassification

    config = LlamaConfig(vocab_size=len(tokenizer), max_position_embeddings=4096, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, num_labels=1, **SHAPES[shape])
    torch.manual_seed(0)
    cls = LlamaForCausalLM if kind == "causal" else LlamaForSequenceClassification
    model = cls(config).to(dtype)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)


def demo_tasks(count: int) -> list[dict]:
    """x->y tasks from the bundled multiway demo corpus, as the build expands them."""
    from importlib import resources

    rows = [json.loads(line) for line in
            resources.files("eax_data").joinpath("demo/multiway.jsonl").read_text(encoding="utf-8").splitlines()]
    langs = ["de", "fr", "es", "zh", "ru"]
    tasks = []
    for row in rows:
        for src in langs:
            for trg in langs:
                if src != trg:
                    tasks.append({"src": src, "trg": trg, "source": row[src], "reference": row["en"]})
    return tasks[:count]


def check_generation(model_dir: str, device: str, args) -> dict:
    import torch

    from eax_data.generation.hf_transformers import TransformersBackend
    from eax_data.prompts import generation_prompt
    from eax_data.recipe import GeneratorConfig, PromptConfig, SamplingConfig

    backend = TransformersBackend(GeneratorConfig(model=model_dir, device=device, dtype="auto",
                                                  batch_size=args.gen_batch))
    param_dtype = str(next(backend.model.parameters()).dtype)
    template = PromptConfig().generation
    tasks = demo_tasks(args.gen_prompts)
    messages = [generation_prompt(template, t["src"], t["trg"], "en", t["source"], t["reference"]) for t in tasks]
    sampling = SamplingConfig(n=4, temperature=1.0, top_p=1.0, max_new_tokens=args.gen_tokens, seed=0)
    backend.generate(messages[: min(8, len(messages))], sampling, list(range(min(8, len(messages)))))  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    results = backend.generate(messages, sampling, list(range(len(messages))))
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    tokens = sum(len(backend.tokenizer(c.text, add_special_tokens=False).input_ids) for r in results for c in r)
    again = backend.generate(messages[:4], sampling, list(range(4)))
    figures = {
        "model": f"Llama {args.gen_shape} shape, random weights",
        "param_dtype": param_dtype,
        "device": backend.device,
        "prompts": len(messages), "n": sampling.n, "max_new_tokens": sampling.max_new_tokens,
        "batch_size": args.gen_batch,
        "candidates": sum(len(r) for r in results),
        "generated_tokens": tokens,
        "seconds": round(seconds, 2),
        "tokens_per_second": round(tokens / seconds, 1),
        "peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if device.startswith("cuda") else None,
        "first_task_same_candidates_in_a_smaller_batch": [c.text for c in again[0]] == [c.text for c in results[0]],
    }
    backend.close()
    del backend
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return figures


def check_oom_halving(model_dir: str, device: str, args) -> dict:
    """Cap this process's CUDA memory so the configured batch cannot fit: the scorer must halve until
    it does, and give the scores an uncapped small-batch run gives."""
    import torch

    from eax_data.scoring.reward_model import RewardModelScorer

    tasks = demo_tasks(args.rm_pairs)
    anchors = [t["reference"] for t in tasks]
    # long candidates: the activations, not the weights, must overflow the cap
    candidates = [(" ".join([t["source"]] * args.rm_repeat))[: 40 * args.rm_repeat * 4] for t in tasks]
    src = ["en"] * len(tasks)
    trg = [t["trg"] for t in tasks]

    sizes: list[int] = []
    original = RewardModelScorer._forward

    def recording(net, batch, pad_id, dev):  # observes the real forward; the OOM is the allocator's own
        sizes.append(len(batch))
        return original(net, batch, pad_id, dev)

    RewardModelScorer._forward = staticmethod(recording)
    try:
        reference_scorer = RewardModelScorer(model_dir, batch_size=8, device=device)
        reference = reference_scorer._score(anchors, candidates, anchor_langs=src, target_langs=trg)
        lengths = [len(s) for s in reference_scorer.tokenize(anchors, candidates, src, trg)]
        sizes.clear()
        capped = RewardModelScorer(model_dir, batch_size=args.rm_batch, device=device)
        capped.loaded()
        fraction = None
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
            total = torch.cuda.get_device_properties(0).total_memory
            cap = torch.cuda.memory_allocated() + args.rm_headroom_gib * 2**30
            fraction = cap / total
            torch.cuda.set_per_process_memory_fraction(fraction)
        start = time.perf_counter()
        scores = capped._score(anchors, candidates, anchor_langs=src, target_langs=trg)
        seconds = time.perf_counter() - start
    finally:
        RewardModelScorer._forward = original
        if device.startswith("cuda"):
            torch.cuda.set_per_process_memory_fraction(1.0)
    diffs = [abs(a - b) for a, b in zip(scores, reference)]
    spread = max(reference) - min(reference)
    return {
        "model": f"Llama {args.rm_shape} shape sequence classifier, random weights",
        "pairs": len(tasks), "tokens_per_pair_mean": round(sum(lengths) / len(lengths), 1),
        "configured_batch": args.rm_batch,
        "memory_cap_gib": round(fraction * torch.cuda.get_device_properties(0).total_memory / 2**30, 2)
        if fraction else None,
        "batch_sizes_tried": sorted(set(sizes), reverse=True),
        "halvings": int(math.log2(args.rm_batch / min(sizes))) if sizes else None,
        "seconds": round(seconds, 2),
        "all_finite": all(math.isfinite(s) for s in scores),
        "max_abs_diff_vs_batch8_uncapped": round(max(diffs), 4),
        "score_spread": round(spread, 4),
    }


def check_dpo(model_dir: str, device: str, args, work: Path) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq
    import torch

    from eax_data.prompts import training_prompt
    from eax_data.schema import PAIR_SCHEMA
    from eax_data.training import preference
    from eax_data.training.dpo import load_dpo_config, train_dpo

    tasks = demo_tasks(args.dpo_steps * args.dpo_batch)
    rows = []
    for i, t in enumerate(tasks):
        rows.append({
            "prompt": [{"role": "user", "content": training_prompt("direct", t["src"], t["trg"], t["source"], str(i))}],
            "chosen": [{"role": "assistant", "content": t["reference"]}],
            "rejected": [{"role": "assistant", "content": t["source"]}],
            "src_lang": t["src"], "trg_lang": t["trg"], "ref_lang": "en", "src_text": t["source"],
            "ref_text": t["reference"], "chosen_score": 1.0, "rejected_score": 0.0, "margin": 1.0,
            "task_id": f"gpu-check-{i}", "source_id": f"demo:{i}", "generator": "gpu-check", "scorer": "gpu-check",
        })
    data = work / "pairs"
    for direction in sorted({f"{r['src_lang']}-{r['trg_lang']}" for r in rows}):
        part = [r for r in rows if f"{r['src_lang']}-{r['trg_lang']}" == direction]
        (data / "data" / direction).mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(part, schema=PAIR_SCHEMA), data / "data" / direction / "train-0.parquet")
    cfg = load_dpo_config(None, max_steps=args.dpo_steps, per_device_train_batch_size=args.dpo_batch,
                          logging_steps=1, gradient_checkpointing=True)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    seen: dict = {}
    save_run = preference.save_run

    def observed_save_run(hf_trainer, /, *a, **k):  # read the trainer's own log history; saving is unchanged
        out = save_run(hf_trainer, *a, **k)
        seen.update(history=list(hf_trainer.state.log_history), step=hf_trainer.state.global_step,
                    device=str(hf_trainer.args.device), bf16=hf_trainer.args.bf16)
        return out

    preference.save_run = observed_save_run
    start = time.perf_counter()
    try:
        out = train_dpo(data, model_dir, work / "dpo-out", config=cfg)
    finally:
        preference.save_run = save_run
    seconds = time.perf_counter() - start
    history = [h for h in seen.get("history", []) if "loss" in h]
    summary = next((h for h in seen.get("history", []) if "train_runtime" in h), {})
    from transformers import AutoModelForCausalLM

    reloaded = AutoModelForCausalLM.from_pretrained(out)
    return {
        "model": f"Llama {args.dpo_shape} shape, random weights (policy + frozen reference, fp32 weights, "
                 "bf16 autocast as the bundled config decides)",
        "steps": seen.get("step"),
        "trainer_device": seen.get("device"),
        "bf16": seen.get("bf16"),
        "pairs_per_step": args.dpo_batch,
        "seconds_total_with_loading": round(seconds, 1),
        "train_runtime_s": summary.get("train_runtime"),
        "train_steps_per_second": summary.get("train_steps_per_second"),
        "loss_first_last": [history[0]["loss"], history[-1]["loss"]] if history else None,
        "logged_steps": len(history),
        "peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if device.startswith("cuda") else None,
        "saved_model_reloads": type(reloaded).__name__,
        "saved_files": sorted(p.name for p in Path(out).iterdir())[:12],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer", required=True, help="folder with the SmolLM2 tokenizer files")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--size", choices=["full", "small"], default="full")
    parser.add_argument("--out", default="gpu_check.json")
    parser.add_argument("--only", nargs="*", default=["generation", "oom", "dpo"])
    args = parser.parse_args(argv)
    full = args.size == "full"
    args.gen_shape, args.gen_prompts, args.gen_tokens, args.gen_batch = ("135m", 256, 256, 64) if full else ("tiny", 8, 8, 4)
    args.rm_shape, args.rm_pairs, args.rm_repeat, args.rm_batch, args.rm_headroom_gib = (
        ("1.1b", 512, 12, 512, 3) if full else ("tiny", 16, 2, 8, 1))
    args.dpo_shape, args.dpo_steps, args.dpo_batch = ("1.1b", 20, 8) if full else ("tiny", 2, 2)

    import torch
    from transformers import AutoTokenizer

    report: dict = {"torch": torch.__version__, "cuda": torch.version.cuda,
                    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                    "device": args.device}
    import transformers

    report["transformers"] = transformers.__version__
    log(f"environment: {report}")
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    work = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    dtype = torch.bfloat16 if args.device.startswith("cuda") else torch.float32
    failures = []
    steps = {
        "generation": lambda: check_generation(make_model("causal", args.gen_shape, tokenizer, work / "gen", dtype),
                                               args.device, args),
        "oom": lambda: check_oom_halving(make_model("classifier", args.rm_shape, tokenizer, work / "rm", dtype),
                                         args.device, args),
        "dpo": lambda: check_dpo(make_model("causal", args.dpo_shape, tokenizer, work / "policy", torch.float32),
                                 args.device, args, work),
    }
    for name in args.only:
        log(f"{name} ...")
        start = time.perf_counter()
        try:
            report[name] = steps[name]()
        except Exception as err:  # report every check, even after one fails
            import traceback

            traceback.print_exc()
            report[name] = {"error": f"{type(err).__name__}: {err}"}
            failures.append(name)
        report[name]["wall_seconds"] = round(time.perf_counter() - start, 1)
        log(f"{name}: {json.dumps(report[name])}")
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

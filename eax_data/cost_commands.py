"""``python -m eax_data estimate build|train``: dry-run cost estimates, printed as a table (and --json).

Only argparse is imported at registration; the recipe, corpus readers and tokenizers load in the
handlers, so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _length_ratio(text: str) -> tuple[str, float]:
    """``LANG=R`` for --length-ratio."""
    lang, sep, value = text.partition("=")
    try:
        if not sep or float(value) <= 0:
            raise ValueError
        return lang.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LANG=RATIO with RATIO > 0 (e.g. zh=1.1), got {text!r}") from None


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(float(text)) if kind is int else kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse


def register(commands) -> argparse.ArgumentParser:
    """Add ``estimate`` with ``build`` and ``train`` to the CLI's ``add_subparsers()`` object."""
    estimate = commands.add_parser("estimate", help="dry-run cost estimate of a build or a training run (nothing runs)")
    kinds = estimate.add_subparsers(dest="estimate", required=True, metavar="WHAT")

    build = kinds.add_parser("build", help="tasks, tokens, hours and cost of building a recipe",
                             description="Count a recipe's tasks and tokens and turn them into hours and cost.")
    build.add_argument("recipe", nargs="?", help="recipe YAML (default: the bundled demo recipe)")
    build.add_argument("--tokens-per-second", type=_positive(float), metavar="N",
                       help="your generator's decode throughput (all samples in flight); default: labelled examples")
    build.add_argument("--prefill-tokens-per-second", type=_positive(float), metavar="N",
                       help="your prompt (prefill) throughput; default: --prefill-ratio x decode")
    build.add_argument("--prefill-ratio", type=_positive(float), metavar="R",
                       help="prefill tokens/s per decode token/s (default 20; typically 10-50)")
    build.add_argument("--gpu-hour-price", type=_positive(float), metavar="USD", help="price of one machine hour")
    build.add_argument("--rows", type=_positive(int), metavar="N",
                       help="corpus rows, instead of reading the corpus (remote corpora; extrapolating)")
    build.add_argument("--avg-source-tokens", type=_positive(float), metavar="N", help="with --rows: tokens per non-English sentence")
    build.add_argument("--avg-anchor-tokens", type=_positive(float), metavar="N",
                       help="with --rows: tokens per English anchor (default: --avg-source-tokens)")
    build.add_argument("--length-ratio", type=_length_ratio, action="append", metavar="LANG=R",
                       help="output tokens per English token for LANG (repeatable); default: counted from the corpus")
    build.add_argument("--tokenizer", default="auto", metavar="auto|heuristic|PATH",
                       help="auto: the generator's tokenizer when it is local, else a chars-per-token heuristic")
    build.add_argument("--limit", type=_positive(int), help="read at most N corpus rows (execution.limit)")
    build.add_argument("--json", metavar="FILE", help="also write the estimate as JSON")
    build.set_defaults(estimate_handler=_estimate_build)

    train = kinds.add_parser("train", help="tokens, FLOPs, hours and cost of preference training",
                             description="FLOPs ~ 6 N T for the policy (+ 2 N T for DPO's reference) over pairs x tokens x epochs.")
    train.add_argument("--pairs", type=_positive(int), required=True, metavar="N")
    train.add_argument("--trainer", default="dpo", choices=("dpo", "cpo", "sft", "reward-model"),
                       help="dpo runs a reference model (default); cpo / reward-model / sft do not; sft trains on one sequence per pair")
    train.add_argument("--model-params", type=_positive(float), metavar="N", help="parameters of the trained model (default 7e9)")
    train.add_argument("--epochs", type=_positive(float), help="default: the config's num_train_epochs, else 1")
    train.add_argument("--tokens-per-pair", type=_positive(float), metavar="N",
                       help="tokens one pair puts through the model (DPO: 2 x prompt + chosen + rejected); see `estimate build`")
    train.add_argument("--prompt-tokens", type=_positive(float), metavar="N", help="with --completion-tokens, instead of --tokens-per-pair")
    train.add_argument("--completion-tokens", type=_positive(float), metavar="N")
    train.add_argument("--config", metavar="YAML", help="training config to read epochs, batch, max_length from (default: the bundled one)")
    train.add_argument("--batch-size", type=_positive(int), metavar="N", help="pairs per device and optimizer step (x accumulation)")
    train.add_argument("--gpus", type=_positive(int), default=1)
    train.add_argument("--tokens-per-second", type=_positive(float), metavar="N", help="measured training tokens/s (fwd+bwd, all GPUs)")
    train.add_argument("--gpu-flops", type=_positive(float), metavar="FLOP/S", help="peak FLOP/s per GPU (default: H100 bf16 989e12, example)")
    train.add_argument("--mfu", type=_positive(float), help="model FLOP utilisation, 0-1 (default 0.4, assumed)")
    train.add_argument("--gpu-hour-price", type=_positive(float), metavar="USD")
    train.add_argument("--json", metavar="FILE", help="also write the estimate as JSON")
    train.set_defaults(estimate_handler=_estimate_train)
    return estimate


def run(args) -> int:
    """Run the chosen estimate; a recipe, corpus or argument problem prints one line and returns 2."""
    from eax_data.builders.readers import CorpusError
    from eax_data.costs import CostError
    from eax_data.recipe import RecipeError

    try:
        return args.estimate_handler(args)
    except (CostError, RecipeError, CorpusError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


# -- handlers -------------------------------------------------------------------------------------


def _estimate_build(args) -> int:
    from eax_data import costs, languages
    from eax_data.recipe import load_recipe

    recipe = load_recipe(args.recipe)
    if args.limit is not None:
        recipe = recipe.replace(**{"execution.limit": args.limit})
    ratios = {}
    for lang, value in args.length_ratio or ():
        try:
            ratios[languages.normalize(lang)] = value
        except languages.UnknownLanguageError as err:
            raise costs.CostError(f"--length-ratio: {err}") from None
    if args.rows is None and (args.avg_source_tokens or args.avg_anchor_tokens):
        raise costs.CostError("--avg-source-tokens / --avg-anchor-tokens go with --rows (otherwise the corpus is read and counted)")
    counter = load_token_counter(recipe, args.tokenizer)
    if args.rows is not None:
        if args.avg_source_tokens is None:
            raise costs.CostError("--rows needs --avg-source-tokens N (tokens per non-English sentence)")
        workload = costs.workload_from_figures(recipe, args.rows, args.avg_source_tokens, args.avg_anchor_tokens or args.avg_source_tokens)
    else:
        workload = costs.scan_corpus(recipe, counter)
    throughputs = costs.EXAMPLE_THROUGHPUTS
    if args.tokens_per_second:
        if args.prefill_tokens_per_second:
            prefill, note = args.prefill_tokens_per_second, "decode and prefill given"
        else:
            ratio = args.prefill_ratio or costs.DEFAULT_PREFILL_RATIO
            prefill = args.tokens_per_second * ratio
            note = f"prefill = decode x {ratio:g} ({'given' if args.prefill_ratio else 'assumed'})"
        prefill_origin = costs.GIVEN if args.prefill_tokens_per_second else costs.DERIVED
        throughputs = (costs.Throughput("your figure", args.tokens_per_second, prefill, costs.GIVEN, note, prefill_origin),)
    elif args.prefill_tokens_per_second or args.prefill_ratio:
        raise costs.CostError("--prefill-tokens-per-second / --prefill-ratio go with --tokens-per-second")
    estimate = costs.estimate_build(recipe, workload, counter, throughputs, args.gpu_hour_price, ratios)
    title = f"Build estimate: recipe {recipe.name!r}, mode {recipe.mode}, {len(recipe.languages)} languages, n={recipe.sampling.n}"
    return _emit(estimate, title, args.json, directions=True)


def _estimate_train(args) -> int:
    from eax_data import costs
    from eax_data.costs import ASSUMED, GIVEN, Sourced

    config, source = training_config_values(args.trainer, args.config)
    from_config = f"from {source}" if source else ""
    if args.epochs is not None:
        epochs = Sourced(args.epochs, GIVEN)
    elif "num_train_epochs" in config:
        epochs = Sourced(float(config["num_train_epochs"]), GIVEN, from_config)
    else:
        epochs = Sourced(1.0, ASSUMED, "default")
    sequences, _ = costs.TRAINERS[args.trainer]
    if args.tokens_per_pair is not None:
        per_pair = Sourced(args.tokens_per_pair, GIVEN)
    elif args.prompt_tokens is not None and args.completion_tokens is not None:
        per_pair = Sourced(sequences * (args.prompt_tokens + args.completion_tokens), costs.DERIVED,
                           f"{sequences} sequence(s) x (prompt + completion), given")
    elif "max_length" in config:
        per_pair = Sourced(sequences * config["max_length"], costs.DERIVED,
                           f"upper bound: {sequences} sequence(s) x max_length {config['max_length']} {from_config}")
    else:
        raise costs.CostError("give --tokens-per-pair N, or --prompt-tokens and --completion-tokens "
                              "(`estimate build` prints the tokens per training pair of a recipe)")
    batch = None
    if args.batch_size is not None or "per_device_train_batch_size" in config:
        size = args.batch_size or config["per_device_train_batch_size"]
        accumulation = config.get("gradient_accumulation_steps", 1)
        where = "given" if args.batch_size is not None else from_config
        batch = Sourced(size * accumulation, GIVEN, f"batch {size} ({where}) x accumulation {accumulation}")
    params = Sourced(args.model_params, GIVEN) if args.model_params else Sourced(7e9, ASSUMED, "default 7B")
    gpu_flops = Sourced(args.gpu_flops, GIVEN) if args.gpu_flops else costs.EXAMPLE_GPU_FLOPS
    mfu = Sourced(args.mfu, GIVEN) if args.mfu else costs.DEFAULT_MFU
    estimate = costs.estimate_train(args.pairs, params, epochs, per_pair, args.trainer, args.gpus, gpu_flops, mfu,
                                    args.tokens_per_second, batch, int(config.get("max_steps", 0) or 0), args.gpu_hour_price)
    return _emit(estimate, f"Training estimate: {args.trainer}, {args.pairs:,} pairs", args.json)


def training_config_values(trainer: str, path: str | None = None) -> tuple[dict, str]:
    """Epochs, batch and max_length from a training YAML (the bundled one for the trainer if any)."""
    from pathlib import Path

    import yaml

    from eax_data import costs

    if path is None:
        from eax_data.training.config import bundled_config_path

        bundled = bundled_config_path(f"{trainer.replace('-', '_')}.yaml")
        if not bundled.is_file():
            return {}, ""
        text, source = bundled.read_text(encoding="utf-8"), f"bundled {trainer.replace('-', '_')}.yaml"
    else:
        if not Path(path).is_file():
            raise costs.CostError(f"{path}: training config not found")
        text, source = Path(path).read_text(encoding="utf-8"), str(path)
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise costs.CostError(f"{source}: not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise costs.CostError(f"{source}: a training config is a mapping of keys")
    keys = ("num_train_epochs", "max_steps", "per_device_train_batch_size", "gradient_accumulation_steps", "max_length")
    values = {k: data[k] for k in keys if data.get(k) is not None}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (value <= 0 and key != "max_steps"):
            raise costs.CostError(f"{source}: {key} must be a positive number, got {value!r}")
    return values, source


def load_token_counter(recipe, choice: str = "auto"):
    """``heuristic``; a tokenizer folder; or ``auto``: the generator's tokenizer if it is local, else heuristic."""
    from eax_data.costs import CostError, TokenCounter

    if choice == "heuristic":
        return TokenCounter()
    from transformers import AutoTokenizer

    if choice != "auto":
        if not os.path.isdir(choice):
            raise CostError(f"--tokenizer {choice}: not a folder (give auto, heuristic, or a local tokenizer folder)")
        try:
            return TokenCounter(AutoTokenizer.from_pretrained(choice, local_files_only=True), f"tokenizer {choice}")
        except (OSError, ValueError) as err:
            raise CostError(f"--tokenizer {choice}: could not load a tokenizer there ({err})") from None
    from eax_data.generation.base import GenerationError
    from eax_data.generation.model_files import resolve_model

    g = recipe.generator
    try:
        path, gguf_file, display = resolve_model(g.model, g.gguf_file)
        extra = {"gguf_file": gguf_file} if gguf_file else {}
        if g.revision:
            extra["revision"] = g.revision
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, **extra)
    except (GenerationError, OSError, ValueError, ImportError) as err:
        reason = str(err).splitlines()[0][:120]
        return TokenCounter(source=f"chars/token heuristic (no local tokenizer for {g.model!r}: {reason})")
    return TokenCounter(tokenizer, f"generator tokenizer {display}")


# -- output ---------------------------------------------------------------------------------------


def format_value(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if abs(value) >= 1e12:
        return f"{value:.3g}"
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def format_table(estimate, title: str, directions: bool = False) -> str:
    """The figures as aligned columns: figure, value, unit, origin, note."""
    rows = [(f.name, format_value(f.value), f.unit, f.origin, f.note) for f in estimate.figures]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [title, ""]
    for name, value, unit, origin, note in rows:
        lines.append(f"  {name:<{widths[0]}}  {value:>{widths[1]}}  {unit:<{widths[2]}}  {origin:<{widths[3]}}  {note}".rstrip())
    if directions and estimate.directions:
        lines += ["", f"  {'direction':<9} {'tasks':>9} {'prompt tok':>12} {'decode tok':>12} {'avg output':>10}"]
        for d in estimate.directions:
            lines.append(f"  {d['direction']:<9} {d['tasks']:>9,.0f} {d['prompt_tokens']:>12,.0f} {d['decode_tokens']:>12,.0f} {d['avg_output_tokens']:>10.1f}")
    lines += ["", "origin: counted = read from corpus/tokenizer; estimated = counted characters / assumed chars per token;",
              "given = an argument or config; assumed = a documented default (eax_data/costs.py); derived = arithmetic;",
              "example = a labelled example throughput, not your hardware."]
    return "\n".join(lines)


def _emit(estimate, title: str, json_path: str | None, directions: bool = False) -> int:
    print(format_table(estimate, title, directions))
    if json_path:
        with open(json_path, "w", encoding="utf-8") as handle:
            json.dump({"title": title, **estimate.to_dict()}, handle, indent=2)
        print(f"\nwritten: {json_path}")
    return 0

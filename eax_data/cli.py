"""``python -m eax_data``: build x2x preference datasets and rebuild their pairs.

Heavy libraries load inside the commands, so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import sys
import time


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eax_data", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="corpus -> tasks -> candidates -> pairs -> dataset folder")
    build.add_argument("recipe", nargs="?", help="recipe YAML (default: the bundled offline demo recipe)")
    build.add_argument("--output", "-o", help="output folder (default: the recipe's `output`)")
    build.add_argument("--workers", type=int, help="parallel generation workers (execution.workers)")
    build.add_argument("--tasks", type=int, help="generation shards (execution.tasks)")
    build.add_argument("--limit", type=int, help="read at most N corpus rows (execution.limit)")

    pairs = commands.add_parser("pairs", help="rebuild data/ from a build's candidates/ with other pair thresholds")
    pairs.add_argument("folder", help="a build's output folder")
    pairs.add_argument("--min-margin", type=float)
    pairs.add_argument("--min-winner-score", type=float)
    pairs.add_argument("--valid-score-range", type=float, nargs=2, metavar=("LOW", "HIGH"))
    pairs.add_argument("--percentile-scaling", action=argparse.BooleanOptionalAction, default=None)
    pairs.add_argument("--max-per-direction", type=int, help="cap per direction (largest margins kept)")
    pairs.add_argument("--min-margin-quantile", type=float, help="keep margins at or above this quantile of their direction (0-1)")
    pairs.add_argument("--direction-temperature", type=float, help="balance directions: quota ~ n^(1/T)")
    pairs.add_argument("--total-pairs", type=int, help="with --direction-temperature: pairs over all directions")

    publish = commands.add_parser("publish", help="release a build folder as ORG/NAME vX.Y.Z (local store, or the Hub with --hub)")
    publish.add_argument("folder")
    publish.add_argument("--repo", required=True, help="ORG/NAME")
    publish.add_argument("--version", required=True, help="X.Y.Z")
    publish.add_argument("--hub", action="store_true", help="publish to the Hugging Face Hub (token: HF_TOKEN or `hf auth login`)")
    publish.add_argument("--private", action="store_true")
    publish.add_argument("--message", help="commit message")
    publish.add_argument("--store", help="local store folder (default: $EAX_DATA_STORE or the user cache)")

    pull = commands.add_parser("pull", help="download a release: ORG/NAME[@vX.Y.Z]")
    pull.add_argument("spec")
    pull.add_argument("--output", "-o")
    pull.add_argument("--hub", action="store_true")
    pull.add_argument("--store")

    proxy = commands.add_parser("validate-proxy", help="check the EAxE choices against the corpus' human x->y translations (multiway corpora)")
    proxy.add_argument("folder")
    proxy.add_argument("--metric", action="append", choices=("chrf", "chrf++", "bleu"), help="repeatable; default chrf")
    proxy.add_argument("--comet", metavar="MODEL", help="also judge with reference-based COMET (needs the COMET environment)")
    proxy.add_argument("--corpus", help="corpus path, if it moved since the build")

    card = commands.add_parser("card", help="re-render a build folder's dataset card (README.md + assets/) from its data")
    card.add_argument("folder")

    from eax_data.training.commands import register as register_train

    register_train(commands)

    from eax_data.training.evaluation.commands import register as register_eval

    register_eval(commands)

    from eax_data.audit.commands import register as register_audit

    register_audit(commands)

    from eax_data.cost_commands import register as register_estimate

    register_estimate(commands)

    check = commands.add_parser("check", help="validate a recipe and its pipeline without running anything")
    check.add_argument("recipe", nargs="?")
    return parser


def _summary(result, seconds: float) -> str:
    lines = [f"\nDone in {seconds / 60:.1f} min: {result.total_pairs} pairs in {sum(1 for v in result.pairs_per_direction.values() if v)} directions"]
    for name, count in sorted(result.pairs_per_direction.items()):
        lines.append(f"  {name:8s} {count:6d}")
    if result.drops:
        lines.append("Dropped (by reason):")
        lines += [f"  {reason:28s} {count:6d}" for reason, count in result.drops.items()]
    if getattr(result, "proxy_validation", None):
        from eax_data.proxy_validation import format_table

        lines += ["", format_table(result.proxy_validation)]
    lines.append(f"Output: {result.output}  (card: README.md, pairs: data/, candidates/, excluded/, stats.json, recipe.yaml)")
    return "\n".join(lines)


def _build(args) -> int:
    from eax_data.pipelines.build import build
    from eax_data.recipe import load_recipe

    recipe = load_recipe(args.recipe)
    overrides = {f"execution.{k}": getattr(args, k) for k in ("workers", "tasks", "limit") if getattr(args, k) is not None}
    if overrides:
        recipe = recipe.replace(**overrides)
    started = time.monotonic()
    result = build(recipe, args.output)
    print(_summary(result, time.monotonic() - started))
    return 0


def _pairs(args) -> int:
    import os

    from eax_data.pipelines.build import RECIPE_FILE, finish, run_pairs
    from eax_data.recipe import load_recipe

    recipe = load_recipe(os.path.join(args.folder, RECIPE_FILE))
    changes = {
        f"pairs.{key}": value
        for key, value in (
            ("min_margin", args.min_margin),
            ("min_winner_score", args.min_winner_score),
            ("valid_score_range", args.valid_score_range),
            ("percentile_scaling", args.percentile_scaling),
            ("max_per_direction", args.max_per_direction),
            ("min_margin_quantile", args.min_margin_quantile),
            ("direction_temperature", args.direction_temperature),
            ("total_pairs", args.total_pairs),
        )
        if value is not None
    }
    recipe = recipe.replace(**changes) if changes else recipe
    started = time.monotonic()
    run_pairs(recipe, args.folder)
    with open(os.path.join(args.folder, RECIPE_FILE), "w", encoding="utf-8") as handle:
        handle.write(recipe.to_yaml())
    print(_summary(finish(recipe, os.path.abspath(args.folder)), time.monotonic() - started))
    return 0


def _publish(args) -> int:
    from eax_data.release import publish

    result = publish(args.folder, args.repo, args.version, hub=args.hub, private=args.private, message=args.message, store=args.store)
    print(result)
    return 0


def _pull(args) -> int:
    from eax_data.release import pull

    print(f"pulled to {pull(args.spec, args.output, hub=args.hub, store=args.store)}")
    return 0


def _validate_proxy(args) -> int:
    from eax_data.cards.render import write_card_for_folder
    from eax_data.proxy_validation import format_table, validate_proxy, write_validation

    scorers = {}
    if args.comet:
        from eax_data.recipe import ScorerConfig
        from eax_data.scoring.factory import make_scorer

        scorers["comet"] = make_scorer(ScorerConfig(kind="comet", model=args.comet))
    try:
        result = validate_proxy(args.folder, metrics=tuple(args.metric or ("chrf",)), scorers=scorers, corpus_path=args.corpus)
    finally:
        for scorer in scorers.values():
            scorer.close()
    print(format_table(result))
    print(f"written: {write_validation(args.folder, result)}; card: {write_card_for_folder(args.folder)}")
    return 0


def _card(args) -> int:
    from eax_data.cards.render import write_card_for_folder

    print(f"card written: {write_card_for_folder(args.folder)}")
    return 0


def _check(args) -> int:
    import tempfile

    from eax_data.pipelines import stages
    from eax_data.recipe import load_recipe

    recipe = load_recipe(args.recipe)
    with tempfile.TemporaryDirectory() as scratch:
        stages.tasks_pipeline(recipe, scratch)
        if stages.needs_pivots(recipe):
            stages.pivots_pipeline(recipe, scratch)
        stages.candidates_pipeline(recipe, scratch)
        stages.scores_pipeline(recipe, scratch)
        stages.pairs_pipeline(recipe, scratch)
    print(f"recipe {recipe.name!r} is valid; pipeline fields check out ({len(recipe.languages)} languages, fingerprint {recipe.fingerprint()})")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from eax_data.builders.readers import CorpusError
    from eax_data.generation.base import GenerationError
    from eax_data.pipelines.build import BuildError
    from eax_data.recipe import RecipeError

    from eax_data.release import ReleaseError

    from eax_data.proxy_validation import ProxyValidationError
    from eax_data.audit.commands import run as run_audit
    from eax_data.cost_commands import run as run_estimate
    from eax_data.training.commands import run as run_train
    from eax_data.training.evaluation.commands import run as run_eval
    from eax_data.scoring.base import ScorerError

    handlers = {
        "build": _build,
        "pairs": _pairs,
        "publish": _publish,
        "pull": _pull,
        "card": _card,
        "check": _check,
        "validate-proxy": _validate_proxy,
        "train": run_train,
        "eval": run_eval,
        "estimate": run_estimate,
        "audit": run_audit,
    }
    try:
        return handlers[args.command](args)
    except (RecipeError, CorpusError, GenerationError, BuildError, ReleaseError, ProxyValidationError, ScorerError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

"""``python -m eax_data audit``: does the recipe's filter chain + scorer prefer human translations to
degraded ones? Exit 0 when every category's win rate reaches ``--min-win-rate``, 1 when one does
not (a CI gate), 2 on a configuration error. Only argparse is imported until the command runs.
"""

from __future__ import annotations

import argparse
import sys

EXIT_PASS, EXIT_GATE, EXIT_ERROR = 0, 1, 2
DESCRIPTION = (
    "Audit the recipe's filter chain + scorer: human translations from a multiway corpus against degraded "
    "variants of them (omission, English left in, wrong language, copies, loops, changed numbers, truncation, "
    "unrelated sentences). Exit 0 when every category's win rate reaches --min-win-rate, 1 when one does not, "
    "2 on a configuration error."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", nargs="?", help="recipe YAML (default: the bundled default recipe)")
    parser.add_argument("--corpus", metavar="PATH|demo", help="multiway corpus with human translations (default: the recipe's)")
    parser.add_argument("--languages", nargs="+", metavar="LANG", help="audit these languages' x->y directions (default: the recipe's)")
    parser.add_argument("--limit", type=int, metavar="N", help="read at most N corpus rows (default: all)")
    parser.add_argument("--json", metavar="FILE", help="write the full report (with loss examples) here")
    parser.add_argument("--min-win-rate", type=float, default=0.95, metavar="R",
                        help="fail (exit 1) when a category's win rate is below R (default 0.95)")
    parser.add_argument("--scorer-only", action="store_true", help="skip the filters: how the scorer alone ranks the pairs")
    parser.add_argument("--pivot", choices=("human", "generate"),
                        help="pivot for reference-based scorers: the human translation (upper bound) or the recipe's greedy generator")
    parser.add_argument("--scorer", metavar="KIND[:MODEL]",
                        help="audit this scorer instead of the recipe's, e.g. embedding:e5, chrf, bleu, comet:MODEL")
    parser.add_argument("--categories", nargs="+", metavar="NAME", help="degradations to audit (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the degradations (default 0)")
    parser.add_argument("--examples", type=int, default=3, metavar="N", help="non-wins per category kept in the JSON (default 3)")


def register(commands) -> argparse.ArgumentParser:
    """Add ``audit`` to the CLI's ``add_subparsers()`` object; the CLI maps it to ``run``."""
    audit = commands.add_parser("audit", help="audit the filters + scorer against degraded human translations",
                                description=DESCRIPTION)
    add_arguments(audit)
    return audit


def scorer_override(spec: str) -> dict:
    """``KIND[:MODEL]`` -> a recipe ``scorer:`` section."""
    kind, _, model = spec.partition(":")
    section = {"kind": kind.strip()}
    if model.strip():
        section["model"] = model.strip()
    return section


def run(args) -> int:
    """The command; errors print one line and return 2."""
    from eax_data.audit.degrade import check_categories
    from eax_data.audit.report import format_table, write_json
    from eax_data.audit.run import AuditError, prepare_recipe, run_audit
    from eax_data.builders.readers import CorpusError
    from eax_data.generation.base import GenerationError
    from eax_data.recipe import RecipeError, load_recipe
    from eax_data.scoring.base import ScorerError

    try:
        recipe = load_recipe(args.recipe)
        if args.scorer:
            try:
                recipe = recipe.replace(scorer=scorer_override(args.scorer))
            except RecipeError as err:
                raise AuditError(f"--scorer {args.scorer}: {str(err).removeprefix('<overrides>: ')}") from None
        try:
            categories = check_categories(args.categories)
        except ValueError as err:
            raise AuditError(f"--categories: {err}") from None
        recipe = prepare_recipe(recipe, args.corpus, args.languages)
        report = run_audit(recipe, limit=args.limit, scorer_only=args.scorer_only, pivot=args.pivot, seed=args.seed,
                           categories=categories, min_win_rate=args.min_win_rate, max_examples=args.examples)
    except (AuditError, RecipeError, CorpusError, ScorerError, GenerationError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    print(format_table(report))
    if args.json:
        print(f"report written: {write_json(report, args.json)}")
    return EXIT_PASS if report["gate"]["passed"] else EXIT_GATE


def main(argv: list[str] | None = None) -> int:
    """The command on its own parser (tests; use before the CLI wires ``audit`` in)."""
    parser = argparse.ArgumentParser(prog="python -m eax_data audit", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))

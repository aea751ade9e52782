"""``python -m eax_data train <trainer>``: the training subcommands.

Each trainer is one entry in ``TRAINERS`` (help text, extra-argument adder, handler), so
``train dpo|cpo|sft`` become siblings of ``train reward-model`` without touching the CLI module.
Only argparse is imported here; torch / transformers / trl load inside the handlers.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _common(parser: argparse.ArgumentParser) -> None:
    """Arguments every trainer takes: where the data and the base model come from, where the model goes."""
    parser.add_argument("--dataset", required=True, metavar="SPEC_OR_FOLDER",
                        help="a build folder, or a release ORG/NAME[@vX.Y.Z] (local store; the Hub with --hub)")
    parser.add_argument("--model", required=True, metavar="PATH_OR_ID", help="base model: a local folder or Hub id")
    parser.add_argument("--config", metavar="YAML", help="training config overriding the bundled defaults")
    parser.add_argument("--output", "-o", metavar="DIR", help="new or empty folder for the trained model")
    parser.add_argument("--hub", action="store_true", help="look the release up on the Hugging Face Hub")
    parser.add_argument("--store", metavar="DIR", help="local store folder (default: $EAX_DATA_STORE or the user cache)")
    parser.add_argument("--directions", nargs="+", metavar="SRC-TRG", help="train on these directions only (e.g. de-en)")
    parser.add_argument("--max-steps", type=int, metavar="N", help="stop after N optimizer steps (overrides the config)")


def _default_output(args, kind: str) -> str:
    """``./<kind>-<dataset name>[-<version>]`` when --output is not given."""
    name = Path(args.dataset).name if Path(args.dataset).is_dir() and not args.hub else args.dataset.split("/")[-1]
    return f"{kind}-{name.replace('@', '-')}"


def _reward_model(args) -> int:
    from eax_data.training.reward_model import load_reward_model_config, train_reward_model

    overrides = {"max_steps": args.max_steps} if args.max_steps is not None else {}
    config = load_reward_model_config(args.config, **overrides)
    output = args.output or _default_output(args, "reward-model")
    started = time.monotonic()
    folder = train_reward_model(args.dataset, args.model, output, config=config, hub=args.hub, store=args.store,
                                directions=args.directions)
    print(f"\nDone in {(time.monotonic() - started) / 60:.1f} min. Reward model: {folder} "
          "(weights, tokenizer, README.md card, training_args.json)")
    return 0


# name -> (help, handler); DPO / CPO / SFT trainers are added here.
TRAINERS = {
    "reward-model": ("train the EAX reward model (trl RewardTrainer) on English-centric preference pairs",
                     _reward_model),
}


def register(commands) -> argparse.ArgumentParser:
    """Add ``train`` with one subcommand per trainer to the CLI's ``add_subparsers()`` object."""
    train = commands.add_parser("train", help="train models on eax-data preference datasets (trl)")
    trainers = train.add_subparsers(dest="trainer", required=True, metavar="TRAINER")
    for name, (help_text, handler) in TRAINERS.items():
        sub = trainers.add_parser(name, help=help_text, description=help_text)
        _common(sub)
        sub.set_defaults(train_handler=handler)
    return train


def run(args) -> int:
    """Run the chosen trainer; a configuration, data or release problem prints one line and returns 2."""
    from eax_data.release.errors import ReleaseError
    from eax_data.training.errors import TrainingError

    try:
        return args.train_handler(args)
    except (TrainingError, ReleaseError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

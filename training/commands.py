"""``python -m eax_data train <trainer>``: the training subcommands.

Each trainer is one entry in ``TRAINERS`` (help text, handler, optional extra-argument adder, and
whether ``--dataset`` is a parallel corpus rather than a preference build/release), so a new trainer
never touches the CLI module. Only argparse is imported here; torch / transformers / trl load inside
the handlers.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable, NamedTuple, Optional


class Trainer(NamedTuple):
    """A ``train`` subcommand. ``TRAINERS[name][1]`` is the handler, as it always was."""

    help: str
    handler: Callable
    arguments: Optional[Callable] = None  # adds trainer-specific flags to the subparser
    corpus: bool = False  # --dataset is a parallel corpus (SFT), not a preference build or release


def _common(parser: argparse.ArgumentParser, corpus: bool = False) -> None:
    """Arguments every trainer takes: where the data and the base model come from, where the model goes."""
    if corpus:
        parser.add_argument("--dataset", required=True, metavar="CORPUS",
                            help="a parallel CORPUS: English-centric (src_lang, trg_lang, src_text, trg_text) or "
                                 "multiway jsonl/parquet file or folder, a FLORES-style folder, hf:NAME, or demo")
    else:
        parser.add_argument("--dataset", required=True, metavar="SPEC_OR_FOLDER",
                            help="a build folder, or a release ORG/NAME[@vX.Y.Z] (local store; the Hub with --hub)")
    parser.add_argument("--model", required=True, metavar="PATH_OR_ID", help="base model: a local folder or Hub id")
    parser.add_argument("--config", metavar="YAML", help="training config overriding the bundled defaults")
    parser.add_argument("--output", "-o", metavar="DIR", help="new or empty folder for the trained model")
    if corpus:
        parser.add_argument("--directions", nargs="+", metavar="DIRECTION", default=["both"],
                            help="both (default), en2x, x2en, or English-centric SRC-TRG directions (e.g. en-de de-en)")
    else:
        parser.add_argument("--hub", action="store_true", help="look the release up on the Hugging Face Hub")
        parser.add_argument("--store", metavar="DIR",
                            help="local store folder (default: $EAX_DATA_STORE or the user cache)")
        parser.add_argument("--directions", nargs="+", metavar="SRC-TRG",
                            help="train on these directions only (e.g. de-en)")
    parser.add_argument("--max-steps", type=int, metavar="N", help="stop after N optimizer steps (overrides the config)")


def _lora_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lora", action="store_true",
                        help="train a LoRA adapter: the config's lora block, else r 16, alpha 32, dropout 0.05, "
                             "all linear layers")


def _default_output(args, kind: str) -> str:
    """``./<kind>-<dataset name>[-<version>]`` when --output is not given."""
    local = Path(args.dataset).exists() and not getattr(args, "hub", False)
    path = Path(args.dataset)
    name = (path.stem if path.is_file() else path.name) if local else args.dataset.split("/")[-1].split(":")[-1]
    return f"{kind}-{name.replace('@', '-')}"


def _overrides(args) -> dict:
    return {"max_steps": args.max_steps} if args.max_steps is not None else {}


def _reward_model(args) -> int:
    from eax_data.training.reward_model import load_reward_model_config, train_reward_model

    config = load_reward_model_config(args.config, **_overrides(args))
    output = args.output or _default_output(args, "reward-model")
    started = time.monotonic()
    folder = train_reward_model(args.dataset, args.model, output, config=config, hub=args.hub, store=args.store,
                                directions=args.directions)
    print(f"\nDone in {(time.monotonic() - started) / 60:.1f} min. Reward model: {folder} "
          "(weights, tokenizer, README.md card, training_args.json)")
    return 0


def _preference(kind: str):
    """The handler of ``train dpo`` / ``train cpo``: same arguments, different trainer."""

    def handler(args) -> int:
        if kind == "dpo":
            from eax_data.training.dpo import load_dpo_config as load, train_dpo as train
        else:
            from eax_data.training.cpo import load_cpo_config as load, train_cpo as train
        config = load(args.config, **_overrides(args))
        output = args.output or _default_output(args, kind)
        started = time.monotonic()
        folder = train(args.dataset, args.model, output, config=config, hub=args.hub, store=args.store,
                       directions=args.directions, peft=True if args.lora else None)
        what = "adapter" if (Path(folder) / "adapter_config.json").is_file() else "weights"
        print(f"\nDone in {(time.monotonic() - started) / 60:.1f} min. {kind.upper()} model: {folder} "
              f"({what}, tokenizer, README.md card, training_args.json)")
        return 0

    return handler


def _sft_arguments(parser: argparse.ArgumentParser) -> None:
    _lora_flag(parser)
    parser.add_argument("--limit", type=int, metavar="N", help="read only the first N corpus rows")
    parser.add_argument("--languages", nargs="+", metavar="CODE",
                        help="non-English languages to use (default: every language of the registry in the corpus)")
    parser.add_argument("--corpus-kind", choices=("auto", "english_centric", "multiway"), default="auto",
                        help="row schema of the corpus (default: detected from the first row)")
    parser.add_argument("--split", metavar="NAME",
                        help="FLORES split (dev, devtest; default dev) or the split of an hf: corpus (default train)")


def _sft(args) -> int:
    from eax_data.training.sft import load_sft_config, train_sft

    config = load_sft_config(args.config, **_overrides(args))
    output = args.output or _default_output(args, "sft")
    started = time.monotonic()
    folder = train_sft(args.dataset, args.model, output, config=config, directions=args.directions, limit=args.limit,
                       peft=True if args.lora else None, languages=args.languages, corpus_kind=args.corpus_kind,
                       split=args.split)
    print(f"\nDone in {(time.monotonic() - started) / 60:.1f} min. SFT model: {folder} "
          "(weights or adapter, tokenizer, README.md card, training_args.json)")
    return 0


# name -> Trainer(help, handler, extra-argument adder, --dataset is a corpus).
TRAINERS = {
    "reward-model": Trainer("train the EAX reward model (trl RewardTrainer) on English-centric preference pairs",
                            _reward_model),
    "dpo": Trainer("DPO + NLL on the chosen translation (the paper's x2x step; trl DPOTrainer) on preference pairs",
                   _preference("dpo"), _lora_flag),
    "cpo": Trainer("CPO, ALMA-R's reference-free objective (trl experimental CPOTrainer), on preference pairs",
                   _preference("cpo"), _lora_flag),
    "sft": Trainer("SFT on English-centric translations of a parallel corpus with the paper's 20 diverse prompts "
                   "(its first stage; trl SFTTrainer)", _sft, _sft_arguments, corpus=True),
}


def register(commands) -> argparse.ArgumentParser:
    """Add ``train`` with one subcommand per trainer to the CLI's ``add_subparsers()`` object."""
    train = commands.add_parser("train", help="train models on eax-data preference datasets (trl)")
    trainers = train.add_subparsers(dest="trainer", required=True, metavar="TRAINER")
    for name, entry in TRAINERS.items():
        entry = Trainer(*entry)  # a plain (help, handler) tuple is accepted too
        sub = trainers.add_parser(name, help=entry.help, description=entry.help)
        _common(sub, corpus=entry.corpus)
        if entry.arguments:
            entry.arguments(sub)
        sub.set_defaults(train_handler=entry.handler)
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

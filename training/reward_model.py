"""Train the paper's step-1 reward model: a one-score sequence classifier on English-centric pairs.

trl's ``RewardTrainer`` (Bradley-Terry loss) on the conversational preference rows of an eax-data
build or release. The result is a plain ``AutoModelForSequenceClassification`` folder (weights,
tokenizer, ``training_args.json``, README.md card) that ``scorer: {kind: reward_model, model: DIR}``
loads to score x->y candidates.

Only prompt / chosen / rejected reach the trainer: given a ``margin`` column, trl subtracts it inside
the loss, and PAIR_SCHEMA's margins are on the data scorer's scale (chrF points, embedding cosines),
which would distort the Bradley-Terry objective.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Optional

from eax_data.training.config import TrainerConfig, load_config
from eax_data.training.errors import TrainingError

CONFIG_FILE = "reward_model.yaml"

USAGE = """```python
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR)
model = AutoModelForSequenceClassification.from_pretrained(MODEL_DIR).eval()
messages = [{"role": "user", "content": PROMPT}, {"role": "assistant", "content": TRANSLATION}]
ids = tokenizer.apply_chat_template(messages, return_tensors="pt", return_dict=True)
with torch.no_grad():
    score = model(**ids).logits[0, 0].item()  # higher = better translation
```"""


@dataclass(frozen=True)
class RewardModelConfig(TrainerConfig):
    """Hyper-parameters of a reward-model run; defaults and their reasons live in the bundled YAML."""

    center_rewards_coefficient: Optional[float]
    report_to: str


def load_reward_model_config(path: Optional[str | os.PathLike] = None, **overrides) -> RewardModelConfig:
    """The bundled defaults, updated by the YAML at ``path`` and then by ``overrides``."""
    return load_config(RewardModelConfig, CONFIG_FILE, path, **overrides)


def train_reward_model(
    dataset: str | os.PathLike,
    model: str,
    output: str | os.PathLike,
    config: RewardModelConfig | str | os.PathLike | None = None,
    hub: bool = False,
    store: Optional[str | os.PathLike] = None,
    directions=None,
) -> str:
    """Train a reward model on ``dataset`` (build folder or release spec) from ``model`` (local folder
    or Hub id) and save it, with its tokenizer, ``training_args.json`` and a model card, to ``output``.

    ``config`` is a RewardModelConfig or a YAML path (None: the bundled defaults); ``hub`` / ``store``
    say where a release spec is looked up; ``directions`` keeps only some (``["de-en", ...]``).
    Returns the output folder. ``output`` must be new or empty: a model is never silently overwritten.
    """
    from loguru import logger

    from eax_data.training import preference

    cfg = config if isinstance(config, RewardModelConfig) else load_reward_model_config(config)
    out, provenance, train, held_out = preference.start_run(cfg, output, dataset, directions, hub, store)

    from transformers import set_seed
    from trl import RewardConfig, RewardTrainer

    set_seed(cfg.seed)  # before loading: the new score head is randomly initialised
    tokenizer, reward_model, revision = _load_model(model)
    args, bf16 = preference.training_arguments(
        RewardConfig, cfg, out, held_out is not None,
        max_length=cfg.max_length,
        center_rewards_coefficient=cfg.center_rewards_coefficient,
        disable_tqdm=False,
    )
    trainer = RewardTrainer(
        model=reward_model,
        args=args,
        train_dataset=train,
        eval_dataset=held_out,
        processing_class=tokenizer,
        callbacks=[_log_last_step_callback()],
    )
    used = len(trainer.train_dataset)
    if used == 0:
        raise TrainingError(f"every training pair is longer than max_length={cfg.max_length} tokens")
    kept = {"train_dataset": used, "eval_dataset": len(trainer.eval_dataset) if held_out is not None else None}
    rows = preference.row_counts(provenance["rows"], train, held_out, kept)
    logger.info(f"training {type(reward_model).__name__} from {model} on {used} pairs "
                f"({len(train) - used} dropped over max_length); device {args.device}, bf16={bf16}")
    return preference.save_run(
        trainer, args, cfg, out, model=model, bf16=bf16,
        method={"loss": "Bradley-Terry: -log sigmoid(r_chosen - r_rejected)"},
        saved="reward model",
        title=preference.model_title("Reward model", model, provenance),
        summary=("A one-score reward model (EAX step 1): it reads a translation prompt and a candidate translation "
                 "in the tokenizer's chat format and returns a scalar, higher for better translations. Trained with "
                 "eax-data's `train reward-model` (trl `RewardTrainer`) on English-centric preference pairs; it "
                 "scores x->y candidates through their English references."),
        trainer=f"trl RewardTrainer ({type(reward_model).__name__}, num_labels=1)",
        base_model_revision=revision,
        data=provenance,
        rows=rows,
        usage=USAGE.replace("MODEL_DIR", repr(str(out))),
        tags=("reward-model", "translation"),
    )


def _split(data, cfg: RewardModelConfig):
    """(train, held-out or None): a seeded split of ``eval_fraction`` of the pairs, at least one each."""
    if cfg.eval_fraction == 0:
        return data, None
    n_eval = max(1, round(len(data) * cfg.eval_fraction))
    if n_eval >= len(data):
        raise TrainingError(f"eval_fraction={cfg.eval_fraction} leaves no training pairs out of {len(data)}")
    split = data.train_test_split(test_size=n_eval, seed=cfg.seed, shuffle=True)
    return split["train"], split["test"]


def _load_model(name: str):
    """(tokenizer with a pad token, one-label sequence classifier in fp32, Hub revision or None)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from trl.trainer.reward_trainer import suppress_seqcls_warning

    from eax_data.training.preference import check_tokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        with suppress_seqcls_warning():  # a causal-LM checkpoint gets a new score head: expected
            model = AutoModelForSequenceClassification.from_pretrained(name, num_labels=1, dtype=torch.float32)
    except (OSError, ValueError) as err:
        raise TrainingError(f"{name}: cannot load a model and tokenizer from this folder or Hub id: {err}") from None
    check_tokenizer(tokenizer, name, "preference rows")
    # The classifier scores the last non-pad token; it finds it through the config's pad id.
    model.config.get_text_config().pad_token_id = tokenizer.pad_token_id
    return tokenizer, model, getattr(model.config, "_commit_hash", None)


def _renamed_args(config_cls, cfg: RewardModelConfig) -> dict:
    """Arguments transformers renamed: 5.x takes a warmup ratio as ``warmup_steps`` < 1 and renamed
    ``gradient_checkpointing`` to ``activation_checkpointing`` (the old names warn or are gone)."""
    names = {f.name for f in dataclasses.fields(config_cls)}
    args = {"warmup_ratio": cfg.warmup_ratio} if "warmup_ratio" in names else {"warmup_steps": cfg.warmup_ratio}
    key = "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"
    args[key] = cfg.gradient_checkpointing
    return args


def _log_last_step_callback():
    """Log the final step too, so the card always has the final loss/accuracy (not only every N steps)."""
    from transformers import TrainerCallback

    class LogLastStep(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.max_steps and state.global_step >= state.max_steps:
                control.should_log = True
            return control

    return LogLastStep()

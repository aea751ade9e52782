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
from pathlib import Path
from typing import Literal, Optional

from eax_data.training.config import load_config
from eax_data.training.errors import TrainingConfigError, TrainingError

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
class RewardModelConfig:
    """Hyper-parameters of a reward-model run; defaults and their reasons live in the bundled YAML."""

    learning_rate: float
    num_train_epochs: float
    max_steps: int
    per_device_train_batch_size: int
    per_device_eval_batch_size: int
    gradient_accumulation_steps: int
    max_length: Optional[int]
    warmup_ratio: float
    lr_scheduler_type: Literal["linear", "cosine", "constant", "constant_with_warmup"]
    weight_decay: float
    max_grad_norm: float
    seed: int
    eval_fraction: float
    eval_steps: Optional[int]
    logging_steps: int
    save_steps: int
    gradient_checkpointing: bool
    bf16: Optional[bool]
    center_rewards_coefficient: Optional[float]
    report_to: str

    def __post_init__(self):
        positive = ("per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps",
                    "logging_steps")
        for name in positive:
            if getattr(self, name) < 1:
                raise TrainingConfigError(f"{name}: must be >= 1, got {getattr(self, name)}")
        for name in ("max_length", "eval_steps"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise TrainingConfigError(f"{name}: must be >= 1 or null, got {getattr(self, name)}")
        if self.learning_rate <= 0:
            raise TrainingConfigError(f"learning_rate: must be > 0, got {self.learning_rate}")
        if self.max_steps == 0 or self.max_steps < -1:
            raise TrainingConfigError(f"max_steps: must be -1 (use num_train_epochs) or > 0, got {self.max_steps}")
        if self.max_steps == -1 and self.num_train_epochs <= 0:
            raise TrainingConfigError(f"num_train_epochs: must be > 0, got {self.num_train_epochs}")
        if not 0 <= self.warmup_ratio < 1:
            raise TrainingConfigError(f"warmup_ratio: must be in [0, 1), got {self.warmup_ratio}")
        if not 0 <= self.eval_fraction < 1:
            raise TrainingConfigError(f"eval_fraction: must be in [0, 1), got {self.eval_fraction}")
        if self.save_steps < 0:
            raise TrainingConfigError(f"save_steps: must be >= 0, got {self.save_steps}")


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

    from eax_data.training.datasets import resolve_training_data
    from eax_data.training.model_card import framework_versions, training_results, write_model_card

    cfg = config if isinstance(config, RewardModelConfig) else load_reward_model_config(config)
    out = Path(output)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise TrainingError(f"{out}: exists and is not empty; train into a new folder")
    data, provenance = resolve_training_data(dataset, directions, hub=hub, store=store)
    logger.info(f"training data: {provenance.get('repo_id', provenance['path'])} "
                f"{provenance.get('tag', '')} {provenance['rows']} pairs in {', '.join(provenance['directions'])}")
    train, held_out = _split(data, cfg)

    import torch
    from transformers import set_seed
    from trl import RewardConfig, RewardTrainer

    set_seed(cfg.seed)  # before loading: the new score head is randomly initialised
    tokenizer, reward_model, revision = _load_model(model)
    bf16 = cfg.bf16 if cfg.bf16 is not None else bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    args = RewardConfig(
        output_dir=str(out),
        learning_rate=cfg.learning_rate,
        num_train_epochs=cfg.num_train_epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.per_device_train_batch_size,
        per_device_eval_batch_size=cfg.per_device_eval_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        max_length=cfg.max_length,
        lr_scheduler_type=cfg.lr_scheduler_type,
        weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm,
        seed=cfg.seed,
        logging_strategy="steps",
        logging_steps=cfg.logging_steps,
        eval_strategy="steps" if held_out is not None and cfg.eval_steps else "no",
        eval_steps=cfg.eval_steps,
        save_strategy="steps" if cfg.save_steps else "no",
        save_steps=cfg.save_steps or 500,
        bf16=bf16,
        fp16=False,
        center_rewards_coefficient=cfg.center_rewards_coefficient,
        report_to=cfg.report_to,
        push_to_hub=False,
        disable_tqdm=False,
        dataloader_pin_memory=torch.cuda.is_available(),
        **_renamed_args(RewardConfig, cfg),
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
    rows = {"loaded": provenance["rows"], "train": len(train), "train, used (within max_length)": used}
    if held_out is not None:
        rows["eval"] = len(held_out)
        rows["eval, used (within max_length)"] = len(trainer.eval_dataset)
    logger.info(f"training {type(reward_model).__name__} from {model} on {used} pairs "
                f"({len(train) - used} dropped over max_length); device {args.device}, bf16={bf16}")

    trainer.train()
    step = trainer.state.global_step
    if held_out is not None and len(trainer.eval_dataset) and not any(
        e.get("step") == step and "eval_loss" in e for e in trainer.state.log_history
    ):
        trainer.evaluate()  # the card reports held-out loss/accuracy of the final model
    trainer.save_model(str(out))  # weights, config and the tokenizer (processing_class)
    if not trainer.is_world_process_zero():
        return str(out)  # under torchrun/accelerate only rank 0 writes the json and the card
    (out / "training_args.json").write_text(args.to_json_string(), encoding="utf-8")  # *_token fields redacted
    hyperparameters = {**dataclasses.asdict(cfg), "bf16 (resolved)": bf16, "device": str(args.device),
                       "effective batch size": cfg.per_device_train_batch_size * cfg.gradient_accumulation_steps
                       * args.world_size, "optimizer steps": trainer.state.global_step,
                       "loss": "Bradley-Terry: -log sigmoid(r_chosen - r_rejected)"}
    write_model_card(
        out,
        title=f"Reward model: {Path(model).name if os.path.isdir(model) else model} on "
              f"{provenance.get('repo_id', Path(provenance['path']).name)} {provenance.get('tag', '')}".rstrip(),
        summary=("A one-score reward model (EAX step 1): it reads a translation prompt and a candidate translation "
                 "in the tokenizer's chat format and returns a scalar, higher for better translations. Trained with "
                 "eax-data's `train reward-model` (trl `RewardTrainer`) on English-centric preference pairs; it "
                 "scores x->y candidates through their English references."),
        trainer=f"trl RewardTrainer ({type(reward_model).__name__}, num_labels=1)",
        base_model=os.path.abspath(model) if os.path.isdir(model) else model,
        base_model_revision=revision,
        data=provenance,
        hyperparameters=hyperparameters,
        rows=rows,
        results=training_results(trainer.state.log_history),
        versions=framework_versions(),
        usage=USAGE.replace("MODEL_DIR", repr(str(out))),
        tags=("reward-model", "translation"),
    )
    logger.info(f"reward model saved to {out}")
    return str(out)


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

    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        with suppress_seqcls_warning():  # a causal-LM checkpoint gets a new score head: expected
            model = AutoModelForSequenceClassification.from_pretrained(name, num_labels=1, dtype=torch.float32)
    except (OSError, ValueError) as err:
        raise TrainingError(f"{name}: cannot load a model and tokenizer from this folder or Hub id: {err}") from None
    if not tokenizer.chat_template:
        raise TrainingError(f"{name}: the tokenizer has no chat template; the preference rows are chat messages")
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise TrainingError(f"{name}: the tokenizer has neither a pad nor an eos token to pad with")
        tokenizer.pad_token = tokenizer.eos_token
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

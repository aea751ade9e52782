"""The paper's x2x preference step: DPO with an NLL term on the chosen translation (trl ``DPOTrainer``).

EAX trains with LLaMA-Factory ``pref_loss: sigmoid, pref_beta: 0.4, pref_ftx: 2.0``; trl 1.16 expresses
the same objective as ``loss_type=["sigmoid", "sft"]`` with ``loss_weights=[1.0, 2.0]`` (the mapping
is explained in ``configs/dpo.yaml``). The reference model is a frozen second copy loaded from the same
path (trl would otherwise try to reload it by the config's name), or, with LoRA, the base model with
the adapter disabled.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal, Optional

from eax_data.training.config import load_config
from eax_data.training.errors import TrainingConfigError
from eax_data.training.preference import CausalLMConfig

CONFIG_FILE = "dpo.yaml"

# trl 1.16 DPOConfig.loss_type values.
DPOLoss = Literal["sigmoid", "hinge", "ipo", "exo_pair", "nca_pair", "robust", "bco_pair", "sppo_hard", "aot",
                  "aot_unpaired", "apo_zero", "apo_down", "discopop", "sft", "sigmoid_norm"]


@dataclass(frozen=True)
class DPOTrainingConfig(CausalLMConfig):
    """Hyper-parameters of a DPO run; defaults and their reasons live in the bundled YAML."""

    beta: float
    loss_type: tuple[DPOLoss, ...]
    loss_weights: Optional[tuple[float, ...]]
    precompute_ref_log_probs: bool

    def __post_init__(self):
        super().__post_init__()
        if self.beta <= 0:
            raise TrainingConfigError(f"beta: must be > 0, got {self.beta}")
        if not self.loss_type:
            raise TrainingConfigError("loss_type: give at least one loss, e.g. [sigmoid, sft]")
        if self.loss_weights is not None and len(self.loss_weights) != len(self.loss_type):
            raise TrainingConfigError(f"loss_weights: {len(self.loss_weights)} weight(s) for {len(self.loss_type)} "
                                      f"loss type(s) {list(self.loss_type)}; give one weight per loss type")


def load_dpo_config(path: Optional[str | os.PathLike] = None, **overrides) -> DPOTrainingConfig:
    """The bundled defaults, updated by the YAML at ``path`` and then by ``overrides``."""
    return load_config(DPOTrainingConfig, CONFIG_FILE, path, **overrides)


def train_dpo(
    dataset: str | os.PathLike,
    model: str,
    output: str | os.PathLike,
    config: DPOTrainingConfig | str | os.PathLike | None = None,
    hub: bool = False,
    store: Optional[str | os.PathLike] = None,
    directions=None,
    peft=None,
) -> str:
    """DPO-train ``model`` (local folder or Hub id) on ``dataset`` (build folder or release spec) and
    save the model (or LoRA adapter), its tokenizer, ``training_args.json`` and a card to ``output``.

    ``config``: a DPOTrainingConfig or a YAML path (None: the bundled paper defaults). ``hub`` /
    ``store``: where a release spec is looked up. ``directions``: keep only some (``["de-fr"]``).
    ``peft``: None as the config says (``lora``), False full fine-tuning, True LoRA with the config's
    block or the defaults, or a mapping ``{r, alpha, dropout, target_modules}``. Returns ``output``.
    """
    from loguru import logger

    from eax_data.training import preference

    cfg = preference.with_adapter(config if isinstance(config, DPOTrainingConfig) else load_dpo_config(config), peft)
    out, provenance, train, held_out = preference.start_run(cfg, output, dataset, directions, hub, store)

    from transformers import set_seed
    from trl import DPOConfig, DPOTrainer

    set_seed(cfg.seed)  # before loading: a LoRA adapter is randomly initialised
    path = preference.model_path(model)
    tokenizer, policy, revision = preference.load_causal_lm(path, cfg.dtype)
    if cfg.lora or cfg.precompute_ref_log_probs:
        reference, ref_text = None, ("the base model with the LoRA adapter disabled" if cfg.lora else
                                     "the base model's log-probabilities, computed once before training")
    else:  # a second, frozen copy: trl would otherwise reload it by config._name_or_path (a Hub call)
        reference = preference.load_causal_lm(path, cfg.dtype, tokenizer=False)[1]
        ref_text = "a frozen second copy of the base model"
    args, bf16 = preference.training_arguments(
        DPOConfig, cfg, out, held_out is not None,
        beta=cfg.beta,
        loss_type=list(cfg.loss_type),
        loss_weights=list(cfg.loss_weights) if cfg.loss_weights is not None else None,
        precompute_ref_log_probs=cfg.precompute_ref_log_probs,
        max_length=None,  # over-long pairs are dropped below, never truncated
    )
    trainer = preference.make_trainer(DPOTrainer, policy, args, cfg, train, held_out, tokenizer, ref_model=reference)
    kept = preference.drop_long(
        trainer, lambda e: len(e["prompt_ids"]) + max(len(e["chosen_ids"]), len(e["rejected_ids"])), cfg.max_length)
    rows = preference.row_counts(provenance["rows"], train, held_out, kept)
    logger.info(f"DPO-training {type(policy).__name__} from {model} on {kept['train_dataset']} pairs "
                f"({len(train) - kept['train_dataset']} dropped over max_length); reference: {ref_text}; "
                f"device {args.device}, bf16={bf16}")
    weights = list(cfg.loss_weights or [1.0] * len(cfg.loss_type))
    loss = " + ".join(f"{w:g} x {_LOSS_NAMES.get(t, t)}" for t, w in zip(cfg.loss_type, weights))
    return preference.train_and_save(
        trainer, args, cfg, out, model=model, revision=revision, data=provenance, rows=rows, bf16=bf16,
        title=preference.model_title("DPO", model, provenance),
        summary=("A translation model preference-tuned with DPO plus an NLL term on the chosen translation, "
                 "as in EAX (arXiv 2509.19770): trained with eax-data's `train dpo` (trl `DPOTrainer`) on "
                 "x2x preference pairs built by English-anchored generation and evaluation."),
        trainer_name="trl DPOTrainer",
        method={"loss": loss, "reference model": ref_text},
        tags=("dpo", "translation"),
    )


_LOSS_NAMES = {"sigmoid": "DPO sigmoid -log σ(β·Δ)", "sft": "NLL of the chosen translation (token mean)"}

"""CPO (ALMA-R's objective) on eax-data preference pairs: trl's experimental ``CPOTrainer``.

An alternative to the paper's DPO step: Contrastive Preference Optimization (Xu et al. 2024) needs
no reference model (a preference term on the policy's own log-probabilities plus ``cpo_alpha`` x the
NLL of the chosen translation), so it costs one model in memory instead of two.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Literal, Optional

from eax_data.training.config import load_config
from eax_data.training.errors import TrainingConfigError
from eax_data.training.preference import CausalLMConfig

CONFIG_FILE = "cpo.yaml"


@dataclass(frozen=True)
class CPOTrainingConfig(CausalLMConfig):
    """Hyper-parameters of a CPO run; defaults and their reasons live in the bundled YAML."""

    beta: float
    cpo_alpha: float
    loss_type: Literal["sigmoid", "hinge", "ipo", "simpo"]
    simpo_gamma: float

    def __post_init__(self):
        super().__post_init__()
        if self.beta <= 0:
            raise TrainingConfigError(f"beta: must be > 0, got {self.beta}")
        if self.cpo_alpha < 0:
            raise TrainingConfigError(f"cpo_alpha: must be >= 0, got {self.cpo_alpha}")


def load_cpo_config(path: Optional[str | os.PathLike] = None, **overrides) -> CPOTrainingConfig:
    """The bundled defaults, updated by the YAML at ``path`` and then by ``overrides``."""
    return load_config(CPOTrainingConfig, CONFIG_FILE, path, **overrides)


def train_cpo(
    dataset: str | os.PathLike,
    model: str,
    output: str | os.PathLike,
    config: CPOTrainingConfig | str | os.PathLike | None = None,
    hub: bool = False,
    store: Optional[str | os.PathLike] = None,
    directions=None,
    peft=None,
) -> str:
    """CPO-train ``model`` on ``dataset`` (build folder or release spec); arguments as ``train_dpo``.
    Saves the model (or LoRA adapter), tokenizer, ``training_args.json`` and a card; returns ``output``."""
    from loguru import logger

    from eax_data.training import preference

    cfg = preference.with_adapter(config if isinstance(config, CPOTrainingConfig) else load_cpo_config(config), peft)
    out, provenance, train, held_out = preference.start_run(cfg, output, dataset, directions, hub, store)

    from transformers import set_seed
    from trl.experimental.cpo import CPOConfig, CPOTrainer

    set_seed(cfg.seed)
    tokenizer, policy, revision = preference.load_causal_lm(preference.model_path(model), cfg.dtype)
    args, bf16 = preference.training_arguments(
        CPOConfig, cfg, out, held_out is not None,
        beta=cfg.beta,
        cpo_alpha=cfg.cpo_alpha,
        loss_type=cfg.loss_type,
        simpo_gamma=cfg.simpo_gamma,
        max_length=sys.maxsize,  # CPOTrainer truncates (and None means 512): over-long pairs are dropped below
        remove_unused_columns=False,  # its collator needs the tokenized columns (trl warns otherwise)
    )
    trainer = preference.make_trainer(CPOTrainer, policy, args, cfg, train, held_out, tokenizer)
    kept = preference.drop_long(
        trainer, lambda e: max(len(e["chosen_input_ids"]), len(e["rejected_input_ids"])), cfg.max_length)
    rows = preference.row_counts(provenance["rows"], train, held_out, kept)
    logger.info(f"CPO-training {type(policy).__name__} from {model} on {kept['train_dataset']} pairs "
                f"({len(train) - kept['train_dataset']} dropped over max_length); device {args.device}, bf16={bf16}")
    return preference.train_and_save(
        trainer, args, cfg, out, model=model, revision=revision, data=provenance, rows=rows, bf16=bf16,
        title=preference.model_title("CPO", model, provenance),
        summary=("A translation model preference-tuned with CPO (Contrastive Preference Optimization, the "
                 "objective of ALMA-R) on eax-data x2x preference pairs: trained with eax-data's `train cpo` "
                 "(trl `experimental.cpo.CPOTrainer`). CPO has no reference model."),
        trainer_name="trl experimental.cpo.CPOTrainer",
        method={"loss": f"CPO {cfg.loss_type} preference loss (beta {cfg.beta:g}) + {cfg.cpo_alpha:g} x NLL of the "
                        "chosen translation", "reference model": "none (CPO is reference-free)"},
        tags=("cpo", "translation"),
    )

"""What the causal-LM trainers (``dpo``, ``cpo``, ``sft``) share: config fields, LoRA, loading, saving.

The reward model is a sequence classifier; these three train the translation model itself, so they
share loading a causal LM (and, for DPO, its reference copy), an optional LoRA adapter, dropping
over-long examples instead of truncating them, and the end of a run: final evaluation, weights or
adapter + tokenizer, ``training_args.json`` and a model card that pins the training data.
The reward model shares the start and end of a run with them (``start_run``, ``training_arguments``,
``save_run``) and the checks on its tokenizer (``check_tokenizer``).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal, Optional

from eax_data.training.config import TrainerConfig
from eax_data.training.errors import TrainingConfigError, TrainingError

USAGE = """```python
from transformers import AutoModelForCausalLM, AutoTokenizer
LOAD
tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR)
messages = [{"role": "user", "content": PROMPT}]  # e.g. eax_data.prompts.DIRECT_TEMPLATE, filled in
inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
output = model.generate(**inputs, max_new_tokens=256, do_sample=False)
translation = tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()
```"""
_LOAD_FULL = "model = AutoModelForCausalLM.from_pretrained(MODEL_DIR).eval()"
_LOAD_ADAPTER = ("from peft import AutoPeftModelForCausalLM\n"
                 "model = AutoPeftModelForCausalLM.from_pretrained(MODEL_DIR).eval()  # base model + LoRA adapter")


@dataclass(frozen=True)
class LoraSettings:
    """A LoRA adapter (peft). The only defaults outside the YAML: keys a ``lora:`` block leaves out
    (and ``--lora`` / ``peft=True`` without a block) take these values, documented in each YAML."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: Any = "all-linear"  # peft's shortcut for every linear layer but the output head

    def __post_init__(self):
        if self.r < 1:
            raise TrainingConfigError(f"r: must be >= 1, got {self.r}")
        if self.alpha < 1:
            raise TrainingConfigError(f"alpha: must be >= 1, got {self.alpha}")
        if not 0 <= self.dropout < 1:
            raise TrainingConfigError(f"dropout: must be in [0, 1), got {self.dropout}")
        modules = self.target_modules
        if isinstance(modules, (list, tuple)) and modules and all(isinstance(m, str) and m for m in modules):
            object.__setattr__(self, "target_modules", tuple(modules))
        elif not (isinstance(modules, str) and modules):
            raise TrainingConfigError(f"target_modules: 'all-linear' or a list of module names, got {modules!r}")

    def peft_config(self):
        from peft import LoraConfig

        modules = self.target_modules if isinstance(self.target_modules, str) else list(self.target_modules)
        return LoraConfig(r=self.r, lora_alpha=self.alpha, lora_dropout=self.dropout, target_modules=modules,
                          task_type="CAUSAL_LM")


@dataclass(frozen=True)
class CausalLMConfig(TrainerConfig):
    """Fields every causal-LM trainer has; each trainer's YAML holds their defaults and reasons."""

    # Redefined (it keeps its place among the shared fields): the causal-LM trainers also take inverse_sqrt.
    lr_scheduler_type: Literal["linear", "cosine", "constant", "constant_with_warmup", "inverse_sqrt"]
    dtype: Literal["float32", "bfloat16"]
    lora: Optional[LoraSettings]
    report_to: str


def with_adapter(cfg, peft):
    """``cfg`` with the adapter ``peft`` asks for: None keeps ``cfg.lora``; False trains every weight;
    True uses ``cfg.lora`` or the LoRA defaults; a mapping ``{r, alpha, dropout, target_modules}`` or a
    LoraSettings is that adapter (keys left out take the defaults)."""
    from eax_data import typed_config
    from eax_data.training.config import replace_config

    if peft is None:
        return cfg
    if peft is True:
        lora = cfg.lora or LoraSettings()
    elif peft is False:
        lora = None
    elif isinstance(peft, LoraSettings):
        lora = peft
    elif isinstance(peft, dict):
        lora = typed_config.build(LoraSettings, peft, "peft", TrainingConfigError)
    else:
        raise TrainingConfigError(f"peft: expected None, True, False, a mapping {{r, alpha, dropout, target_modules}} "
                                  f"or LoraSettings, got {type(peft).__name__}")
    return replace_config(cfg, lora=dataclasses.asdict(lora) if lora else None)


def check_output(output) -> Path:
    """``output`` as a Path, refused unless new or empty: a model is never silently overwritten."""
    out = Path(output)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise TrainingError(f"{out}: exists and is not empty; train into a new folder")
    return out


def model_path(name: str) -> str:
    """An existing local folder as an absolute path (so adapters and cards name it exactly), else the Hub id."""
    return os.path.abspath(name) if os.path.isdir(name) else name


def load_causal_lm(name: str, dtype: str, tokenizer: bool = True):
    """(tokenizer with a pad token and a chat template, or None; causal LM; Hub revision or None)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(name) if tokenizer else None
        model = AutoModelForCausalLM.from_pretrained(name, dtype=getattr(torch, dtype))
    except (OSError, ValueError) as err:
        message = f"{name}: cannot load a causal LM and tokenizer from this folder or Hub id: {err}"
        raise TrainingError(message) from None
    if tok is not None:
        check_tokenizer(tok, name, "training rows")
    return tok, model, getattr(model.config, "_commit_hash", None)


def check_tokenizer(tokenizer, name: str, rows: str) -> None:
    """Refuse a tokenizer without a chat template (``rows`` are chat messages); pad with eos if it has no pad token."""
    if not tokenizer.chat_template:
        raise TrainingError(f"{name}: the tokenizer has no chat template; the {rows} are chat messages")
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise TrainingError(f"{name}: the tokenizer has neither a pad nor an eos token to pad with")
        tokenizer.pad_token = tokenizer.eos_token


def training_arguments(config_cls, cfg: TrainerConfig, out: Path, has_eval: bool, **specific):
    """(``config_cls`` filled from the common fields plus ``specific``, resolved bf16). bf16 is only ever
    on with a bf16-capable GPU unless the config forces it: trl's configs default it to True, even on CPU."""
    import torch

    from eax_data.training.reward_model import _renamed_args

    bf16 = cfg.bf16 if cfg.bf16 is not None else bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    args = config_cls(
        output_dir=str(out),
        learning_rate=cfg.learning_rate,
        num_train_epochs=cfg.num_train_epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.per_device_train_batch_size,
        per_device_eval_batch_size=cfg.per_device_eval_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        lr_scheduler_type=cfg.lr_scheduler_type,
        weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm,
        seed=cfg.seed,
        logging_strategy="steps",
        logging_steps=cfg.logging_steps,
        eval_strategy="steps" if has_eval and cfg.eval_steps else "no",
        eval_steps=cfg.eval_steps,
        save_strategy="steps" if cfg.save_steps else "no",
        save_steps=cfg.save_steps or 500,
        bf16=bf16,
        fp16=False,
        report_to=cfg.report_to,
        push_to_hub=False,
        dataloader_pin_memory=torch.cuda.is_available(),
        **_renamed_args(config_cls, cfg),
        **specific,
    )
    return args, bf16


def drop_long(trainer, length: Callable[[dict], int], max_length: Optional[int]) -> dict:
    """Drop tokenized examples over ``max_length`` tokens from the trainer's datasets (trl would cut
    them, and a cut translation teaches the model to stop mid-sentence). Returns the rows kept."""
    kept = {}
    for name in ("train_dataset", "eval_dataset"):
        data = getattr(trainer, name)
        if data is None:
            continue
        if max_length is not None:
            data = data.filter(lambda example: length(example) <= max_length, desc="Dropping over-long examples")
            setattr(trainer, name, data)
        kept[name] = len(data)
    if kept["train_dataset"] == 0:
        raise TrainingError(f"every training example is longer than max_length={max_length} tokens")
    return kept


def row_counts(loaded: int, train, held_out, kept: dict) -> dict:
    """The card's row table: loaded, split and kept within max_length."""
    rows = {"loaded": loaded, "train": len(train), "train, used (within max_length)": kept["train_dataset"]}
    if held_out is not None:
        rows["eval"] = len(held_out)
        rows["eval, used (within max_length)"] = kept["eval_dataset"]
    return rows


def start_run(cfg: TrainerConfig, output, dataset, directions, hub: bool, store):
    """(output folder, refused unless new or empty; provenance; train rows; held-out rows or None) of a run
    on the preference pairs of ``dataset`` (build folder or release spec)."""
    from loguru import logger

    from eax_data.training.datasets import resolve_training_data
    from eax_data.training.reward_model import _split

    out = check_output(output)
    data, provenance = resolve_training_data(dataset, directions, hub=hub, store=store)
    logger.info(f"training data: {provenance.get('repo_id', provenance['path'])} "
                f"{provenance.get('tag', '')} {provenance['rows']} pairs in {', '.join(provenance['directions'])}")
    train, held_out = _split(data, cfg)
    return out, provenance, train, held_out


def make_trainer(trainer_cls, policy, args, cfg: CausalLMConfig, train, held_out, tokenizer, **specific):
    """``trainer_cls`` on the split rows, with the config's LoRA adapter (if any) and a log of the last step."""
    from eax_data.training.reward_model import _log_last_step_callback

    return trainer_cls(
        model=policy,
        args=args,
        train_dataset=train,
        eval_dataset=held_out,
        processing_class=tokenizer,
        peft_config=cfg.lora.peft_config() if cfg.lora else None,
        callbacks=[_log_last_step_callback()],
        **specific,
    )


def train_and_save(trainer, args, cfg: CausalLMConfig, out: Path, *, model: str, revision, data: dict, rows: dict,
                   bf16: bool, title: str, summary: str, trainer_name: str, method: dict, tags: tuple) -> str:
    """Train, evaluate the final model on the held-out rows, save weights (or the adapter) with the
    tokenizer, and on rank 0 write ``training_args.json`` and the model card. Returns ``out``."""
    return save_run(
        trainer, args, cfg, out, model=model, bf16=bf16, method=method,
        saved="adapter" if cfg.lora else "model",
        title=title,
        summary=summary,
        trainer=trainer_name + (" with a LoRA adapter (peft); this folder holds only the adapter" if cfg.lora else ""),
        base_model_revision=revision,
        data=data,
        rows=rows,
        usage=USAGE.replace("LOAD", _LOAD_ADAPTER if cfg.lora else _LOAD_FULL).replace("MODEL_DIR", repr(str(out))),
        tags=tags + (("lora",) if cfg.lora else ()),
        library_name="peft" if cfg.lora else "transformers",
    )


def save_run(trainer, args, cfg: TrainerConfig, out: Path, /, *, model: str, bf16: bool, method: dict, saved: str,
             **card) -> str:
    """Any trainer's end of a run: train, evaluate the final model on the held-out rows, save it (with the
    tokenizer), and on rank 0 write ``training_args.json`` and the model card (``card``: the
    ``write_model_card`` fields each trainer fills; the hyper-parameter table is the config, ``method``
    and the run's facts). Returns ``out``."""
    from loguru import logger

    from eax_data.training.model_card import framework_versions, training_results, write_model_card

    trainer.train()
    step = trainer.state.global_step
    if trainer.eval_dataset is not None and len(trainer.eval_dataset) and not any(
        e.get("step") == step and "eval_loss" in e for e in trainer.state.log_history
    ):
        trainer.evaluate()  # the card reports the held-out metrics of the final model
    trainer.save_model(str(out))  # the weights (or only the LoRA adapter), config and the tokenizer
    if not trainer.is_world_process_zero():
        return str(out)  # under torchrun/accelerate only rank 0 writes the json and the card
    (out / "training_args.json").write_text(args.to_json_string(), encoding="utf-8")  # *_token fields redacted
    hyperparameters = {**dataclasses.asdict(cfg), **method, "bf16 (resolved)": bf16, "device": str(args.device),
                       "effective batch size": cfg.per_device_train_batch_size * cfg.gradient_accumulation_steps
                       * args.world_size, "optimizer steps": step}
    write_model_card(out, base_model=model_path(model), hyperparameters=hyperparameters,
                     results=training_results(trainer.state.log_history), versions=framework_versions(), **card)
    logger.info(f"{saved} saved to {out}")
    return str(out)


def model_title(kind: str, model: str, data: dict) -> str:
    """``<kind>: <base model> on <dataset> <tag>``."""
    name = Path(model).name if os.path.isdir(model) else model
    where = data.get("repo_id") or Path(data["path"]).name
    return f"{kind}: {name} on {where} {data.get('tag', '')}".rstrip()

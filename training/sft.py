"""The paper's first stage: SFT on English-centric translation pairs with 20 diverse instructions.

EAX first fine-tunes the base model on human English-centric translations (TowerBlocks) so that it can
translate at all, before the x2x preference step. Here the corpus is read with the project's readers
and ``AnchorSentences`` (English-centric TowerBlocks-schema rows, multiway rows, a FLORES folder or the
bundled demo); every anchored sentence (x, its English e) gives an en->x and an x->en example whose
prompt is one of the paper's 20 templates, picked stably per example exactly as a build's
``prompt.training: diverse`` picks it, and whose completion is the human translation. trl's
``SFTTrainer`` computes the loss on the completion only, like LLaMA-Factory's default.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal, Optional

from eax_data.training.config import load_config
from eax_data.training.errors import TrainingDataError
from eax_data.training.preference import CausalLMConfig

CONFIG_FILE = "sft.yaml"
MODES = ("both", "en2x", "x2en")


@dataclass(frozen=True)
class SFTTrainingConfig(CausalLMConfig):
    """Hyper-parameters of an SFT run; defaults and their reasons live in the bundled YAML."""

    prompt_style: Literal["diverse", "direct"]
    template_seed: int


def load_sft_config(path: Optional[str | os.PathLike] = None, **overrides) -> SFTTrainingConfig:
    """The bundled defaults, updated by the YAML at ``path`` and then by ``overrides``."""
    return load_config(SFTTrainingConfig, CONFIG_FILE, path, **overrides)


def sft_examples(
    corpus: str | os.PathLike,
    directions: str | Iterable[str] | None = "both",
    limit: Optional[int] = None,
    languages: Optional[Iterable[str]] = None,
    kind: Literal["auto", "english_centric", "multiway"] = "auto",
    split: Optional[str] = None,
    prompt_style: Literal["diverse", "direct"] = "diverse",
    template_seed: int = 0,
):
    """(``datasets.Dataset``, provenance) of conversational prompt/completion SFT examples.

    ``corpus``: an English-centric (src_lang, trg_lang, src_text, trg_text) or multiway jsonl/parquet
    file or folder, a FLORES-style folder, ``hf:NAME`` or ``demo``. ``directions``: ``both``, ``en2x``,
    ``x2en`` or a list of English-centric ``SRC-TRG`` directions. ``limit``: corpus rows to read.
    ``languages``: non-English languages to keep (None: every language the registry knows). ``kind``:
    the row schema (auto: FLORES folders are multiway, rows with src_lang/trg_lang/src_text/trg_text are
    English-centric, other rows multiway). ``split``: FLORES split file suffix (None: ``train``, else
    ``dev`` for a FLORES folder) or a ``datasets`` split. Identical (direction, source) examples after
    the first are dropped and counted.
    """
    import datasets

    from eax_data import languages as langs
    from eax_data.builders.expand import normalized, task_id
    from eax_data.prompts import training_prompt
    from eax_data.schema import REF_TEXT, SOURCE_ID, SRC_LANG

    if limit is not None and limit < 1:
        raise TrainingDataError(f"limit: must be >= 1 corpus rows, got {limit}")
    modes, wanted = _directions(directions)
    try:
        selected = tuple(sorted({langs.normalize(c) for c in languages})) if languages else tuple(langs.BY_CODE)
    except langs.UnknownLanguageError as err:
        raise TrainingDataError(f"languages: {err}") from None
    if wanted:
        selected = tuple(sorted({c for pair in wanted for c in pair} & set(selected)))
    anchored, provenance = _read_anchored(str(corpus), kind, selected, split, limit)

    seen, examples, duplicates = set(), [], 0
    for doc in anchored:
        x_lang, x_text, e_text = doc.metadata[SRC_LANG], doc.text, doc.metadata[REF_TEXT]
        for mode, src, trg, source, target in (("en2x", langs.ENGLISH, x_lang, e_text, x_text),
                                               ("x2en", x_lang, langs.ENGLISH, x_text, e_text)):
            if mode not in modes or (wanted and (src, trg) not in wanted):
                continue
            key = (src, trg, normalized(source))
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            identifier = task_id(src, trg, source)
            prompt = training_prompt(prompt_style, src, trg, source, identifier, template_seed)
            examples.append({"prompt": [{"role": "user", "content": prompt}],
                             "completion": [{"role": "assistant", "content": target}],
                             "src_lang": src, "trg_lang": trg, "task_id": identifier,
                             "source_id": doc.metadata[SOURCE_ID]})
    if not examples:
        raise TrainingDataError(f"{corpus}: no SFT examples for directions {directions!r} and languages "
                                f"{', '.join(selected) or 'none'} (corpus stats: {provenance['details']})")
    per_direction = Counter(f"{e['src_lang']}-{e['trg_lang']}" for e in examples)
    templates = ("the paper's 20 diverse templates, one per example by a hash of its task id "
                 f"(template_seed {template_seed})" if prompt_style == "diverse" else "the paper's direct template")
    provenance.update(directions=sorted(per_direction), rows=len(examples),
                      rows_per_direction=dict(sorted(per_direction.items())))
    provenance["details"].update({"duplicate (direction, source) examples dropped": duplicates, "prompts": templates})
    return datasets.Dataset.from_list(examples), provenance


def train_sft(
    dataset: str | os.PathLike,
    model: str,
    output: str | os.PathLike,
    config: SFTTrainingConfig | str | os.PathLike | None = None,
    directions: str | Iterable[str] | None = "both",
    limit: Optional[int] = None,
    peft=None,
    languages: Optional[Iterable[str]] = None,
    corpus_kind: Literal["auto", "english_centric", "multiway"] = "auto",
    split: Optional[str] = None,
) -> str:
    """SFT ``model`` (local folder or Hub id) on the corpus ``dataset`` (see ``sft_examples`` for it and
    ``directions`` / ``limit`` / ``languages`` / ``corpus_kind`` / ``split``) and save the model (or LoRA
    adapter), tokenizer, ``training_args.json`` and a card to ``output``. ``peft`` as in ``train_dpo``."""
    from loguru import logger

    from eax_data.training import preference
    from eax_data.training.reward_model import _split

    cfg = config if isinstance(config, SFTTrainingConfig) else load_sft_config(config)
    cfg = preference.with_adapter(cfg, peft)
    out = preference.check_output(output)
    data, provenance = sft_examples(dataset, directions, limit, languages, corpus_kind, split,
                                    cfg.prompt_style, cfg.template_seed)
    logger.info(f"SFT data: {provenance['path']} ({provenance['kind']}) -> {provenance['rows']} examples in "
                f"{', '.join(provenance['directions'])}")
    train, held_out = _split(data.select_columns(["prompt", "completion"]), cfg)

    from transformers import set_seed
    from trl import SFTConfig, SFTTrainer

    set_seed(cfg.seed)
    tokenizer, policy, revision = preference.load_causal_lm(preference.model_path(model), cfg.dtype)
    args, bf16 = preference.training_arguments(
        SFTConfig, cfg, out, held_out is not None,
        completion_only_loss=True,  # the loss covers the translation only, never the instruction
        packing=False,
        max_length=None,  # over-long examples are dropped below, never truncated
    )
    trainer = preference.make_trainer(SFTTrainer, policy, args, cfg, train, held_out, tokenizer)
    kept = preference.drop_long(trainer, lambda e: len(e["input_ids"]), cfg.max_length)
    rows = preference.row_counts(provenance["rows"], train, held_out, kept)
    logger.info(f"SFT of {type(policy).__name__} from {model} on {kept['train_dataset']} examples "
                f"({len(train) - kept['train_dataset']} dropped over max_length); device {args.device}, bf16={bf16}")
    return preference.train_and_save(
        trainer, args, cfg, out, model=model, revision=revision, data=provenance, rows=rows, bf16=bf16,
        title=preference.model_title("SFT", model, provenance),
        summary=("A translation model after EAX's first stage (arXiv 2509.19770): supervised fine-tuning on "
                 "English-centric human translations, each prompted with one of the paper's 20 instruction "
                 "templates, loss on the translation only. Trained with eax-data's `train sft` (trl `SFTTrainer`)."),
        trainer_name="trl SFTTrainer (completion-only loss)",
        method={"loss": "NLL of the human translation (prompt tokens masked)"},
        tags=("sft", "translation"),
    )


def _directions(directions) -> tuple[set[str], set[tuple[str, str]]]:
    """(modes among en2x/x2en, explicit (src, trg) pairs or empty) from both/en2x/x2en or SRC-TRG items."""
    from eax_data import languages as langs

    items = [directions] if directions is None or isinstance(directions, str) else list(directions)
    if len(items) == 1 and (items[0] is None or items[0] in MODES):
        mode = items[0] or "both"
        return ({"en2x", "x2en"} if mode == "both" else {mode}), set()
    wanted = set()
    for item in items:
        parts = str(item).split("-")
        try:
            if len(parts) != 2:
                raise langs.UnknownLanguageError(item)
            src, trg = langs.normalize(parts[0]), langs.normalize(parts[1])
        except langs.UnknownLanguageError:
            raise TrainingDataError(f"directions: {item!r} is neither both/en2x/x2en nor a SRC-TRG direction "
                                    "of known language codes") from None
        if langs.ENGLISH not in (src, trg) or src == trg:
            raise TrainingDataError(f"directions: {item} has no English side; SFT examples are English-centric")
        wanted.add((src, trg))
    return {"en2x" if src == langs.ENGLISH else "x2en" for src, _ in wanted}, wanted


def _read_anchored(corpus: str, kind: str, selected: tuple[str, ...], split: Optional[str], limit: Optional[int]):
    """(anchored sentence documents, provenance) read with the build's readers and AnchorSentences."""
    import itertools

    from eax_data.builders.anchors import ENGLISH_CENTRIC_FIELDS, AnchorSentences
    from eax_data.builders.readers import ROW, CorpusError, FloresReader, make_reader

    if kind not in ("auto", "english_centric", "multiway"):
        raise TrainingDataError(f"corpus kind: {kind!r} is not one of auto, english_centric, multiway")
    path = str(_demo_path()) if corpus == "demo" else corpus
    try:
        try:
            reader = make_reader(path, "auto", split or "train", None, selected)
        except CorpusError as first_error:
            if split is not None or not os.path.isdir(path):
                raise
            try:  # a FLORES folder has dev / devtest, no train split
                reader, split = make_reader(path, "auto", "dev", None, selected), "dev"
            except CorpusError:
                raise first_error from None
        rows = reader.run(None, 0, 1)
        first = next(rows, None)
        if first is None:
            raise TrainingDataError(f"{corpus}: the corpus holds no rows")
        if kind == "auto":
            row = first.metadata[ROW]
            english_centric = not isinstance(reader, FloresReader) and all(f in row for f in ENGLISH_CENTRIC_FIELDS)
            kind = "english_centric" if english_centric else "multiway"
        corpus_id = Path(corpus.removeprefix("hf:").rstrip("/")).stem or corpus
        anchors = AnchorSentences(kind, selected, corpus_id, limit=limit)
        anchored = list(anchors.run(itertools.chain([first], rows)))
    except CorpusError as err:
        raise TrainingDataError(str(err)) from None  # CorpusError messages name the file or folder
    formats = {"FloresReader": "flores", "CountingJsonlReader": "jsonl", "ParquetReader": "parquet"}
    details = {f"corpus {name.replace('_', ' ')}": stat.total for name, stat in anchors.stats.stats.items()}
    if isinstance(reader, FloresReader) or path.startswith("hf:"):
        details["split"] = split or "train"
    provenance = {"source": "corpus", "path": path if path.startswith("hf:") else str(Path(path).resolve()),
                  "kind": kind, "format": formats.get(type(reader).__name__, "hf"),
                  "content_hash": _corpus_hash(path), "details": details}
    return anchored, provenance


def _demo_path():
    from importlib import resources

    return resources.files("eax_data").joinpath("demo", "multiway.jsonl")


def _corpus_hash(path: str) -> Optional[str]:
    """Content hash of a local corpus file or of every (non-hidden) file under a folder; None for hf:."""
    from eax_data.training.datasets import content_hash

    if path.startswith("hf:") or "://" in path:
        return None
    root = Path(path).resolve()
    if root.is_file():
        return content_hash(root.parent, [root])
    files = [p for p in root.rglob("*")
             if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)]
    return content_hash(root, files)

"""The stages of a build as datatrove pipelines.

tasks       corpus -> anchored sentences -> [leakage guard] -> x2x (or reward) tasks  (one task: dedup)
pivots      tasks -> greedy en->y pivot references, only when a scorer uses them  (``execution.tasks``)
candidates  tasks -> EAxT generation -> filters -> generated/                     (``execution.tasks``)
scores      generated/ -> [pivots] -> scorers through the score cache -> candidates/
pairs       candidates/ -> pair rule -> data/<src>-<trg>/*.parquet (one task: calibration, balancing)

Generation and scoring are separate stages so a new scorer re-runs scoring only (and on GPUs the
generator and the scorer never share memory).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from pathlib import Path

from datatrove.pipeline.readers import JsonlReader, ParquetReader
from datatrove.pipeline.writers import JsonlWriter, ParquetWriter

from eax_data.builders.anchors import AnchorSentences
from eax_data.builders.contracts import check_fields
from eax_data.builders.expand import ExpandToX2X
from eax_data.builders.filters import build_candidate_filters
from eax_data.builders.generate import GenerateCandidates
from eax_data.builders.pairs import DIRECTION, BuildPairs
from eax_data.builders.pivots import PIVOT_TEMPLATE, AttachPivots, PivotRequests, pivot_row
from eax_data.builders.readers import make_reader
from eax_data.builders.reward_tasks import RewardTasks
from eax_data.builders.score import ScoreCandidates, anchor_fields, scorer_slots
from eax_data.generation.base import make_backend
from eax_data.pairs import PairRule
from eax_data.prompts import generation_template
from eax_data.recipe import Recipe, SamplingConfig
from eax_data.schema import (
    CANDIDATE_SCHEMA,
    PAIR_SCHEMA,
    PIVOT_TEXT,
    SCORE,
    SCORER,
    SCORES,
    TASK_FIELDS,
    candidate_document,
    candidate_row,
)

TASKS, PIVOTS, GENERATED, CANDIDATES = "tasks", "pivots", "generated", "candidates"
EXCLUDED, DATA, CHECKPOINTS = "excluded", "data", "checkpoints"
LEAKAGE_REPORT = "leakage.json"


def corpus_id(recipe: Recipe) -> str:
    if recipe.corpus.id:
        return recipe.corpus.id
    path = recipe.corpus.path.removeprefix("hf:").rstrip("/")
    return Path(path).stem or path


def tasks_pipeline(recipe: Recipe, out: str) -> list:
    reader = make_reader(recipe.corpus.path, recipe.corpus.format, recipe.corpus.split, recipe.corpus.config, recipe.languages)
    if recipe.mode == "reward_data":
        expand = RewardTasks(recipe.reward_data.directions, shards=recipe.execution.tasks)
    else:
        expand = ExpandToX2X(recipe.languages, shards=recipe.execution.tasks)
    steps = [
        reader,
        AnchorSentences(recipe.corpus.kind, recipe.languages, corpus_id(recipe), limit=recipe.execution.limit),
        *leakage_steps(recipe, out),
        expand,
        JsonlWriter(os.path.join(out, TASKS), output_filename="${shard}.jsonl.gz"),
    ]
    check_fields(steps)
    return steps


def leakage_steps(recipe: Recipe, out: str) -> list:
    if not recipe.leakage.testsets:
        return []
    from eax_data.builders.leakage import TestSetLeakageGuard

    return [TestSetLeakageGuard.from_config(recipe.leakage, recipe.languages, report_path=os.path.join(out, LEAKAGE_REPORT))]


def _fingerprint(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def generation_fingerprint(recipe: Recipe) -> str:
    """What makes candidates differ: generator, sampling and the generation prompt."""
    payload = {k: recipe.to_dict()[k] for k in ("generator", "sampling")}
    payload["prompt"] = {"generation": generation_template(recipe), "chat_template": recipe.prompt.chat_template}
    return _fingerprint(payload)


def pivot_sampling(recipe: Recipe) -> SamplingConfig:
    """Greedy, one sample."""
    max_new = recipe.pivot.max_new_tokens or recipe.sampling.max_new_tokens
    return SamplingConfig(n=1, temperature=0.0, top_p=1.0, max_new_tokens=max_new, seed=recipe.sampling.seed, stop=recipe.sampling.stop)


def pivot_fingerprint(recipe: Recipe) -> str:
    payload = {"generator": recipe.to_dict()["generator"], "sampling": dataclasses.asdict(pivot_sampling(recipe))}
    payload["prompt"] = {"template": PIVOT_TEMPLATE, "chat_template": recipe.prompt.chat_template}
    return _fingerprint(payload)


def scoring_fingerprint(recipe: Recipe) -> str:
    """What makes scores differ (besides the candidates): the scorer section and the mode."""
    return _fingerprint({"scorer": recipe.to_dict()["scorer"], "mode": recipe.mode})


def needs_pivots(recipe: Recipe) -> bool:
    return any(leaf.reference == "pivot" for leaf in recipe.scorer.leaves())


def _pivot_adapter(self, document) -> dict:
    return pivot_row(document)


def _candidate_adapter(self, document) -> dict:
    return candidate_row(document)


def _excluded_writer(out: str, group: str):
    return ParquetWriter(
        os.path.join(out, EXCLUDED, group), output_filename="${rank}.parquet", schema=CANDIDATE_SCHEMA, adapter=_candidate_adapter
    )


def pivots_pipeline(recipe: Recipe, out: str, total_tasks: int | None = None) -> list:
    steps = [
        JsonlReader(os.path.join(out, TASKS)),
        PivotRequests(),
        GenerateCandidates(
            backend_factory=functools.partial(make_backend, recipe.generator, recipe.prompt.chat_template),
            sampling=pivot_sampling(recipe),
            prompt_template=PIVOT_TEMPLATE,
            checkpoint_dir=os.path.join(out, CHECKPOINTS, PIVOTS),
            fingerprint=pivot_fingerprint(recipe),
            chunk_size=recipe.execution.chunk_size,
            total_tasks=None,
            label="pivots",
        ),
        JsonlWriter(os.path.join(out, PIVOTS), output_filename="${rank}.jsonl.gz", adapter=_pivot_adapter),
    ]
    check_fields(steps, provided=TASK_FIELDS)
    return steps


def candidates_pipeline(recipe: Recipe, out: str, total_tasks: int | None = None) -> list:
    """Generation and filters -> generated/ (unscored candidates)."""
    exclusion = functools.partial(_excluded_writer, out) if recipe.filters.keep_excluded else None
    steps = [
        JsonlReader(os.path.join(out, TASKS)),
        GenerateCandidates(
            backend_factory=functools.partial(make_backend, recipe.generator, recipe.prompt.chat_template),
            sampling=recipe.sampling,
            prompt_template=generation_template(recipe),
            checkpoint_dir=os.path.join(out, CHECKPOINTS),
            fingerprint=generation_fingerprint(recipe),
            chunk_size=recipe.execution.chunk_size,
            total_tasks=total_tasks if recipe.execution.tasks == 1 else None,
        ),
        *build_candidate_filters(recipe.filters, exclusion),
        ParquetWriter(os.path.join(out, GENERATED), output_filename="${rank}.parquet", schema=CANDIDATE_SCHEMA, adapter=_candidate_adapter),
    ]
    check_fields(steps, provided=TASK_FIELDS)
    return steps


def scores_pipeline(recipe: Recipe, out: str, cache_path: str | None = None) -> list:
    """generated/ -> scores (cached) -> candidates/."""
    anchor_field, anchor_lang_field = anchor_fields(recipe.mode)
    steps = [
        ParquetReader(os.path.join(out, GENERATED), adapter=_candidate_reader_adapter),
        *([AttachPivots(os.path.join(out, PIVOTS))] if needs_pivots(recipe) else []),
        ScoreCandidates(
            scorer_slots(recipe.scorer),
            batch_size=recipe.scorer.batch_size,
            anchor_field=anchor_field,
            anchor_lang_field=anchor_lang_field,
            cache_path=cache_path,
        ),
        ParquetWriter(os.path.join(out, CANDIDATES), output_filename="${rank}.parquet", schema=CANDIDATE_SCHEMA, adapter=_candidate_adapter),
    ]
    check_fields(steps, provided=[*TASK_FIELDS, *(n for n in CANDIDATE_SCHEMA.names if n not in (PIVOT_TEXT, SCORES, SCORE, SCORER))])
    return steps


def _candidate_reader_adapter(self, data: dict, path: str, id_in_file) -> dict:
    document = candidate_document(data)
    return {"text": document.text or " ", "id": document.id, "metadata": document.metadata}


def _pair_adapter(self, document) -> dict:
    return {name: document.metadata.get(name) for name in PAIR_SCHEMA.names}


def pairs_pipeline(recipe: Recipe, out: str, percentiles=None, combiner=None) -> list:
    pairs = recipe.pairs
    steps = [
        ParquetReader(os.path.join(out, CANDIDATES), adapter=_candidate_reader_adapter),
        BuildPairs(
            PairRule(pairs.min_margin, pairs.min_winner_score, pairs.valid_score_range),
            prompt_style=recipe.prompt.training,
            template_seed=recipe.prompt.template_seed,
            percentiles=percentiles,
            max_per_direction=pairs.max_per_direction,
            combiner=combiner,
            min_margin_quantile=pairs.min_margin_quantile,
            direction_temperature=pairs.direction_temperature,
            total_pairs=pairs.total_pairs,
        ),
        ParquetWriter(out, output_filename=f"{DATA}/${{{DIRECTION}}}/train-${{rank}}.parquet", schema=PAIR_SCHEMA, adapter=_pair_adapter),
    ]
    check_fields(steps, provided=[*TASK_FIELDS, *CANDIDATE_SCHEMA.names])
    return steps

"""The three stages of a build as datatrove pipelines: tasks, candidates, pairs.

tasks       corpus -> anchored sentences -> x2x tasks            (one task: global dedup)
candidates  tasks -> EAxT generation -> filters -> EAxE scoring  (``execution.tasks`` shards)
pairs       candidates -> pair rule -> data/<src>-<trg>/*.parquet (one task: caps, percentiles)
"""

from __future__ import annotations

import functools
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
from eax_data.builders.readers import make_reader
from eax_data.builders.score import ScoreCandidates
from eax_data.generation.base import make_backend
from eax_data.pairs import PairRule
from eax_data.recipe import Recipe
from eax_data.schema import CANDIDATE_SCHEMA, PAIR_SCHEMA, TASK_FIELDS, candidate_document, candidate_row
from eax_data.scoring.embedding import make_scorer

TASKS, CANDIDATES, EXCLUDED, DATA, CHECKPOINTS = "tasks", "candidates", "excluded", "data", "checkpoints"


def corpus_id(recipe: Recipe) -> str:
    if recipe.corpus.id:
        return recipe.corpus.id
    path = recipe.corpus.path.removeprefix("hf:").rstrip("/")
    return Path(path).stem or path


def tasks_pipeline(recipe: Recipe, out: str) -> list:
    reader = make_reader(recipe.corpus.path, recipe.corpus.format, recipe.corpus.split, recipe.corpus.config, recipe.languages)
    steps = [
        reader,
        AnchorSentences(recipe.corpus.kind, recipe.languages, corpus_id(recipe), limit=recipe.execution.limit),
        ExpandToX2X(recipe.languages, shards=recipe.execution.tasks),
        JsonlWriter(os.path.join(out, TASKS), output_filename="${shard}.jsonl.gz"),
    ]
    check_fields(steps)
    return steps


def generation_fingerprint(recipe: Recipe) -> str:
    """What makes candidates differ: generator, sampling and the generation prompt."""
    import hashlib
    import json

    payload = {k: recipe.to_dict()[k] for k in ("generator", "sampling")}
    payload["prompt"] = {"generation": recipe.prompt.generation, "chat_template": recipe.prompt.chat_template}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _candidate_adapter(self, document) -> dict:
    return candidate_row(document)


def _excluded_writer(out: str, group: str):
    return ParquetWriter(
        os.path.join(out, EXCLUDED, group), output_filename="${rank}.parquet", schema=CANDIDATE_SCHEMA, adapter=_candidate_adapter
    )


def candidates_pipeline(recipe: Recipe, out: str, total_tasks: int | None = None) -> list:
    exclusion = functools.partial(_excluded_writer, out) if recipe.filters.keep_excluded else None
    steps = [
        JsonlReader(os.path.join(out, TASKS)),
        GenerateCandidates(
            backend_factory=functools.partial(make_backend, recipe.generator, recipe.prompt.chat_template),
            sampling=recipe.sampling,
            prompt_template=recipe.prompt.generation,
            checkpoint_dir=os.path.join(out, CHECKPOINTS),
            fingerprint=generation_fingerprint(recipe),
            chunk_size=recipe.execution.chunk_size,
            total_tasks=total_tasks if recipe.execution.tasks == 1 else None,
        ),
        *build_candidate_filters(recipe.filters, exclusion),
        ScoreCandidates(make_scorer(recipe.scorer), batch_size=recipe.scorer.batch_size),
        ParquetWriter(os.path.join(out, CANDIDATES), output_filename="${rank}.parquet", schema=CANDIDATE_SCHEMA, adapter=_candidate_adapter),
    ]
    check_fields(steps, provided=TASK_FIELDS)
    return steps


def _candidate_reader_adapter(self, data: dict, path: str, id_in_file) -> dict:
    document = candidate_document(data)
    return {"text": document.text or " ", "id": document.id, "metadata": document.metadata}


def _pair_adapter(self, document) -> dict:
    return {name: document.metadata.get(name) for name in PAIR_SCHEMA.names}


def pairs_pipeline(recipe: Recipe, out: str, percentiles=None) -> list:
    pairs = recipe.pairs
    steps = [
        ParquetReader(os.path.join(out, CANDIDATES), adapter=_candidate_reader_adapter),
        BuildPairs(
            PairRule(pairs.min_margin, pairs.min_winner_score, pairs.valid_score_range),
            prompt_style=recipe.prompt.training,
            template_seed=recipe.prompt.template_seed,
            percentiles=percentiles,
            max_per_direction=pairs.max_per_direction,
        ),
        ParquetWriter(out, output_filename=f"{DATA}/${{{DIRECTION}}}/train-${{rank}}.parquet", schema=PAIR_SCHEMA, adapter=_pair_adapter),
    ]
    check_fields(steps, provided=[*TASK_FIELDS, *CANDIDATE_SCHEMA.names])
    return steps

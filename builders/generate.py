"""EAxT generation: each task -> N candidate documents, in checkpointed chunks.

Guarantees kept from datatrove's InferenceRunner without its server round-trip (see
``eax_data.generation.hf_transformers`` for why): tasks are processed in fixed chunks; a finished
chunk is written atomically to ``checkpoint_dir/<rank>/chunk-<i>.jsonl`` and, when a killed build
is re-run, read back instead of generated again. Seeds derive from the recipe seed and the task
id, so the same recipe gives the same candidates.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.utils.batching import batched
from loguru import logger

from eax_data.generation.base import GenerationBackend, task_seed
from eax_data.prompts import clean_output, generation_prompt
from eax_data.recipe import SamplingConfig
from eax_data.schema import (
    CANDIDATE_INDEX,
    FINISH_REASON,
    GENERATOR,
    REF_LANG,
    REF_TEXT,
    SOURCE_ID,
    SRC_LANG,
    SRC_TEXT,
    TASK_ID,
    TRG_LANG,
)


PROGRESS_EVERY_S = 20.0


class CheckpointMismatchError(RuntimeError):
    pass


class GenerateCandidates(PipelineStep):
    name = "🧪 EAxT generation"
    type = "🤖 - GENERATOR"
    reads = (SRC_LANG, TRG_LANG, REF_LANG, REF_TEXT, SOURCE_ID)
    writes = (TASK_ID, SRC_TEXT, CANDIDATE_INDEX, FINISH_REASON, GENERATOR)

    def __init__(
        self,
        backend_factory: Callable[[], GenerationBackend],
        sampling: SamplingConfig,
        prompt_template: str,
        checkpoint_dir: str,
        fingerprint: str,
        chunk_size: int = 64,
        total_tasks: int | None = None,
        label: str = "generation",
    ):
        super().__init__()
        self.backend_factory = backend_factory
        self.sampling = sampling
        self.prompt_template = prompt_template
        self.checkpoint_dir = checkpoint_dir
        self.fingerprint = fingerprint  # of everything that changes the candidates
        self.chunk_size = chunk_size
        self.total_tasks = total_tasks
        self.label = label  # names the work in progress lines ("generation", "pivots")
        self._backend: GenerationBackend | None = None
        self._last_progress = float("-inf")

    # -- checkpoints ----------------------------------------------------------------------------

    def _rank_dir(self, rank: int) -> str:
        folder = os.path.join(self.checkpoint_dir, f"{rank:05d}")
        os.makedirs(folder, exist_ok=True)
        marker = os.path.join(folder, "FINGERPRINT")
        if os.path.exists(marker):
            with open(marker) as handle:
                found = handle.read().strip()
            if found != self.fingerprint:
                raise CheckpointMismatchError(
                    f"{folder} holds candidates of a different generator/sampling/prompt setup "
                    f"({found} != {self.fingerprint}); use another --output folder or delete {self.checkpoint_dir}"
                )
        else:
            with open(marker, "w") as handle:
                handle.write(self.fingerprint)
        return folder

    @staticmethod
    def _write_chunk(path: str, rows: list[dict]) -> None:
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(tmp, path)  # atomic: a chunk file is either complete or absent

    @staticmethod
    def _read_chunk(path: str) -> list[dict]:
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle]

    # -- generation -----------------------------------------------------------------------------

    @property
    def backend(self) -> GenerationBackend:
        if self._backend is None:
            self._backend = self.backend_factory()
        return self._backend

    def _generate_chunk(self, tasks: list[Document]) -> list[dict]:
        messages = [
            generation_prompt(
                self.prompt_template, t.metadata[SRC_LANG], t.metadata[TRG_LANG], t.metadata[REF_LANG], t.text, t.metadata[REF_TEXT]
            )
            for t in tasks
        ]
        seeds = [task_seed(self.sampling.seed, t.id) for t in tasks]
        completions = self.backend.generate(messages, self.sampling, seeds)
        rows = []
        for task, samples in zip(tasks, completions):
            for index, completion in enumerate(samples):
                rows.append(
                    {
                        "id": f"{task.id}/{index}",
                        "text": clean_output(completion.text, self.sampling.stop),
                        "metadata": {
                            **task.metadata,
                            TASK_ID: task.id,
                            SRC_TEXT: task.text,
                            CANDIDATE_INDEX: index,
                            FINISH_REASON: completion.finish_reason,
                            GENERATOR: self.backend.id,
                        },
                    }
                )
        return rows

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        folder = self._rank_dir(rank)
        done_tasks, started = 0, time.monotonic()
        generated_tasks = 0
        try:
            for chunk_index, tasks in enumerate(batched(data, self.chunk_size)):
                path = os.path.join(folder, f"chunk-{chunk_index:06d}.jsonl")
                if os.path.exists(path):
                    rows = self._read_chunk(path)
                    self.stat_update("resumed_tasks", value=len(tasks))
                else:
                    with self.track_time(unit="chunk"):
                        rows = self._generate_chunk(tasks)
                    self._write_chunk(path, rows)
                    generated_tasks += len(tasks)
                    self.stat_update("generated_tasks", value=len(tasks))
                    self.stat_update("candidates_generated", value=len(rows))
                done_tasks += len(tasks)
                self._log_progress(rank, done_tasks, generated_tasks, started)
                for reason, count in Counter(row["metadata"].get(FINISH_REASON) for row in rows).items():
                    self.stat_update(f"finish_{reason}", value=count)
                for row in rows:
                    yield Document(text=row["text"], id=row["id"], metadata=row["metadata"])
        finally:
            if self._backend is not None:
                self._backend.close()
                self._backend = None

    def _log_progress(self, rank: int, done: int, generated: int, started: float) -> None:
        """One line every ``PROGRESS_EVERY_S`` seconds (and at the last task), not one per chunk."""
        now = time.monotonic()
        last_task = self.total_tasks is not None and done >= self.total_tasks
        if now - self._last_progress < PROGRESS_EVERY_S and not last_task:
            return
        self._last_progress = now
        elapsed = now - started
        total = f"/{self.total_tasks}" if self.total_tasks else ""
        rate = generated / elapsed * 60 if elapsed > 0 and generated else 0.0
        eta = ""
        if self.total_tasks and rate:
            eta = f", about {(self.total_tasks - done) / rate:.1f} min left"
        logger.info(f"[rank {rank}] {self.label}: {done}{total} tasks done ({rate:.0f} tasks/min{eta})")

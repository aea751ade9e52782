"""Candidates -> preference pairs in trl's conversational format, per task and per direction."""

from __future__ import annotations

import heapq
from itertools import groupby

import numpy as np
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from eax_data.pairs import PairRule, ScoredCandidate, percentile_scale
from eax_data.prompts import training_prompt
from eax_data.schema import (
    CANDIDATE_INDEX,
    GENERATOR,
    REF_LANG,
    REF_TEXT,
    SCORE,
    SCORER,
    SOURCE_ID,
    SRC_LANG,
    SRC_TEXT,
    TASK_ID,
    TRG_LANG,
    direction,
)

DIRECTION = "direction"  # metadata key the pair writer uses for data/<direction>/


class BuildPairs(PipelineStep):
    """Group consecutive candidates by task, apply the pair rule, emit one pair document per task.

    ``percentiles`` maps a direction to the sorted scores of all its candidates (read beforehand,
    see ``pipelines.build``); with it, scores are percentile-scaled before the rule applies.
    ``max_per_direction`` keeps the largest margins (ties: lower task id) and delays output to the end.
    """

    name = "⚖️ Build pairs"
    type = "🔢 - PROCESS"
    reads = (TASK_ID, SRC_LANG, TRG_LANG, REF_TEXT, SRC_TEXT, CANDIDATE_INDEX, SCORE, SCORER)
    writes = (DIRECTION,)

    def __init__(
        self,
        rule: PairRule,
        prompt_style: str = "direct",
        template_seed: int = 0,
        percentiles: dict[str, np.ndarray] | None = None,
        max_per_direction: int | None = None,
    ):
        super().__init__()
        self.rule = rule
        self.prompt_style = prompt_style
        self.template_seed = template_seed
        self.percentiles = percentiles
        self.max_per_direction = max_per_direction

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        kept: dict[str, list] = {}
        for task, group in groupby(data, key=lambda d: d.metadata[TASK_ID]):
            candidates = list(group)
            self.stat_update("tasks")
            pair_doc = self._pair(candidates)
            if pair_doc is None:
                self.stat_update("dropped_no_pair" if len(candidates) > 1 else "dropped_single_candidate")
                continue
            if self.max_per_direction is None:
                self.stat_update("pairs")
                yield pair_doc
                continue
            heap = kept.setdefault(pair_doc.metadata[DIRECTION], [])
            key = (pair_doc.metadata["margin"], _Reverse(pair_doc.id))
            if len(heap) < self.max_per_direction:
                heapq.heappush(heap, (key, pair_doc))
            else:
                self.stat_update("dropped_direction_cap")
                heapq.heappushpop(heap, (key, pair_doc))
        for name in sorted(kept):
            for _, pair_doc in sorted(kept[name], key=lambda item: item[1].id):
                self.stat_update("pairs")
                yield pair_doc

    def _pair(self, candidates: list[Document]) -> Document | None:
        meta = candidates[0].metadata
        name = direction(meta[SRC_LANG], meta[TRG_LANG])
        raw = np.array([c.metadata[SCORE] for c in candidates], dtype=float)
        scores = percentile_scale(raw, self.percentiles.get(name, np.sort(raw))) if self.percentiles is not None else raw
        scored = [ScoredCandidate(c.metadata[CANDIDATE_INDEX], c.text, float(s)) for c, s in zip(candidates, scores)]
        pair = self.rule.select(scored)
        if pair is None:
            return None
        prompt = training_prompt(self.prompt_style, meta[SRC_LANG], meta[TRG_LANG], meta[SRC_TEXT], meta[TASK_ID], self.template_seed)
        row = {
            "prompt": [{"role": "user", "content": prompt}],
            "chosen": [{"role": "assistant", "content": pair.chosen.text}],
            "rejected": [{"role": "assistant", "content": pair.rejected.text}],
            SRC_LANG: meta[SRC_LANG],
            TRG_LANG: meta[TRG_LANG],
            REF_LANG: meta.get(REF_LANG, "en"),
            SRC_TEXT: meta[SRC_TEXT],
            REF_TEXT: meta[REF_TEXT],
            "chosen_score": pair.chosen.score,
            "rejected_score": pair.rejected.score,
            "margin": pair.margin,
            TASK_ID: meta[TASK_ID],
            SOURCE_ID: meta.get(SOURCE_ID),
            GENERATOR: meta.get(GENERATOR),
            SCORER: meta.get(SCORER),
        }
        return Document(text=pair.chosen.text, id=meta[TASK_ID], metadata={**row, DIRECTION: name})


class _Reverse:
    """Orders task ids descending inside the min-heap, so among equal margins the lower id is kept."""

    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def __lt__(self, other: "_Reverse") -> bool:
        return self.value > other.value

    def __eq__(self, other) -> bool:
        return self.value == other.value

"""Candidates -> preference pairs in trl's conversational format, per task and per direction."""

from __future__ import annotations

from itertools import groupby

import numpy as np
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from eax_data.pairs import PairRule, ScoredCandidate, direction_quotas, percentile_scale
from eax_data.prompts import training_prompt
from eax_data.schema import (
    CANDIDATE_INDEX,
    GENERATOR,
    REF_LANG,
    REF_TEXT,
    SCORE,
    SCORER,
    SCORES,
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

    Candidate scores: ``score``, or - for ensembles - ``combiner(direction, scores)`` (see
    ``eax_data.scoring.combine``). ``percentiles`` maps a direction to the sorted final scores of all
    its candidates (read beforehand, see ``pipelines.build``); with it, scores are percentile-scaled
    before the rule applies. Per-direction selection - ``min_margin_quantile``, then balancing by
    ``max_per_direction`` and/or ``direction_temperature`` - keeps the largest margins (ties: lower
    task id) and delays output to the end.
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
        combiner=None,
        min_margin_quantile: float | None = None,
        direction_temperature: float | None = None,
        total_pairs: int | None = None,
    ):
        super().__init__()
        self.rule = rule
        self.prompt_style = prompt_style
        self.template_seed = template_seed
        self.percentiles = percentiles
        self.max_per_direction = max_per_direction
        self.combiner = combiner
        self.min_margin_quantile = min_margin_quantile
        self.direction_temperature = direction_temperature
        self.total_pairs = total_pairs

    @property
    def _selects(self) -> bool:
        return any(v is not None for v in (self.max_per_direction, self.min_margin_quantile, self.direction_temperature))

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        kept: dict[str, list] = {}
        for task, group in groupby(data, key=lambda d: d.metadata[TASK_ID]):
            candidates = list(group)
            self.stat_update("tasks")
            pair_doc = self._pair(candidates)
            if pair_doc is None:
                self.stat_update("dropped_no_pair" if len(candidates) > 1 else "dropped_single_candidate")
                continue
            if not self._selects:
                self._count(pair_doc)
                yield pair_doc
                continue
            kept.setdefault(pair_doc.metadata[DIRECTION], []).append(pair_doc)
        if self._selects:
            yield from self._select(kept)

    def _count(self, pair_doc: Document) -> None:
        self.stat_update("pairs")
        self.stat_update(f"pairs_{pair_doc.metadata[DIRECTION]}")

    def _select(self, kept: dict[str, list]):
        """Per-direction margin quantile, then balancing; output sorted by direction and task id."""
        for name, docs in kept.items():
            self.stat_update(f"pairs_before_selection_{name}", value=len(docs))
            docs.sort(key=lambda d: (-d.metadata["margin"], d.id))  # best first, ties: lower task id
            if self.min_margin_quantile is not None and docs:
                threshold = float(np.quantile([d.metadata["margin"] for d in docs], self.min_margin_quantile))
                passing = [d for d in docs if d.metadata["margin"] >= threshold]
                self.stat_update("dropped_margin_quantile", value=len(docs) - len(passing))
                kept[name] = passing
        quotas = direction_quotas({n: len(d) for n, d in kept.items()}, self.max_per_direction, self.direction_temperature, self.total_pairs)
        for name in sorted(kept):
            chosen = kept[name][: quotas[name]]
            dropped = len(kept[name]) - len(chosen)
            if dropped:
                self.stat_update("dropped_direction_cap" if self.direction_temperature is None else "dropped_direction_balance", value=dropped)
            for pair_doc in sorted(chosen, key=lambda d: d.id):
                self._count(pair_doc)
                yield pair_doc

    def _pair(self, candidates: list[Document]) -> Document | None:
        meta = candidates[0].metadata
        name = direction(meta[SRC_LANG], meta[TRG_LANG])
        if self.combiner is not None:
            raw = np.array([self.combiner(name, c.metadata[SCORES]) for c in candidates], dtype=float)
        else:
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

"""EAxE scoring step: writes each candidate's quality estimate against its English anchor.

The step is scorer-agnostic (any ``eax_data.scoring.base.Scorer``); it only batches documents,
hands the scorer (anchor, candidate) pairs plus the optional source text and target language, and
writes ``score`` and ``scorer`` into the metadata. Documents come out in the order they went in.
"""

from __future__ import annotations

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.utils.batching import batched

from eax_data.schema import REF_TEXT, SCORE, SCORER, SRC_TEXT, TRG_LANG


class ScoreCandidates(PipelineStep):
    """Score candidate documents with ``scorer``, ``batch_size`` documents per scorer call."""

    name = "EAxE scorer"
    type = "📊 - SCORER"
    reads = (REF_TEXT,)
    writes = (SCORE, SCORER)

    def __init__(self, scorer, batch_size: int = 64):
        super().__init__()
        if batch_size < 1:
            raise ValueError("ScoreCandidates: batch_size must be >= 1")
        if not callable(getattr(scorer, "score", None)):
            raise TypeError(f"ScoreCandidates: {scorer!r} is not a Scorer (no score method)")
        self.scorer = scorer
        self.batch_size = batch_size

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data is None:
            return
        scorer_id = self.scorer.id
        for batch in batched(data, self.batch_size):
            anchors = []
            for doc in batch:
                anchor = doc.metadata.get(REF_TEXT)
                if not isinstance(anchor, str):
                    raise KeyError(f"{self.name}: document {doc.id!r} has no {REF_TEXT!r} (the English anchor)")
                anchors.append(anchor)
            # Optional context for scorers that use it: passed only when every document has it.
            sources = _column(batch, SRC_TEXT)
            target_langs = _column(batch, TRG_LANG)
            with self.track_time(unit="batch"):
                scores = self.scorer.score(
                    anchors, [doc.text for doc in batch], sources=sources, target_langs=target_langs
                )
            self.stat_update("batches")
            for doc, score in zip(batch, scores, strict=True):
                doc.metadata[SCORE] = float(score)
                doc.metadata[SCORER] = scorer_id
                self.stat_update("scored")
                yield doc


def _column(batch, key: str) -> list[str] | None:
    values = [doc.metadata.get(key) for doc in batch]
    return values if all(isinstance(v, str) for v in values) else None

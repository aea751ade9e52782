"""The language registry: lookups by ISO code, FLORES code and alias; x2x directions."""

import pytest

from eax_data import languages


@pytest.mark.parametrize(
    "spelling, code",
    [
        ("de", "de"),
        ("deu_Latn", "de"),
        ("zho_Hans", "zh"),
        ("zho_Hant", "zh"),
        ("cmn_Hans", "zh"),
        ("zh-cn", "zh"),
        ("ZH-CN", "zh"),
        ("zh_cn", "zh"),
        ("eng", "en"),
        ("eng_Latn", "en"),
        ("  fr  ", "fr"),
        ("FR", "fr"),
        ("kor_Hang", "ko"),
        ("arb_Arab", "ar"),
    ],
)
def test_normalize_accepts_iso_flores_and_aliases(spelling, code):
    assert languages.normalize(spelling) == code


def test_get_returns_the_full_record_both_ways():
    german = languages.get("de")
    assert (german.code, german.name, german.flores, german.script) == ("de", "German", "deu_Latn", "Latn")
    assert languages.get("deu_Latn") is german
    assert languages.get("rus_Cyrl").code == "ru"
    for code, lang in languages.BY_CODE.items():
        assert languages.get(lang.flores).code == code
        assert languages.BY_FLORES[lang.flores] is lang


def test_name_is_the_english_name_used_in_prompts():
    assert languages.name("de") == "German"
    assert languages.name("zho_Hans") == "Chinese"
    assert languages.name("en") == "English"
    assert languages.name("ko") == "Korean"


def test_unknown_code_error_lists_known_codes():
    with pytest.raises(languages.UnknownLanguageError) as info:
        languages.get("xx")
    message = str(info.value)
    assert "'xx'" in message
    known = message.split("known: ", 1)[1]
    assert known.split(", ") == sorted(languages.BY_CODE)
    with pytest.raises(ValueError):  # UnknownLanguageError is a ValueError
        languages.normalize("klingon")


def test_x2x_directions_for_the_paper_languages():
    assert len(languages.PAPER_LANGUAGES) == 10 and "en" in languages.PAPER_LANGUAGES
    directions = languages.x2x_directions(list(languages.PAPER_LANGUAGES))
    assert len(directions) == 9 * 8 == 72
    assert len(set(directions)) == 72
    assert all(src != trg for src, trg in directions)
    assert all("en" not in (src, trg) for src, trg in directions)
    assert ("de", "zh") in directions and ("zh", "de") in directions


def test_x2x_directions_is_n_times_n_minus_one_in_order():
    assert languages.x2x_directions(["de", "fr", "zh"]) == [
        ("de", "fr"),
        ("de", "zh"),
        ("fr", "de"),
        ("fr", "zh"),
        ("zh", "de"),
        ("zh", "fr"),
    ]
    assert languages.x2x_directions(["en", "de"]) == []
    assert len(languages.x2x_directions(["en", "de", "fr", "es", "zh"])) == 12

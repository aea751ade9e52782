"""The pure measures behind the content filters: tokens, copied spans, scripts, sentences, repetition, brackets, numbers."""

import pytest

from eax_data.builders import text_checks as tc

ANCHOR = "The train from Munich to Vienna leaves at 7:45 and takes about four hours."


def test_tokens_split_cjk_characters_and_digits_and_keep_apostrophes():
    assert tc.tokens("Ajoutez l'eau à 7:45.") == ["Ajoutez", "l'eau", "à", "7", "45"]
    assert tc.tokens("火车7点45分出发") == ["火", "车", "7", "点", "45", "分", "出", "发"]
    assert tc.tokens("пол-литра молока") == ["пол-литра", "молока"]
    assert tc.tokens("हिन्दी भाषा") == ["हिन्दी", "भाषा"]  # vowel signs stay inside the word
    assert tc.tokens("Ｔｏｋｙｏ") == ["Tokyo"]  # NFKC


def test_copied_share_counts_untranslated_spans_but_not_names_and_numbers():
    index = tc.SpanIndex(ANCHOR, 4)
    half_english = "Der Zug von Munich to Vienna leaves at 7:45 und braucht vier Stunden."
    assert tc.copied_share(half_english, index) > 0.3
    assert tc.copied_share("Der Zug von München nach Wien fährt um 7:45 Uhr ab und braucht etwa vier Stunden.", index) == 0
    # names kept by humans: a shared span needs two tokens that are neither capitalised nor numbers
    york = tc.SpanIndex("She has lived in New York City since 2010.", 4)
    assert tc.copied_share("Sie wohnt seit 2010 in New York City.", york) == 0
    assert tc.copied_share("", index) == 0.0
    with pytest.raises(ValueError, match="k >= 2"):
        tc.SpanIndex(ANCHOR, 1)


def test_copied_share_compares_han_runs_by_twice_as_many_characters():
    source = "从慕尼黑开往维也纳的火车7点45分出发，全程大约需要四个小时。"
    index = tc.SpanIndex(source, 4)
    assert tc.copied_share("火车从慕尼黑开往维也纳", tc.SpanIndex(source, 4)) > 0.5  # 10 shared characters
    assert tc.copied_share("我们的火车出发了", index) == 0  # a few shared words are vocabulary


def test_script_share_ignores_digits_and_punctuation_and_weights_han():
    han = frozenset({"Hani"})
    assert tc.script_share("光从太阳传播到地球大约需要八分钟。", han) == 1.0
    assert tc.script_share("1989 — 2024!", han) is None  # no letters at all
    assert tc.script_share("我用iPhone拍了一张照片。", han) == pytest.approx(0.8)  # 8 Han x 3 vs 6 Latin
    assert tc.script_share("Поезд leaves at 7:45.", frozenset({"Cyrl"})) == pytest.approx(5 / 13)
    assert tc.char_script("ё") == "Cyrl" and tc.char_script("ß") == "Latn" and tc.char_script("ア") == "Kana"
    assert tc.char_script("7") is None


def test_split_sentences_latin_abbreviations_initials_and_german_ordinals():
    text = "Dr. Müller kam am 9. November 1989 an. Er war müde! Dann ging er um 10 p.m. nach Hause. «Oui.» Non."
    assert tc.split_sentences(text, ordinal_period=True) == [
        "Dr. Müller kam am 9. November 1989 an.",
        "Er war müde!",
        "Dann ging er um 10 p.m. nach Hause.",
        "«Oui.»",
        "Non.",
    ]
    # without ordinals, a number ends a sentence ("3 à 1. La ...")
    assert tc.split_sentences("Elle a gagné 3 à 1. La foule a crié.") == ["Elle a gagné 3 à 1.", "La foule a crié."]
    assert tc.split_sentences("J. K. Rowling wrote it, etc. and more.") == ["J. K. Rowling wrote it, etc. and more."]
    assert tc.split_sentences("First line\nsecond line") == ["First line", "second line"]


def test_split_sentences_cjk_and_arabic_terminators():
    assert tc.split_sentences("他来了。她走了！“好吗？”他问。") == ["他来了。", "她走了！", "“好吗？”", "他问。"]
    assert tc.split_sentences("هل أنت بخير؟ نعم أنا بخير.") == ["هل أنت بخير؟", "نعم أنا بخير."]
    assert tc.split_sentences("   ") == []


def test_repetition_measures():
    assert tc.longest_repeat_run("c'est déjà déjà déjà fini".split()) == (3, 1)
    assert tc.longest_repeat_run(list("会议改到了星期四")) == (1, 1)
    assert tc.longest_repeat_run("a b c a b c a b c".split()) == (3, 3)
    words = "the cat sat on the mat the cat sat on the mat".split()
    assert tc.duplicate_ngram_fraction(words, 5) == pytest.approx(len("thecatsatonthe") / len("".join(words)))
    assert tc.duplicate_ngram_fraction("il a dit oui puis il a dit non".split(), 5) == 0.0
    assert tc.duplicate_ngram_fraction(["a"], 5) == 0.0
    loop = "Das ist gut. " * 40
    assert tc.compression_ratio(loop) < 0.1 < tc.compression_ratio(ANCHOR)


def test_is_balanced_accepts_every_quote_convention():
    for text in ['Sie sagte „Ja“.', "Il a dit « oui ».", "Он сказал «да».", "入口处写着“请勿拍照”。", 'He said "yes" (twice).', "新桥（去年通车）"]:
        assert tc.is_balanced(text), text
    for text in ["Il a dit « oui.", "The bridge (which opened", 'He said "yes.', "新桥（去年通车", "a ) b ("]:
        assert not tc.is_balanced(text), text
    assert tc.ends_like_a_sentence("Fertig.") and tc.ends_like_a_sentence("«Fertig !»") and tc.ends_like_a_sentence("完了。")
    assert not tc.ends_like_a_sentence("Der Zug fährt um") and not tc.ends_like_a_sentence("und dann,")


def values(text, **kwargs):
    return sorted(min(v) for v in tc.numbers(text, **kwargs))


def test_numbers_are_compared_as_values_not_formats():
    for text in ["7:45", "7.45", "7 h 45", "7h45", "7点45分", "七点四十五分"]:
        assert values(text) == [7, 45], text
    for text in ["1,200", "1.200", "1 200", "1\u202f200", "1200", "一千二百"]:
        assert values(text) == [1200], text
    assert values("2.5") == values("2,5") == [2, 5]
    assert values("1989年11月9日") == [9, 11, 1989]
    assert 30000 in values("3万人") and values("成千上万") == [1000]  # a lone 万 is no number
    assert values("in 1989 250 people") == [250, 1989]  # a 4-digit group is no thousands group
    assert tc.numbers("until 10 p.m.") == [frozenset({10, 22})]
    assert values("siglo XXI", roman=True) == [21] and values("siglo XXI") == []
    assert values("٣ كتب") == [3]
    assert tc.cjk_numeral_value("二十八") == 28 and tc.cjk_numeral_value("一九八九") == 1989

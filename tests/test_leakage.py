"""Test-set index: normalisation, exact / near matching (words and characters), reading test sets."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from eax_data.leakage import Leak, LeakageError, TestSetIndex, leakage_report, normalize, read_testset, tokenize

EN = [
    "The new bridge over the river will open to traffic next spring after three years of construction work.",
    "Researchers at the marine institute counted more than two hundred whales along the northern coast last summer.",
]
DE = [
    "Die neue Brücke über den Fluss wird nach drei Jahren Bauzeit im nächsten Frühjahr für den Verkehr freigegeben.",
    "Forscher des Meeresinstituts zählten im vergangenen Sommer mehr als zweihundert Wale entlang der Nordküste.",
]
ZH = ["这座横跨河流的新桥经过三年的施工，将于明年春天通车。", "海洋研究所的研究人员去年夏天在北部海岸统计到两百多头鲸鱼。"]
FR = ["Le nouveau pont sur la rivière ouvrira à la circulation au printemps prochain.", "Des chercheurs ont compté plus de deux cents baleines."]


def index_of(*sentences, ngram=8, min_overlap=0.5):
    index = TestSetIndex(ngram, min_overlap)
    for number, sentence in enumerate(sentences, start=1):
        index.add(sentence, f"test:{number}")
    return index.freeze()


def flores_folder(root, layout="nested"):
    """FLORES-style test folder: devtest under ``devtest/`` (or flat), one flat dev file pair."""
    devtest = root / "devtest" if layout == "nested" else root
    devtest.mkdir(parents=True, exist_ok=True)
    for code, lines in (("eng_Latn", EN), ("deu_Latn", DE), ("zho_Hans", ZH), ("fra_Latn", FR)):
        (devtest / f"{code}.devtest").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "eng_Latn.dev").write_text("Dev sentences are indexed too, since people tune their systems on them.\n", encoding="utf-8")
    (root / "deu_Latn.dev").write_text("Auch Dev-Sätze werden indiziert, weil man Systeme darauf abstimmt.\n", encoding="utf-8")
    return root


# -- normalisation ---------------------------------------------------------------------------


def test_normalize_folds_case_width_punctuation_and_spacing():
    assert normalize("  DIE neue\tBrücke!! ") == "die neue brücke"
    assert normalize("ＡＢＣ，１２３。") == "abc 123"  # full-width forms (NFKC)
    assert normalize("Infor\u00admation «quoted» — yes") == "information quoted yes"  # soft hyphen deleted
    assert normalize("Cafe\u0301") == normalize("Café")  # composed and decomposed accents agree


def test_scripts_without_spaces_are_tokenized_by_character():
    tokens, spaceless = tokenize("火车 7点45分，出发。")
    assert (tokens, spaceless) == (["火", "车", "7", "点", "45", "分", "出", "发"], True)
    assert tokenize("火车7点45分出发")[0] == tokens  # spacing does not matter
    assert tokenize("รถไฟออกเวลาเจ็ดโมง")[1] is True  # Thai
    assert tokenize("東京タワーに行きました")[1] is True  # Japanese kanji + kana
    assert tokenize("The iPhone 15 发布了")[1] is False  # mostly words
    assert tokenize("서울에서 기차를 탔다")[1] is False  # Korean is written with spaces


# -- matching --------------------------------------------------------------------------------


def test_exact_match_ignores_case_and_punctuation_and_names_the_test_sentence():
    index = index_of(*EN, *DE)
    kind, overlap, example = index.match("die NEUE Brücke über den Fluss wird nach drei Jahren Bauzeit im nächsten Frühjahr für den Verkehr freigegeben")
    assert (kind, overlap) == ("exact", 1.0)
    assert example.text == DE[0] and example.ref == "test:3"


def test_near_duplicate_with_a_changed_ending_is_near():
    index = index_of(*EN)
    match = index.match(EN[1].replace("last summer.", "this year."))
    assert match.kind == "near" and 0.5 <= match.overlap < 1.0
    assert match.example.ref == "test:2"


def test_chinese_near_duplicate_uses_character_ngrams():
    index = index_of(*ZH)
    match = index.match("海洋研究所的研究人员去年夏天在北部海岸统计到两百多头海豚。")  # 鲸鱼 -> 海豚
    assert match.kind == "near" and match.example.text == ZH[1]
    assert match.overlap == pytest.approx(11 / 13)  # 28 characters: 13 16-grams, 2 hold the changed ending
    # Word n-grams would see one "word" here and only ever find exact copies.
    assert index.match("研究人员去年夏天在北部海岸统计到鲸鱼").kind is None


def test_a_test_sentence_inside_a_longer_row_is_near():
    index = index_of(*EN)
    row = (
        "According to the report, researchers at the marine institute counted more than two hundred whales along "
        "the northern coast last summer, which the institute called a record for the region in over twenty years."
    )
    match = index.match(row)
    assert match.kind == "near" and match.overlap == 1.0  # all of the test sentence's n-grams are in the row
    assert match.example.text == EN[1]


def test_shared_names_and_short_phrases_are_not_flagged():
    index = index_of(*EN, *DE, *ZH)
    for sentence in (
        "Researchers at the marine institute went to Hamburg today to give a talk about their work.",
        "The new bridge was the topic of a long debate in the city council yesterday evening.",
        "Forscher des Meeresinstituts sind heute nach Hamburg gefahren, um einen Vortrag zu halten.",
        "研究人员今天在会议上介绍了他们的新项目。",
    ):
        kind, overlap, _ = index.match(sentence)
        assert kind is None and overlap < 0.5, sentence


def test_short_sentences_match_only_exactly():
    index = index_of("The museum is closed today.", *EN)
    assert index.match("the museum is closed today").kind == "exact"
    assert index.match("The museum is closed tomorrow.") == (None, 0.0, None)


def test_ngram_length_sets_sensitivity_to_edits_mid_sentence():
    edited = EN[0].replace("traffic", "cars")  # one word in the middle
    assert index_of(*EN, ngram=8).match(edited).kind is None  # every 8-gram but 3 of 11 is broken
    assert index_of(*EN, ngram=4).match(edited).kind == "near"


def test_min_overlap_is_the_threshold():
    edited = EN[1].replace("along the northern coast last summer", "in the south")
    low, high = index_of(*EN, min_overlap=0.3), index_of(*EN, min_overlap=0.9)
    overlap = low.match(edited).overlap
    assert 0.3 <= overlap < 0.9
    assert low.match(edited).kind == "near" and high.match(edited).kind is None


def test_index_rejects_bad_settings_and_late_additions():
    with pytest.raises(ValueError, match="ngram"):
        TestSetIndex(ngram=0)
    with pytest.raises(ValueError, match="min_overlap"):
        TestSetIndex(min_overlap=0)
    index = index_of(*EN)
    with pytest.raises(RuntimeError, match="frozen"):
        index.add("late", "x:1")


def test_duplicate_and_empty_test_sentences_are_indexed_once():
    index = TestSetIndex()
    assert index.add(EN[0], "a:1") and not index.add(EN[0].upper(), "b:1") and not index.add(" ¿? ", "c:1")
    assert len(index.freeze()) == 1 and index.stats()["ngrams"] == 11


# -- reading test sets -----------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["nested", "flat"])
def test_flores_folder_indexes_every_language_and_split(tmp_path, layout):
    folder = flores_folder(tmp_path / "flores", layout)
    refs = dict(read_testset(str(folder)))
    assert set(refs) == {*EN, *DE, *ZH, *FR, *(line.strip() for line in open(folder / "eng_Latn.dev")), *(line.strip() for line in open(folder / "deu_Latn.dev"))}
    assert refs[ZH[1]].endswith("zho_Hans.devtest:2") and refs[FR[0]].endswith("fra_Latn.devtest:1")
    selected = dict(read_testset(str(folder), languages=("de", "zh")))
    assert FR[0] not in selected and EN[0] in selected  # English always, other languages as selected


def test_jsonl_rows_index_text_fields_not_ids_or_language_codes(tmp_path):
    path = tmp_path / "wmt.jsonl"
    rows = [
        {"id": "r1", "src_lang": "en", "trg_lang": "de", "src_text": EN[0], "trg_text": DE[0]},
        {"doc_id": "d7", "translation": {"en": EN[1], "de": DE[1]}, "alternatives": [FR[1]]},
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    found = list(read_testset(str(path)))
    assert [text for text, _ in found] == [EN[0], DE[0], EN[1], DE[1], FR[1]]
    assert found[0][1] == f"{path}:1:src_text" and found[3][1] == f"{path}:2:translation.de"


def test_parquet_and_plain_text_test_sets(tmp_path):
    pq.write_table(pa.table({"en": EN, "zh": ZH}), tmp_path / "multiway.parquet")
    (tmp_path / "newstest.de").write_text(f"{DE[0]}\n\n{DE[1]}\n", encoding="utf-8")
    assert sorted(t for t, _ in read_testset(str(tmp_path / "multiway.parquet"))) == sorted(EN + ZH)
    assert list(read_testset(str(tmp_path / "newstest.de"))) == [(DE[0], f"{tmp_path / 'newstest.de'}:1"), (DE[1], f"{tmp_path / 'newstest.de'}:3")]
    index = TestSetIndex.from_testsets([str(tmp_path / "multiway.parquet"), str(tmp_path / "newstest.de")])
    assert len(index) == 6 and index.match(DE[1]).kind == "exact"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing", "test set not found"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "no FLORES-style .dev/.devtest files and no .jsonl/.parquet"),
        (lambda p: (p / "bad.jsonl").write_text('{"en": "ok"}\n{not json\n') and p / "bad.jsonl", "1 malformed JSON line"),
        (lambda p: (p / "latin1.txt").write_bytes("Brücke\n".encode("latin-1")) and p / "latin1.txt", "UnicodeDecodeError"),
        (lambda p: (p / "blank.txt").write_text("\n \n") and p / "blank.txt", "no test sentences found"),
    ],
)
def test_unreadable_test_sets_are_errors_naming_the_path(tmp_path, make, message):
    path = str(make(tmp_path))
    with pytest.raises(LeakageError, match=message) as info:
        TestSetIndex.from_testsets([path])
    assert str(info.value).startswith(f"{path}: ")


def test_flores_folder_without_english_names_the_folder(tmp_path):
    (tmp_path / "deu_Latn.devtest").write_text(DE[0] + "\n", encoding="utf-8")
    with pytest.raises(LeakageError, match=rf"^{tmp_path}: cannot read test set \(CorpusError: .*no English file"):
        TestSetIndex.from_testsets([str(tmp_path)])


def test_remote_test_sets_are_refused():
    with pytest.raises(LeakageError, match="^hf:openlanguagedata/flores_plus: test sets must be local"):
        list(read_testset("hf:openlanguagedata/flores_plus"))


# -- report ----------------------------------------------------------------------------------


def test_report_reads_plain_counts_and_datatrove_stats():
    example = Leak("c:1:de", "source", "exact", 1.0, DE[0], "t:1", DE[0])
    stats = {"leak_checked": {"total": 10, "mean": 1}, "leak_documents": {"total": 3}, "leak_exact_source": 2, "leak_near_anchor": {"total": 1}, "dropped_test_overlap_exact": 2}
    report = leakage_report(stats, [example], action="drop", testsets=["flores"], index={"sentences": 4})
    assert report == {
        "action": "drop",
        "testsets": ["flores"],
        "checked": 10,
        "leaking": 3,
        "by_kind": {"exact": {"source": 2, "anchor": 0}, "near": {"source": 0, "anchor": 1}},
        "dropped": {"exact": 2, "near": 0},
        "examples": [{"source_id": "c:1:de", "field": "source", "kind": "exact", "overlap": 1.0, "text": DE[0], "test_ref": "t:1", "test_text": DE[0]}],
        "index": {"sentences": 4},
    }
    assert json.loads(json.dumps(report)) == report

"""Corpus readers + AnchorSentences: English-centric and multiway rows, FLORES folders, counted drops."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from eax_data.builders.anchors import AnchorSentences
from eax_data.builders.readers import CorpusError, FloresReader, make_reader

DE = "Der Zug fährt um 7:45 Uhr ab."
FR = "Le train part à 7 h 45."
ZH = "火车7点45分出发。"
EN = "The train leaves at 7:45."


def write_jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows), encoding="utf-8")
    return path


def read(path, kind, langs=("de", "fr", "zh"), corpus_id="c", **reader_options):
    reader = make_reader(str(path), **reader_options)
    anchor = AnchorSentences(kind, langs, corpus_id)
    docs = list(anchor.run(reader.run(None, 0, 1)))
    return docs, reader, anchor


def stat(step, name):
    metric = step.stats.stats.get(name)  # not `name in step.stats`: Stats has no __contains__
    return metric.total if metric is not None else 0


def drops(step):
    return {key: metric.total for key, metric in step.stats.stats.items() if key.startswith("dropped_")}


def summary(docs):
    return [(d.metadata["src_lang"], d.text, d.metadata["ref_lang"], d.metadata["ref_text"], d.metadata["source_id"]) for d in docs]


# -- English-centric -------------------------------------------------------------------------


def test_english_centric_jsonl_anchors_the_non_english_side(tmp_path):
    path = write_jsonl(
        tmp_path / "tower.jsonl",
        [
            {"src_lang": "en", "trg_lang": "de", "src_text": EN, "trg_text": f"  {DE} "},
            {"src_lang": "fr", "trg_lang": "en", "src_text": FR, "trg_text": EN, "extra": 1},
        ],
    )
    docs, reader, anchor = read(path, "english_centric")
    assert summary(docs) == [("de", DE, "en", EN, "c:tower.jsonl:1"), ("fr", FR, "en", EN, "c:tower.jsonl:2")]
    assert [d.id for d in docs] == ["c:tower.jsonl:1", "c:tower.jsonl:2"]
    assert set(docs[0].metadata) == {"src_lang", "ref_lang", "ref_text", "source_id"}
    assert stat(anchor, "rows") == 2 and stat(anchor, "anchored_sentences") == 2
    assert drops(anchor) == {}


def test_english_centric_parquet(tmp_path):
    path = tmp_path / "tower.parquet"
    table = pa.Table.from_pylist(
        [
            {"src_lang": "en", "trg_lang": "zh", "src_text": EN, "trg_text": ZH},
            {"src_lang": "deu_Latn", "trg_lang": "eng_Latn", "src_text": DE, "trg_text": EN},
        ]
    )
    pq.write_table(table, path)
    docs, _, anchor = read(path, "english_centric")
    assert [(d.metadata["src_lang"], d.text, d.metadata["ref_text"]) for d in docs] == [("zh", ZH, EN), ("de", DE, EN)]
    assert all(d.metadata["source_id"].startswith("c:tower.parquet:") for d in docs)
    assert len({d.metadata["source_id"] for d in docs}) == 2
    assert stat(anchor, "anchored_sentences") == 2


def test_english_centric_bad_rows_are_counted_drops_naming_the_row(tmp_path, log):
    path = write_jsonl(
        tmp_path / "bad.jsonl",
        [
            {"src_lang": "en", "trg_lang": "de", "src_text": EN},  # 1: no trg_text
            {"src_lang": "de", "trg_lang": "fr", "src_text": DE, "trg_text": FR},  # 2: no English side
            {"src_lang": "en", "trg_lang": "en", "src_text": EN, "trg_text": EN},  # 3: en->en
            {"src_lang": "en", "trg_lang": "xx", "src_text": EN, "trg_text": "?"},  # 4: unknown language
            {"src_lang": "en", "trg_lang": "de", "src_text": EN, "trg_text": "   "},  # 5: empty
            {"src_lang": "en", "trg_lang": "de", "src_text": None, "trg_text": DE},  # 6: not text
            {"src_lang": "en", "trg_lang": "ru", "src_text": EN, "trg_text": "Поезд."},  # 7: not selected
            {"src_lang": "en", "trg_lang": "de", "src_text": EN, "trg_text": DE},  # 8: ok
        ],
    )
    docs, reader, anchor = read(path, "english_centric")
    assert summary(docs) == [("de", DE, "en", EN, "c:bad.jsonl:8")]
    assert drops(anchor) == {
        "dropped_missing_field": 1,
        "dropped_no_english_side": 2,
        "dropped_unknown_language": 1,
        "dropped_empty_text": 2,
    }
    assert stat(anchor, "skipped_language_not_selected") == 1
    assert stat(anchor, "rows") == 8
    assert any(m.startswith("bad.jsonl:1: missing field(s) ['trg_text']") for m in log)
    assert any(m.startswith("bad.jsonl:2: de->fr has no English side") for m in log)
    assert any(m.startswith("bad.jsonl:4: trg_lang='xx' is not a known language code") for m in log)
    assert any(m.startswith("bad.jsonl:5: field 'trg_text' is empty") for m in log)
    assert any(m.startswith("bad.jsonl:6: field 'src_text' is empty or not text") for m in log)


def test_malformed_json_line_is_a_counted_drop_on_the_reader(tmp_path, log):
    path = write_jsonl(
        tmp_path / "broken.jsonl",
        [
            {"src_lang": "en", "trg_lang": "de", "src_text": EN, "trg_text": DE},
            '{"src_lang": "en", "trg_lang": ',
            "",
            '["a", "list"]',
            {"src_lang": "fr", "trg_lang": "en", "src_text": FR, "trg_text": EN},
        ],
    )
    docs, reader, anchor = read(path, "english_centric")
    assert summary(docs) == [("de", DE, "en", EN, "c:broken.jsonl:1"), ("fr", FR, "en", EN, "c:broken.jsonl:5")]
    assert stat(reader, "dropped_malformed_json") == 2
    assert any(m.startswith("broken.jsonl:2: malformed JSON line dropped") for m in log)
    assert any(m.startswith("broken.jsonl:4: a row must be a JSON object") for m in log)


def test_repeated_drops_are_counted_but_logged_only_a_few_times(tmp_path, log):
    rows = [{"src_lang": "de", "trg_lang": "fr", "src_text": DE, "trg_text": FR}] * 12
    docs, _, anchor = read(write_jsonl(tmp_path / "many.jsonl", rows), "english_centric")
    assert docs == []
    assert stat(anchor, "dropped_no_english_side") == 12
    assert len([m for m in log if "no English side" in m]) == 5


def test_limit_stops_after_that_many_rows(tmp_path):
    rows = [{"src_lang": "en", "trg_lang": "de", "src_text": f"{EN} {i}", "trg_text": f"{DE} {i}"} for i in range(10)]
    path = write_jsonl(tmp_path / "rows.jsonl", rows)
    reader = make_reader(str(path))
    anchor = AnchorSentences("english_centric", ("de", "fr"), "c", limit=3)
    docs = list(anchor.run(reader.run(None, 0, 1)))
    assert [d.text for d in docs] == [f"{DE} {i}" for i in range(3)]
    assert stat(anchor, "rows") == 3


# -- multiway --------------------------------------------------------------------------------


def test_multiway_jsonl_with_iso_and_flores_columns(tmp_path, log):
    path = write_jsonl(
        tmp_path / "multi.jsonl",
        [
            {"id": "r1", "eng_Latn": EN, "de": DE, "fra_Latn": FR, "zho_Hans": ZH, "ru": "Поезд."},
            {"id": "r2", "en": "Hello.", "deu_Latn": "Hallo.", "fr": ""},
            {"id": "r3", "de": "Nur Deutsch."},
        ],
    )
    docs, _, anchor = read(path, "multiway", langs=("de", "fr", "zh", "en"), corpus_id="mw")
    assert summary(docs) == [
        ("de", DE, "en", EN, "mw:multi.jsonl:1:de"),
        ("fr", FR, "en", EN, "mw:multi.jsonl:1:fr"),
        ("zh", ZH, "en", EN, "mw:multi.jsonl:1:zh"),
        ("de", "Hallo.", "en", "Hello.", "mw:multi.jsonl:2:de"),
    ]
    assert drops(anchor) == {"dropped_empty_text": 1, "dropped_no_english_side": 1}
    assert any(m.startswith("multi.jsonl:3: no English column") for m in log)
    assert any(m.startswith("multi.jsonl:2: field 'fr' is empty") for m in log)


def test_an_id_column_is_a_row_id_not_indonesian(tmp_path):
    path = write_jsonl(tmp_path / "multi.jsonl", [{"id": "row-7", "en": EN, "de": DE, "ind_Latn": "Kereta berangkat pukul 7.45."}])
    docs, _, _ = read(path, "multiway", langs=("de", "id"), corpus_id="mw")
    assert [(d.metadata["src_lang"], d.text) for d in docs] == [("de", DE), ("id", "Kereta berangkat pukul 7.45.")]


# -- FLORES-style folders --------------------------------------------------------------------


def write_flores(folder, lines_by_code, split="devtest"):
    folder.mkdir(parents=True, exist_ok=True)
    for code, lines in lines_by_code.items():
        (folder / f"{code}.{split}").write_text("\n".join(lines) + "\n", encoding="utf-8")


FLORES = {
    "eng_Latn": [EN, "Good morning."],
    "deu_Latn": [DE, "Guten Morgen."],
    "fra_Latn": [FR, "Bonjour."],
}


def test_flores_folder(tmp_path):
    folder = tmp_path / "flores"
    write_flores(folder, FLORES)
    docs, reader, anchor = read(folder, "multiway", langs=("de", "fr"), corpus_id="flores", split="devtest")
    assert isinstance(reader, FloresReader)
    assert summary(docs) == [
        ("de", DE, "en", EN, f"flores:{folder.name}:1:de"),
        ("fr", FR, "en", EN, f"flores:{folder.name}:1:fr"),
        ("de", "Guten Morgen.", "en", "Good morning.", f"flores:{folder.name}:2:de"),
        ("fr", "Bonjour.", "en", "Good morning.", f"flores:{folder.name}:2:fr"),
    ]
    assert stat(reader, "rows") == 2


def test_flores_200_layout_with_split_subfolder(tmp_path):
    folder = tmp_path / "flores200_dataset"
    write_flores(folder / "devtest", FLORES)
    write_flores(folder / "devtest", {"xyz_Latn": ["?", "?"]})  # not in the registry: ignored
    docs, reader, _ = read(folder, "multiway", langs=("de",), split="devtest", languages_wanted=("de",))
    assert [(d.metadata["src_lang"], d.text) for d in docs] == [("de", DE), ("de", "Guten Morgen.")]
    assert sorted(reader.files()) == ["de", "en"]  # only wanted languages (+ English) are read


def test_flores_files_not_line_aligned(tmp_path):
    folder = tmp_path / "flores"
    write_flores(folder, {**FLORES, "fra_Latn": [FR]})
    reader = make_reader(str(folder), split="devtest")
    with pytest.raises(CorpusError, match=f"^{folder}: FLORES files are not line-aligned"):
        list(reader.run(None, 0, 1))


def test_flores_without_english_file(tmp_path):
    folder = tmp_path / "flores"
    write_flores(folder, {k: v for k, v in FLORES.items() if k != "eng_Latn"})
    reader = make_reader(str(folder), split="devtest")
    with pytest.raises(CorpusError, match=f"^{folder}: no English file \\(eng_Latn.devtest\\)"):
        list(reader.run(None, 0, 1))


# -- locations -------------------------------------------------------------------------------


def test_corpus_path_not_found(tmp_path):
    missing = tmp_path / "nowhere.jsonl"
    with pytest.raises(CorpusError, match=f"^{missing}: corpus not found$"):
        make_reader(str(missing))


def test_unknown_file_format(tmp_path):
    path = tmp_path / "corpus.csv"
    path.write_text("a,b\n")
    with pytest.raises(CorpusError, match="cannot tell the format"):
        make_reader(str(path))
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no .jsonl, .parquet or FLORES"):
        make_reader(str(tmp_path / "empty"))


def test_bundled_demo_corpus_is_readable():
    reader = make_reader("demo")
    anchor = AnchorSentences("multiway", ("de", "zh"), "eax-demo", limit=2)
    docs = list(anchor.run(reader.run(None, 0, 1)))
    assert [d.metadata["src_lang"] for d in docs] == ["de", "zh", "de", "zh"]
    assert docs[0].metadata["source_id"] == "eax-demo:multiway.jsonl:1:de"
    assert all(d.metadata["ref_lang"] == "en" and d.metadata["ref_text"] for d in docs)


def test_unknown_corpus_kind():
    with pytest.raises(ValueError, match="unknown corpus kind 'bilingual'"):
        AnchorSentences("bilingual", ("de", "fr"), "c")


# -- any `datasets` dataset ---------------------------------------------------------------------


def test_a_datasets_dataset_is_read_through_huggingface_reader(tmp_path):
    folder = tmp_path / "hf-corpus"
    folder.mkdir()
    rows = [
        {"src_lang": "en", "trg_lang": "de", "src_text": EN, "trg_text": DE},
        {"src_lang": "zh", "trg_lang": "en", "src_text": ZH, "trg_text": EN},
    ]
    pq.write_table(pa.Table.from_pylist(rows), folder / "train-00000.parquet")
    docs, reader, anchor = read(f"hf:{folder}", "english_centric", split="train")
    assert [(d.metadata["src_lang"], d.text, d.metadata["ref_text"]) for d in docs] == [("de", DE, EN), ("zh", ZH, EN)]
    assert stat(anchor, "rows") == 2

"""ExpandToX2X: anchored sentences -> x->y tasks for every other selected language."""

import json

from datatrove.data import Document

from eax_data import languages
from eax_data.builders.anchors import AnchorSentences
from eax_data.builders.expand import ExpandToX2X, normalized, task_id
from eax_data.builders.readers import make_reader

EN = "The train leaves at 7:45."
ROW = {
    "id": "r1",
    "en": EN,
    "de": "Der Zug fährt um 7:45 Uhr ab.",
    "fr": "Le train part à 7 h 45.",
    "nl": "De trein vertrekt om 7.45 uur.",
    "it": "Il treno parte alle 7:45.",
    "es": "El tren sale a las 7:45.",
    "pt": "O comboio parte às 7h45.",
    "ko": "기차는 7시 45분에 출발합니다.",
    "ru": "Поезд отправляется в 7:45.",
    "zh": "火车7点45分出发。",
}


def anchored(src_lang, text, source_id="c:1", ref=EN):
    metadata = {"src_lang": src_lang, "ref_lang": "en", "ref_text": ref, "source_id": source_id}
    return Document(text=text, id=source_id, metadata=metadata)


def stat(step, name):
    metric = step.stats.stats.get(name)  # not `name in step.stats`: Stats has no __contains__
    return metric.total if metric is not None else 0


def test_one_multiway_row_with_ten_languages_gives_72_tasks(tmp_path):
    path = tmp_path / "multi.jsonl"
    path.write_text(json.dumps(ROW, ensure_ascii=False) + "\n", encoding="utf-8")
    selected = languages.PAPER_LANGUAGES
    expand = ExpandToX2X(selected)
    tasks = list(expand.run(AnchorSentences("multiway", selected, "c").run(make_reader(str(path)).run(None, 0, 1))))
    assert len(tasks) == 72 == stat(expand, "tasks")
    directions = {(t.metadata["src_lang"], t.metadata["trg_lang"]) for t in tasks}
    assert directions == set(languages.x2x_directions(list(selected)))
    assert all("en" not in pair for pair in directions)
    assert all(stat(expand, f"tasks_{s}-{t}") == 1 for s, t in directions)
    for task in tasks:
        src = task.metadata["src_lang"]
        assert task.text == ROW[src]
        assert task.metadata["ref_text"] == EN and task.metadata["ref_lang"] == "en"
        assert task.metadata["source_id"] == f"c:multi.jsonl:1:{src}"
        assert task.id == task_id(src, task.metadata["trg_lang"], ROW[src])
    assert len({t.id for t in tasks}) == 72


def test_english_is_never_a_target():
    expand = ExpandToX2X(("en", "de", "fr"))
    tasks = list(expand.run(iter([anchored("de", "Hallo."), anchored("fr", "Salut.")])))
    assert [(t.metadata["src_lang"], t.metadata["trg_lang"]) for t in tasks] == [("de", "fr"), ("fr", "de")]


def test_task_ids_are_deterministic_and_content_derived():
    first = task_id("de", "zh", "Der Zug fährt ab.")
    assert first == task_id("de", "zh", "Der Zug fährt ab.")
    assert first.startswith("de-zh-") and len(first.rsplit("-", 1)[1]) == 16
    # whitespace and Unicode normalisation do not change the id; content, direction do
    assert task_id("de", "zh", "  Der  Zug\tfährt ab. ") == first
    assert task_id("de", "zh", "Der Zug fa\u0308hrt ab.") == first
    assert task_id("de", "zh", "Der Zug fährt an.") != first
    assert task_id("de", "fr", "Der Zug fährt ab.") != first
    assert task_id("fr", "zh", "Der Zug fährt ab.") != first
    assert normalized(" a \n b\u00a0c ") == "a b c"


def test_task_ids_do_not_depend_on_corpus_order_or_metadata():
    docs = [anchored("de", "Eins.", "c:1"), anchored("de", "Zwei.", "c:2")]
    forward = {t.text: t.id for t in ExpandToX2X(("de", "fr")).run(iter(docs))}
    backward = {t.text: t.id for t in ExpandToX2X(("de", "fr")).run(iter([anchored("de", "Zwei.", "x:9"), anchored("de", "Eins.", "x:8")]))}
    assert forward == backward


def test_duplicate_source_within_a_direction_keeps_the_first():
    expand = ExpandToX2X(("de", "fr", "zh"))
    docs = [
        anchored("de", "Der Zug fährt ab.", "c:1", ref="The train leaves."),
        anchored("fr", "Le train part.", "c:2"),
        anchored("de", " Der  Zug fährt ab. ", "c:3", ref="The train departs."),  # same after normalisation
        anchored("fr", "Der Zug fährt ab.", "c:4"),  # same text, other source language: not a duplicate
    ]
    tasks = list(expand.run(iter(docs)))
    assert stat(expand, "dropped_duplicate_source") == 1
    de_tasks = [t for t in tasks if t.metadata["src_lang"] == "de"]
    assert [(t.metadata["trg_lang"], t.metadata["source_id"], t.metadata["ref_text"]) for t in de_tasks] == [
        ("fr", "c:1", "The train leaves."),
        ("zh", "c:1", "The train leaves."),
    ]
    assert len(tasks) == 6 == stat(expand, "tasks")


def test_shards_are_in_range_and_follow_the_task_id():
    expand = ExpandToX2X(("de", "fr", "es", "zh"), shards=3)
    docs = [anchored(lang, f"{lang} sentence {i}", f"c:{i}") for i in range(20) for lang in ("de", "fr", "es", "zh")]
    tasks = list(expand.run(iter(docs)))
    assert len(tasks) == 20 * 4 * 3
    shards = [t.metadata["shard"] for t in tasks]
    assert set(shards) == {"00000", "00001", "00002"}
    for task in tasks:
        assert task.metadata["shard"] == f"{int(task.id.rsplit('-', 1)[1], 16) % 3:05d}"
    # one shard: everything in 00000
    single = list(ExpandToX2X(("de", "fr")).run(iter([anchored("de", "Hallo.")])))
    assert [t.metadata["shard"] for t in single] == ["00000"]

"""TestSetLeakageGuard after AnchorSentences: planted test-set overlaps in sources and anchors are
counted (warn), removed (drop) or stop the build (fail); clean and name-sharing sentences pass."""

import json
import pickle

import pytest

from eax_data.builders.anchors import AnchorSentences
from eax_data.builders.contracts import check_fields
from eax_data.builders.expand import ExpandToX2X
from eax_data.builders.leakage import TestSetLeakageGuard
from eax_data.builders.readers import make_reader
from eax_data.leakage import LeakageError
from eax_data.recipe import LeakageConfig

T_EN = [
    "The new bridge over the river will open to traffic next spring after three years of construction work.",
    "Researchers at the marine institute counted more than two hundred whales along the northern coast last summer.",
    "The museum will stay closed on public holidays while the old heating system is being replaced.",
]
T_DE = [
    "Die neue Brücke über den Fluss wird nach drei Jahren Bauzeit im nächsten Frühjahr für den Verkehr freigegeben.",
    "Forscher des Meeresinstituts zählten im vergangenen Sommer mehr als zweihundert Wale entlang der Nordküste.",
    "Das Museum bleibt an Feiertagen geschlossen, während die alte Heizungsanlage ersetzt wird.",
]
T_ZH = ["这座横跨河流的新桥经过三年的施工，将于明年春天通车。", "海洋研究所的研究人员去年夏天在北部海岸统计到两百多头鲸鱼。", "在更换旧供暖系统期间，博物馆将在公共假日闭馆。"]

CLEAN = {
    "en": "A farmer in the valley sold forty sheep at the market on Saturday morning.",
    "de": "Ein Bauer im Tal verkaufte am Samstagmorgen vierzig Schafe auf dem Markt.",
    "zh": "山谷里的一位农民周六早上在集市上卖了四十只羊。",
}
OTHER = {
    "en": "It was very cold in the mountains this week, and the roads were closed.",
    "de": "Diese Woche war es in den Bergen sehr kalt, und die Straßen waren gesperrt.",
    "zh": "这周山里非常冷，道路都封闭了。",
}
EMBEDDED_EN = (
    "According to the report, researchers at the marine institute counted more than two hundred whales along "
    "the northern coast last summer, which the institute called a record for the region in over twenty years."
)
ROWS = [
    {"id": "r1", **CLEAN},  # clean
    {"id": "r2", **OTHER, "de": "DIE NEUE BRÜCKE über den Fluss wird nach drei Jahren Bauzeit im nächsten Frühjahr für den Verkehr freigegeben!!"},  # de: case/punctuation variant
    {"id": "r3", **CLEAN, "en": T_EN[2]},  # anchor == a test sentence (both de and zh inherit it)
    {"id": "r4", **OTHER, "zh": "海洋研究所的研究人员去年夏天在北部海岸统计到两百多头海豚。"},  # zh: near, character n-grams
    {  # shares names and short phrases only
        "id": "r5",
        "en": "The new bridge was the topic of a long debate in the city council yesterday evening.",
        "de": "Forscher des Meeresinstituts sind heute nach Hamburg gefahren, um einen Vortrag zu halten.",
        "zh": "研究人员今天在会议上介绍了他们的新项目。",
    },
    {"id": "r6", **CLEAN, "en": EMBEDDED_EN},  # anchor: a test sentence inside a longer row (near)
    {"id": "r7", **OTHER, "en": T_EN[0], "de": T_DE[0]},  # de: source and anchor exact; zh: anchor exact
]
LEAKING = {"r2:de", "r3:de", "r3:zh", "r4:zh", "r6:de", "r6:zh", "r7:de", "r7:zh"}
EXPECTED_COUNTS = {
    "leak_checked": 14,
    "leak_documents": 8,
    "leak_exact_source": 2,
    "leak_exact_anchor": 4,
    "leak_near_source": 1,
    "leak_near_anchor": 2,
}


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    return path


@pytest.fixture
def flores(tmp_path):
    folder = tmp_path / "flores" / "devtest"
    folder.mkdir(parents=True)
    for code, lines in (("eng_Latn", T_EN), ("deu_Latn", T_DE), ("zho_Hans", T_ZH)):
        (folder / f"{code}.devtest").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path / "flores"


def run_guard(corpus, guard):
    reader = make_reader(str(corpus))
    anchors = AnchorSentences("multiway", ("de", "zh"), "c")
    return list(guard.run(anchors.run(reader.run(None, 0, 1))))


def stats(step):
    return {key: metric.total for key, metric in step.stats.stats.items() if key.startswith(("leak_", "dropped_"))}


def row_ids(docs):
    """``c:corpus.jsonl:3:de`` -> ``r3:de``."""
    return {f"r{doc.metadata['source_id'].split(':')[2]}:{doc.metadata['source_id'].split(':')[3]}" for doc in docs}


def test_warn_keeps_everything_counts_each_field_and_logs_examples(corpus, flores, log):
    guard = TestSetLeakageGuard((str(flores),), action="warn")
    docs = run_guard(corpus, guard)
    assert len(docs) == 14
    assert stats(guard) == EXPECTED_COUNTS
    assert not any(key.startswith("dropped_") for key in stats(guard))
    first = log[0]
    assert first.startswith("c:corpus.jsonl:2:de: source is a exact test-set match") and "deu_Latn.devtest:1" in first and T_DE[0] in first
    assert sum("further matches are only counted" in m for m in log) == 1
    assert log[-1].startswith("test-set leakage: 8 of 14 anchored sentences overlap the test sets")


def test_drop_removes_the_leaking_sentences_by_kind(corpus, flores):
    guard = TestSetLeakageGuard((str(flores),), action="drop")
    docs = run_guard(corpus, guard)
    assert row_ids(docs) == {f"r{r}:{lang}" for r in range(1, 8) for lang in ("de", "zh")} - LEAKING
    counts = stats(guard)
    assert counts["dropped_test_overlap_exact"] == 5 and counts["dropped_test_overlap_near"] == 3
    assert {k: v for k, v in counts.items() if k.startswith("leak_")} == EXPECTED_COUNTS


def test_matched_test_sentences_are_the_planted_ones(corpus, flores):
    guard = TestSetLeakageGuard((str(flores),), action="warn", max_examples=50)
    run_guard(corpus, guard)
    found = {(e.source_id.split(":", 2)[2], e.field, e.kind): e.test_text for e in guard.examples}
    assert found == {
        ("2:de", "source", "exact"): T_DE[0],
        ("3:de", "anchor", "exact"): T_EN[2],  # r3:zh repeats the same anchor: one example
        ("4:zh", "source", "near"): T_ZH[1],
        ("6:de", "anchor", "near"): T_EN[1],
        ("7:de", "source", "exact"): T_DE[0],
        ("7:de", "anchor", "exact"): T_EN[0],
    }


def test_fail_counts_the_whole_corpus_then_raises_with_counts_and_examples(corpus, flores):
    guard = TestSetLeakageGuard((str(flores),), action="fail")
    seen = []
    with pytest.raises(LeakageError) as info:
        for doc in guard.run(AnchorSentences("multiway", ("de", "zh"), "c").run(make_reader(str(corpus)).run(None, 0, 1))):
            seen.append(doc)
    message = str(info.value)
    assert len(seen) == 14 and stats(guard) == EXPECTED_COUNTS  # counted to the end first
    assert "8 of 14 anchored sentences overlap the test sets (exact source 2, exact anchor 4, near source 1, near anchor 2)" in message
    assert "c:corpus.jsonl:2:de source (exact, 1.00)" in message and "leakage.action to 'drop'" in message


def test_clean_corpus_passes_fail_action(tmp_path, flores):
    path = tmp_path / "clean.jsonl"
    path.write_text(json.dumps({"id": 1, **CLEAN}, ensure_ascii=False) + "\n" + json.dumps({"id": 2, **OTHER}, ensure_ascii=False) + "\n", encoding="utf-8")
    guard = TestSetLeakageGuard((str(flores),), action="fail")
    assert len(run_guard(path, guard)) == 4
    assert stats(guard) == {"leak_checked": 4}


def test_report_file_and_report_function_agree(corpus, flores, tmp_path):
    guard = TestSetLeakageGuard.from_config(
        LeakageConfig(testsets=(str(flores),), action="drop"), ("de", "zh"), report_path=str(tmp_path / "out" / "leakage.json")
    )
    run_guard(corpus, guard)
    report = json.loads((tmp_path / "out" / "leakage.json").read_text(encoding="utf-8"))
    assert report == guard.report()
    assert report["by_kind"] == {"exact": {"source": 2, "anchor": 4}, "near": {"source": 1, "anchor": 2}}
    assert report["dropped"] == {"exact": 5, "near": 3} and report["checked"] == 14 and report["leaking"] == 8
    assert report["index"]["sentences"] == 9 and len(report["examples"]) == 6


def test_step_pickles_without_its_index_and_rebuilds_it(corpus, flores):
    guard = TestSetLeakageGuard((str(flores),))
    run_guard(corpus, guard)
    assert guard._index is not None
    clone = pickle.loads(pickle.dumps(guard))
    assert clone._index is None and len(pickle.dumps(guard)) < 5_000
    clone.stats.stats.clear()
    clone.counts.clear()
    run_guard(corpus, clone)
    assert stats(clone) == EXPECTED_COUNTS


def test_bad_settings_fail_when_the_step_is_made(tmp_path, flores):
    with pytest.raises(LeakageError, match=f"^{tmp_path / 'nope'}: test set not found"):
        TestSetLeakageGuard((str(flores), str(tmp_path / "nope")))
    with pytest.raises(ValueError, match="action must be one of"):
        TestSetLeakageGuard((str(flores),), action="ignore")
    with pytest.raises(ValueError, match="at least one test set"):
        TestSetLeakageGuard(())
    with pytest.raises(ValueError, match="min_overlap"):
        TestSetLeakageGuard((str(flores),), min_overlap=1.5)


def test_unreadable_test_set_is_a_clear_error_at_run(corpus, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{broken\n", encoding="utf-8")
    guard = TestSetLeakageGuard((str(bad),))
    with pytest.raises(LeakageError, match=f"^{bad}: 1 malformed JSON line"):
        run_guard(corpus, guard)


def test_fields_contract_between_anchors_and_expansion(flores):
    steps = [AnchorSentences("multiway", ("de", "zh"), "c"), TestSetLeakageGuard((str(flores),)), ExpandToX2X(("de", "zh"))]
    check_fields(steps)
    with pytest.raises(ValueError, match="reads"):
        check_fields(steps[1:])

"""Candidate filters: each drop reason, per-task duplicate state, exclusion output and the configured chain."""

import json

import pytest
from datatrove.data import Document
from datatrove.pipeline.writers.jsonl import JsonlWriter

from eax_data.builders import quality_filters
from eax_data.builders.contracts import check_fields
from eax_data.builders.filters import (
    CopyFilter,
    DuplicateCandidateFilter,
    EmptyCandidateFilter,
    LengthRatioFilter,
    build_candidate_filters,
    normalize_for_comparison,
    weighted_length,
)
from eax_data.builders.language_id import FastTextIdentifier, LanguageIdFilter, Py3LangIdIdentifier
from eax_data.recipe import FiltersConfig, LanguageIdConfig, LengthRatioConfig
from eax_data.schema import (
    CANDIDATE_INDEX,
    FILTER_REASON,
    FINISH_REASON,
    LID_LANG,
    LID_SCORE,
    SRC_TEXT,
    TASK_FIELDS,
    TASK_ID,
)

# The content filters of quality_filters.py, off: for tests of the whole-candidate filters alone.
NO_CONTENT_FILTERS = dict(truncation=None, numbers=None, script=None, repetition=None, partial_copy=None, sentence_language_id=None)

SOURCE = "Le chat dort sur le canapé depuis ce matin."
ANCHOR = "The cat has been sleeping on the sofa since this morning."


def candidate(text, task_id="task-1", index=0, trg_lang="de", src_text=SOURCE, ref_text=ANCHOR):
    metadata = {
        "src_lang": "fr",
        "trg_lang": trg_lang,
        "ref_lang": "en",
        "ref_text": ref_text,
        "source_id": "demo:0",
        TASK_ID: task_id,
        SRC_TEXT: src_text,
        CANDIDATE_INDEX: index,
        "finish_reason": "stop",
        "generator": "test",
    }
    return Document(text=text, id=f"{task_id}/{index}", metadata=metadata)


def run(step, docs):
    return list(step.run(iter(docs)))


def test_normalize_for_comparison_folds_case_width_space_and_trailing_punctuation():
    assert normalize_for_comparison("  Ｈａｌｌｏ   WELT!!  ") == "hallo welt"
    assert normalize_for_comparison("Straße.") == normalize_for_comparison("STRASSE")
    assert normalize_for_comparison("„Ja“, sagte er.") == "„ja“, sagte er"  # only trailing punctuation goes


def test_empty_filter_drops_blank_candidates_and_counts_the_reason():
    step = EmptyCandidateFilter()
    assert step.filter(candidate("")) == (False, "empty")
    assert step.filter(candidate(" \n\t ")) == (False, "empty")
    kept = run(step, [candidate("", index=0), candidate("Die Katze schläft.", index=1), candidate("  ", index=2)])
    assert [doc.id for doc in kept] == ["task-1/1"]
    assert step.stats["dropped_empty"].total == 2


def test_copy_filter_drops_copies_of_source_and_reference():
    step = CopyFilter()
    assert step.filter(candidate("le chat dort sur le  canapé depuis ce matin")) == (False, "copy_of_source")
    assert step.filter(candidate("THE CAT has been sleeping on the sofa since this morning!")) == (
        False,
        "copy_of_reference",
    )
    assert step.filter(candidate("Die Katze schläft seit heute Morgen auf dem Sofa.")) is True
    assert step.filter(candidate("")) is True  # empty is the empty filter's reason, not a copy


def test_weighted_length_counts_cjk_and_hangul_as_several_latin_characters():
    assert weighted_length("a  b\n") == 3  # whitespace runs count once, ends stripped
    assert weighted_length("猫") == 3.0
    assert weighted_length("고") == 2.5
    assert weighted_length("ね") == 2.5
    assert weighted_length("Кот") == 3  # other scripts count one per character


def test_length_ratio_filter_drops_too_short_and_too_long_candidates():
    step = LengthRatioFilter(0.5, 2.0)
    assert step.filter(candidate("Katze.")) == (False, "length_ratio")
    assert step.filter(candidate("Die Katze schläft seit heute Morgen auf dem Sofa. " * 3)) == (False, "length_ratio")
    assert step.filter(candidate("Die Katze schläft seit heute Morgen auf dem Sofa.")) is True
    assert step.filter(candidate("Katze", ref_text="")) is True  # nothing to compare against


def test_length_ratio_is_fair_to_chinese_and_korean_targets():
    step = LengthRatioFilter(0.5, 2.0)
    chinese = "猫从今天早上起就一直在沙发上睡觉。"
    korean = "고양이는 오늘 아침부터 소파에서 자고 있다."
    assert len(chinese) / len(ANCHOR) < 0.5 and len(korean) / len(ANCHOR) < 0.5  # raw counts would drop both
    assert step.filter(candidate(chinese, trg_lang="zh")) is True
    assert step.filter(candidate(korean, trg_lang="ko")) is True
    assert step.filter(candidate("猫睡觉。", trg_lang="zh")) == (False, "length_ratio")
    # a CJK anchor is weighted the same way, so a German candidate is not judged 3x too long
    assert step.filter(candidate("Die Katze schläft seit heute Morgen auf dem Sofa.", ref_text=chinese)) is True


def test_length_ratio_rejects_inverted_bounds():
    with pytest.raises(ValueError, match="min_ratio"):
        LengthRatioFilter(2.0, 1.0)


def test_duplicate_filter_keeps_the_first_and_resets_per_task():
    step = DuplicateCandidateFilter()
    docs = [
        candidate("Die Katze schläft.", "a", 0),
        candidate("die katze  schläft", "a", 1),
        candidate("Die Katze döst.", "a", 2),
        candidate("Die Katze schläft.", "b", 0),
        candidate("Die Katze schläft!", "b", 1),
    ]
    kept = run(step, docs)
    assert [doc.id for doc in kept] == ["a/0", "a/2", "b/0"]
    assert step.stats["dropped_duplicate"].total == 2
    assert step._seen == {"die katze schläft"}  # only the current task is remembered


def test_exclusion_writer_receives_dropped_candidates_with_their_reason(tmp_path):
    writer = JsonlWriter(str(tmp_path), output_filename="excluded.jsonl", compression=None)
    step = CopyFilter(exclusion_writer=writer)
    docs = [candidate(SOURCE, index=0), candidate("Die Katze schläft.", index=1), candidate(ANCHOR, index=2)]
    kept = run(step, docs)
    assert [doc.id for doc in kept] == ["task-1/1"]
    rows = [json.loads(line) for line in (tmp_path / "excluded.jsonl").read_text().splitlines()]
    assert [(row["id"], row["metadata"][FILTER_REASON]) for row in rows] == [
        ("task-1/0", "copy_of_source"),
        ("task-1/2", "copy_of_reference"),
    ]
    assert rows[0]["text"] == SOURCE and rows[0]["metadata"][TASK_ID] == "task-1"


def test_build_candidate_filters_default_order_and_one_writer_per_filter():
    asked = []

    def factory(group):
        asked.append(group)
        return None

    chain = build_candidate_filters(FiltersConfig(), factory)
    assert [type(step) for step in chain] == [
        EmptyCandidateFilter,
        quality_filters.TruncationFilter,
        CopyFilter,
        LengthRatioFilter,
        DuplicateCandidateFilter,
        quality_filters.NumberConsistencyFilter,
        quality_filters.ScriptFilter,
        quality_filters.RepetitionFilter,
        quality_filters.PartialCopyFilter,
        LanguageIdFilter,
        quality_filters.SentenceLanguageIdFilter,
    ]
    assert asked == [
        "empty",
        "truncation",
        "copy",
        "length_ratio",
        "duplicates",
        "numbers",
        "script",
        "repetition",
        "partial_copy",
        "language_id",
        "sentence_language_id",
    ]
    assert (chain[3].min_ratio, chain[3].max_ratio, chain[3].per_language) == (0.3, 3.0, True)
    assert isinstance(chain[9].identifier, FastTextIdentifier)
    assert chain[10].identifier is chain[9].identifier  # one model for both language-ID steps
    candidate_fields = (TASK_ID, SRC_TEXT, CANDIDATE_INDEX, FINISH_REASON)
    assert {LID_LANG, LID_SCORE} <= check_fields(chain, TASK_FIELDS + candidate_fields + ("trg_lang",))


def test_build_candidate_filters_skips_disabled_filters_and_passes_settings(tmp_path):
    writers = {}

    def factory(group):
        writers[group] = JsonlWriter(str(tmp_path / group))
        return writers[group]

    config = FiltersConfig(
        empty=False,
        duplicates=False,
        length_ratio=LengthRatioConfig(min=0.5, max=2.0),
        language_id=LanguageIdConfig(backend="py3langid", min_score=0.4),
        **NO_CONTENT_FILTERS,
    )
    chain = build_candidate_filters(config, factory)
    assert [type(step) for step in chain] == [CopyFilter, LengthRatioFilter, LanguageIdFilter]
    assert [step.exclusion_writer for step in chain] == [writers["copy"], writers["length_ratio"], writers["language_id"]]
    assert chain[1].min_ratio == 0.5 and chain[2].min_score == 0.4
    assert isinstance(chain[2].identifier, Py3LangIdIdentifier)

    nothing = FiltersConfig(
        empty=False,
        copy=False,
        length_ratio=None,
        duplicates=False,
        language_id=LanguageIdConfig(backend="none"),
        **NO_CONTENT_FILTERS,
    )
    assert build_candidate_filters(nothing, factory) == []


def test_build_candidate_filters_writes_no_exclusions_unless_kept():
    asked = []
    chain = build_candidate_filters(FiltersConfig(keep_excluded=False), lambda group: asked.append(group))
    assert asked == [] and all(step.exclusion_writer is None for step in chain)


def test_default_chain_end_to_end(tmp_path):
    chain = build_candidate_filters(
        FiltersConfig(),
        lambda group: JsonlWriter(str(tmp_path), output_filename=f"{group}.jsonl", compression=None),
    )
    docs = [
        candidate("Die Katze schläft seit heute Morgen auf dem Sofa.", "a", 0),
        candidate("   ", "a", 1),
        candidate(SOURCE, "a", 2),
        candidate("Katze", "a", 3),
        candidate("die Katze schläft seit heute Morgen auf dem Sofa", "a", 4),
        candidate("Le chat dort sur le canapé depuis ce matin, je crois.", "a", 5),
        candidate("Le chien joue dans le jardin avec les enfants du voisin.", "a", 6),
        candidate("Die Katze schläft seit heute Morgen auf dem Sofa.", "b", 0),
    ]
    stream = iter(docs)
    for step in chain:
        stream = step.run(stream)
    kept = list(stream)
    assert [doc.id for doc in kept] == ["a/0", "b/0"]
    assert all(doc.metadata[LID_LANG] == "de" for doc in kept)
    reasons = {}
    for path in tmp_path.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            reasons[row["id"]] = (path.stem, row["metadata"][FILTER_REASON])
    assert reasons == {
        "a/1": ("empty", "empty"),
        "a/2": ("copy", "copy_of_source"),
        "a/3": ("length_ratio", "length_ratio"),
        "a/4": ("duplicates", "duplicate"),
        # a half-copied source: caught as a partial copy before language ID sees it
        "a/5": ("partial_copy", "partial_copy_of_source"),
        "a/6": ("language_id", "wrong_language"),
    }

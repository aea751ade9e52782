"""Merging datatrove's per-rank stats files, drop reasons and per-direction metrics."""

import os

from datatrove.utils.stats import PipelineStats

from eax_data.builders.expand import ExpandToX2X
from eax_data.builders.pairs import BuildPairs
from eax_data.pairs import PairRule
from eax_data.pipelines.stats import drops_by_reason, merge_stage_stats, step_metric


def write_rank(logging_dir, rank, updates):
    """One rank's stats/*.json as datatrove writes it, from real steps with the given counters."""
    steps = [ExpandToX2X(("de", "fr")), BuildPairs(PairRule())]
    for step, counters in zip(steps, updates):
        for key, value in counters.items():
            step.stat_update(key, value=value)
    os.makedirs(os.path.join(logging_dir, "stats"), exist_ok=True)
    with open(os.path.join(logging_dir, "stats", f"{rank:05d}.json"), "w") as handle:
        PipelineStats(steps).save_to_disk(handle)


def test_merge_sums_every_rank(tmp_path):
    write_rank(tmp_path, 0, [{"tasks": 4, "tasks_de-fr": 4, "dropped_duplicate_source": 1}, {"pairs": 2}])
    write_rank(tmp_path, 1, [{"tasks": 6, "tasks_de-fr": 2, "tasks_fr-de": 4}, {"pairs": 3, "dropped_no_pair": 2}])
    merged = merge_stage_stats(str(tmp_path))
    assert merged == {
        "🔢 - PROCESS: 🔀 Expand to x2x": {"tasks": 10, "tasks_de-fr": 6, "tasks_fr-de": 4, "dropped_duplicate_source": 1},
        "🔢 - PROCESS: ⚖️ Build pairs": {"pairs": 5, "dropped_no_pair": 2},
    }


def test_merge_of_a_stage_that_never_ran_is_empty(tmp_path):
    assert merge_stage_stats(str(tmp_path / "missing")) == {}


def test_drops_by_reason_sums_over_stages_and_sorts_by_count():
    stage_stats = {
        "tasks": {"anchor": {"rows": 10, "dropped_empty_text": 2}, "expand": {"dropped_duplicate_source": 1}},
        "candidates": {"lid": {"dropped_off_target": 5}, "empty": {"dropped_empty_text": 1, "kept": 3}},
        "pairs": {},
    }
    drops = drops_by_reason(stage_stats)
    assert drops == {"off_target": 5, "empty_text": 3, "duplicate_source": 1}
    assert list(drops) == ["off_target", "empty_text", "duplicate_source"]
    assert list(drops_by_reason({"s": {"x": {"dropped_b": 1, "dropped_a": 1}}})) == ["a", "b"]  # ties: by name


def test_step_metric_collects_a_prefix_over_steps():
    stage = {"expand": {"tasks": 9, "tasks_de-fr": 4, "tasks_fr-de": 5}, "other": {"tasks_de-fr": 1}}
    assert step_metric(stage, "tasks_") == {"de-fr": 5, "fr-de": 5}
    assert step_metric(stage, "pairs_") == {}

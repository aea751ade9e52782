"""Merging datatrove's per-rank stats into one summary per stage (resumed runs included)."""

from __future__ import annotations

import glob
import json
import os


def merge_stage_stats(logging_dir: str) -> dict[str, dict[str, float]]:
    """{step name: {metric: total}} over every rank's ``stats/*.json`` of one stage."""
    from datatrove.utils.stats import PipelineStats

    total = None
    for path in sorted(glob.glob(os.path.join(logging_dir, "stats", "*.json"))):
        with open(path) as handle:
            stats = PipelineStats.from_json(json.load(handle))
        total = stats if total is None else total + stats
    if total is None:
        return {}
    merged: dict[str, dict[str, float]] = {}
    for step in (stat.to_dict() for stat in total.stats):
        metrics = {
            key: value.get("total", 0) if isinstance(value, dict) else value
            for key, value in step.get("stats", {}).items()
            if key != "time"
        }
        merged[step["name"]] = metrics
    return merged


def drops_by_reason(stage_stats: dict[str, dict[str, dict[str, float]]]) -> dict[str, int]:
    """Every ``dropped_<reason>`` counter of every step, summed by reason."""
    drops: dict[str, int] = {}
    for steps in stage_stats.values():
        for metrics in steps.values():
            for key, value in metrics.items():
                if key.startswith("dropped_"):
                    reason = key.removeprefix("dropped_")
                    drops[reason] = drops.get(reason, 0) + int(value)
    return dict(sorted(drops.items(), key=lambda item: (-item[1], item[0])))


def step_metric(stage: dict[str, dict[str, float]], prefix: str) -> dict[str, int]:
    """Metrics named ``<prefix><suffix>`` of any step in one stage, keyed by suffix."""
    found: dict[str, int] = {}
    for metrics in stage.values():
        for key, value in metrics.items():
            if key.startswith(prefix):
                found[key.removeprefix(prefix)] = found.get(key.removeprefix(prefix), 0) + int(value)
    return found

"""Run a recipe end to end: tasks -> candidates -> pairs -> card, resumable in the same folder."""

from __future__ import annotations

import glob
import json
import os
import shutil
from dataclasses import dataclass, field

import pyarrow.parquet as pq

from eax_data import languages
from eax_data.pipelines import stages
from eax_data.pipelines.executors import make_executor
from eax_data.pipelines.stats import drops_by_reason, merge_stage_stats, step_metric
from eax_data.recipe import Recipe, RecipeError, load_recipe
from eax_data.schema import SCORE, SCORES, SRC_LANG, TRG_LANG, direction

RECIPE_FILE = "recipe.yaml"
STAGES = ("tasks", "pivots", "candidates", "scores", "pairs")
STATS_FILE = "stats.json"


class BuildError(RuntimeError):
    pass


@dataclass
class BuildResult:
    output: str
    pairs_per_direction: dict[str, int]
    drops: dict[str, int]
    stats: dict = field(default_factory=dict)
    proxy_validation: dict | None = None  # eax_data.proxy_validation result (multiway corpora)

    @property
    def total_pairs(self) -> int:
        return sum(self.pairs_per_direction.values())


def _log_dir(out: str, stage: str) -> str:
    return os.path.join(out, "logs", stage)


def _comparable(recipe: Recipe) -> str:
    """Fingerprint of what a resumed build must share: all but the pair rule, scorer, pivots, workers
    and output (a changed scorer re-runs the pivots and scores stages only)."""
    neutral = {"pairs": {}, "scorer": {}, "pivot": {}, "output": "", "execution.workers": 1, "execution.score_cache": None}
    return recipe.replace(**neutral).fingerprint()


def _claim_output(recipe: Recipe, out: str) -> None:
    """Write the resolved recipe; refuse a folder that holds a build of another recipe."""
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, RECIPE_FILE)
    if os.path.exists(path):
        try:
            previous = load_recipe(path)
        except RecipeError:
            previous = None
        if previous is not None and _comparable(previous) != _comparable(recipe):
            raise BuildError(
                f"{out} holds a build of a different recipe; choose another --output "
                f"(or `python -m eax_data pairs {out} ...` to change only the pair rule)"
            )
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(recipe.to_yaml())


def _check_tasks(recipe: Recipe, tasks_stats: dict) -> dict[str, int]:
    per_direction = step_metric(tasks_stats, "tasks_")
    if not per_direction:
        drops = drops_by_reason({"tasks": tasks_stats})
        raise BuildError(f"the corpus {recipe.corpus.path!r} gave no x2x tasks (row drops: {drops or 'none'}); see the log above")
    # a language is present when it has source sentences (x2x) / is the non-English side (reward_data)
    present = {name.split("-")[0] for name in per_direction}
    if recipe.mode == "reward_data":
        present = {code for name in per_direction for code in name.split("-") if code != languages.ENGLISH}
    missing = [code for code in recipe.languages if code != languages.ENGLISH and code not in present]
    if missing:
        raise BuildError(
            f"languages {missing} are in the recipe but the corpus {recipe.corpus.path!r} has no usable sentences "
            f"in them (found: {sorted(present)})"
        )
    return per_direction


def score_statistics(recipe: Recipe, out: str):
    """(ensemble combiner or None, per-direction sorted final scores or None) from candidates/.

    Read column-wise, no texts. The combiner normalises each ensemble member within its direction;
    the sorted final scores serve percentile scaling.
    """
    import numpy as np

    from eax_data.scoring.combine import EnsembleCombiner, collect_scores

    leaves = recipe.scorer.leaves()
    ensemble = recipe.scorer.kind == "ensemble"
    if not ensemble and not recipe.pairs.percentile_scaling:
        return None, None
    rows = []
    for path in sorted(glob.glob(os.path.join(out, stages.CANDIDATES, "*.parquet"))):
        table = pq.read_table(path, columns=[SRC_LANG, TRG_LANG, SCORES, SCORE])
        for src, trg, scores, score in zip(*(table.column(c).to_pylist() for c in (SRC_LANG, TRG_LANG, SCORES, SCORE))):
            rows.append((direction(src, trg), dict(scores or []), score))
    combiner = None
    if ensemble:
        keys = [leaf.key for leaf in leaves]
        combiner = EnsembleCombiner(tuple((leaf.key, leaf.weight) for leaf in leaves), recipe.scorer.combine, collect_scores(((d, s) for d, s, _ in rows), keys))
    if not recipe.pairs.percentile_scaling:
        return combiner, None
    finals: dict[str, list] = {}
    for name, scores, score in rows:
        finals.setdefault(name, []).append(combiner(name, scores) if combiner else score)
    return combiner, {name: np.sort(np.asarray(values, dtype=float)) for name, values in finals.items()}


def pairs_per_direction(out: str) -> dict[str, int]:
    counts = {}
    for folder in sorted(glob.glob(os.path.join(out, stages.DATA, "*"))):
        counts[os.path.basename(folder)] = sum(pq.ParquetFile(p).metadata.num_rows for p in glob.glob(os.path.join(folder, "*.parquet")))
    return counts


def run_pairs(recipe: Recipe, out: str) -> None:
    """(Re)build data/ from candidates/ with the recipe's pair rule; no generation, no scoring."""
    if not glob.glob(os.path.join(out, stages.CANDIDATES, "*.parquet")):
        raise BuildError(f"{out}: no candidates/*.parquet here; run `python -m eax_data build` first")
    shutil.rmtree(os.path.join(out, stages.DATA), ignore_errors=True)
    shutil.rmtree(_log_dir(out, "pairs"), ignore_errors=True)
    combiner, percentiles = score_statistics(recipe, out)
    pipeline = stages.pairs_pipeline(recipe, out, percentiles, combiner)
    make_executor(recipe.execution, pipeline, _log_dir(out, "pairs"), tasks=1, workers=1, skip_completed=False).run()


def finish(recipe: Recipe, out: str) -> BuildResult:
    """Merge stats, write stats.json and the card, and summarise."""
    from eax_data.cards.facts import drop_examples
    from eax_data.cards.render import write_card
    from eax_data.proxy_validation import refresh_validation

    stage_stats = {stage: merge_stage_stats(_log_dir(out, stage)) for stage in STAGES if os.path.isdir(_log_dir(out, stage))}
    drops = drops_by_reason(stage_stats)
    tasks_total = sum(step_metric(stage_stats["tasks"], "tasks_").values())
    tasks_with_candidates = step_metric(stage_stats["pairs"], "tasks").get("", 0)
    if tasks_total > tasks_with_candidates:  # every candidate of these tasks was filtered out
        drops["task_without_candidates"] = tasks_total - tasks_with_candidates
    result = BuildResult(out, pairs_per_direction(out), drops, stage_stats)
    with open(os.path.join(out, STATS_FILE), "w", encoding="utf-8") as handle:
        summary = {"recipe_fingerprint": recipe.fingerprint(), "pairs": result.pairs_per_direction, "drops": result.drops}
        json.dump({**summary, "drop_examples": drop_examples(out), "stages": stage_stats}, handle, indent=2, ensure_ascii=False)
    result.proxy_validation = refresh_validation(out, recipe)  # multiway: does the proxy agree with human translations?
    write_card(recipe, out, result)
    return result


def build(recipe: Recipe, out: str | None = None) -> BuildResult:
    out = os.path.abspath(out or recipe.output)
    if recipe.generator.backend != "endpoint":  # fail before any stage runs, not at model load
        from eax_data.generation.model_files import resolve_model

        resolve_model(recipe.generator.model, recipe.generator.gguf_file)
    _claim_output(recipe, out)
    make_executor(recipe.execution, stages.tasks_pipeline(recipe, out), _log_dir(out, "tasks"), tasks=1, workers=1).run()
    per_direction = _check_tasks(recipe, merge_stage_stats(_log_dir(out, "tasks")))
    total_tasks = sum(per_direction.values())
    shards = recipe.execution.tasks
    if stages.needs_pivots(recipe):
        _stage_fingerprint(out, "pivots", stages.pivot_fingerprint(recipe), [stages.PIVOTS, os.path.join(stages.CHECKPOINTS, stages.PIVOTS)])
        make_executor(recipe.execution, stages.pivots_pipeline(recipe, out, total_tasks), _log_dir(out, "pivots"), tasks=shards).run()
    pipeline = stages.candidates_pipeline(recipe, out, total_tasks=total_tasks)
    make_executor(recipe.execution, pipeline, _log_dir(out, "candidates"), tasks=shards).run()
    score_candidates(recipe, out)
    run_pairs(recipe, out)
    return finish(recipe, out)


def score_candidates(recipe: Recipe, out: str) -> None:
    """generated/ -> candidates/; re-runs (through the score cache) when the scorer section changed."""
    from eax_data.scoring.cache import resolve_cache_path

    _stage_fingerprint(out, "scores", stages.scoring_fingerprint(recipe), [stages.CANDIDATES])
    pipeline = stages.scores_pipeline(recipe, out, resolve_cache_path(recipe.execution.score_cache))
    make_executor(recipe.execution, pipeline, _log_dir(out, "scores"), tasks=recipe.execution.tasks).run()


def _stage_fingerprint(out: str, stage: str, fingerprint: str, outputs: list[str]) -> None:
    """Forget a stage's completions and outputs when what it depends on changed since the last run."""
    log_dir = _log_dir(out, stage)
    marker = os.path.join(log_dir, "FINGERPRINT")
    if os.path.exists(marker):
        with open(marker, encoding="utf-8") as handle:
            if handle.read().strip() == fingerprint:
                return
    shutil.rmtree(log_dir, ignore_errors=True)
    for folder in outputs:
        shutil.rmtree(os.path.join(out, folder), ignore_errors=True)
    os.makedirs(log_dir, exist_ok=True)
    with open(marker, "w", encoding="utf-8") as handle:
        handle.write(fingerprint)

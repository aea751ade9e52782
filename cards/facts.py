"""Everything a card says, read back from a build folder.

A build folder holds ``recipe.yaml``, ``stats.json``, ``data/<src>-<trg>/*.parquet`` and
``candidates/*.parquet``; these are enough to render its card again (``python -m eax_data card DIR``),
with no BuildResult and no access to the model, the corpus or the environment.
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass, field

import numpy as np

from eax_data.pipelines.stats import step_metric
from eax_data.recipe import Recipe, load_recipe
from eax_data.schema import GENERATOR, SCORER, TRG_LANG

RECIPE_FILE = "recipe.yaml"
STATS_FILE = "stats.json"
DATA = "data"
CANDIDATES = "candidates"
SCORE_COLUMNS = ("chosen_score", "rejected_score", "margin")


@dataclass
class DirectionScores:
    """The score columns of one direction's pairs."""

    trg_lang: str
    chosen: np.ndarray
    rejected: np.ndarray
    margin: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.margin)


@dataclass
class CardFacts:
    recipe: Recipe
    pairs: dict[str, int]  # direction -> pair rows
    drops: dict[str, int]  # reason -> dropped candidates/tasks
    tasks: dict[str, int]  # direction -> x2x tasks
    fingerprint: str  # the recipe hash the data was built with
    generators: list[str]  # generator ids recorded in the rows (model + revision / file hash)
    scorers: list[str]  # scorer ids recorded in the rows (model + version / hash)
    scores: dict[str, DirectionScores] = field(default_factory=dict)
    proxy_validation: dict | None = None  # card view of proxy_validation.json (see read_proxy_validation)
    pairs_before_selection: dict[str, int] = field(default_factory=dict)  # before margin quantile / balancing
    leakage: dict | None = None  # leakage.json of the test-set guard, when the recipe named test sets
    drop_examples: dict[str, list[dict]] = field(default_factory=dict)  # reason -> a few excluded candidates

    @property
    def total_pairs(self) -> int:
        return sum(self.pairs.values())

    @property
    def directions(self) -> list[str]:
        return sorted(self.pairs)

    @property
    def license(self) -> str | None:
        return self.recipe.license or self.recipe.corpus.license


def data_files(folder: str) -> dict[str, list[str]]:
    """``{direction: sorted parquet files}`` under ``data/``."""
    found: dict[str, list[str]] = {}
    for sub in sorted(glob.glob(os.path.join(folder, DATA, "*"))):
        if os.path.isdir(sub):
            found[os.path.basename(sub)] = sorted(glob.glob(os.path.join(sub, "*.parquet")))
    return found


def read_scores(folder: str) -> dict[str, DirectionScores]:
    """Score columns of every direction's pairs (no texts are read; nulls become NaN)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    scores = {}
    for name, paths in data_files(folder).items():
        columns: dict[str, list[np.ndarray]] = {c: [] for c in SCORE_COLUMNS}
        targets: set[str] = set()
        for path in paths:
            table = pq.read_table(path, columns=[TRG_LANG, *SCORE_COLUMNS])
            for column in SCORE_COLUMNS:
                values = table.column(column).cast("float64").fill_null(float("nan"))
                columns[column].append(values.to_numpy())
            targets.update(t for t in pc.unique(table.column(TRG_LANG)).to_pylist() if t)
        arrays = {c: np.concatenate(columns[c]) if columns[c] else np.zeros(0) for c in SCORE_COLUMNS}
        trg = sorted(targets)[0] if targets else name.split("-")[-1]
        scores[name] = DirectionScores(trg, arrays["chosen_score"], arrays["rejected_score"], arrays["margin"])
    return scores


def distinct_values(paths: list[str], column: str) -> list[str]:
    """Sorted distinct non-empty values of a string column over parquet files."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    values: set[str] = set()
    for path in paths:
        if column not in pq.read_schema(path).names:
            continue
        values.update(v for v in pc.unique(pq.read_table(path, columns=[column]).column(column)).to_pylist() if v)
    return sorted(values)


def _provenance(folder: str, column: str) -> list[str]:
    pair_files = [p for paths in data_files(folder).values() for p in paths]
    found = distinct_values(pair_files, column)
    if not found:
        found = distinct_values(sorted(glob.glob(os.path.join(folder, CANDIDATES, "*.parquet"))), column)
    return found


def read_stats(folder: str) -> dict:
    path = os.path.join(folder, STATS_FILE)
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def read_facts(folder: str, recipe: Recipe | None = None, result=None) -> CardFacts:
    """The facts of a build folder; ``recipe`` and ``result`` (a BuildResult) replace what is on disk."""
    if recipe is None:
        path = os.path.join(folder, RECIPE_FILE)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{folder}: no {RECIPE_FILE} here; is this an eax-data build folder?")
        recipe = load_recipe(path)
    stats = read_stats(folder)
    scores = read_scores(folder)
    if result is not None:
        pairs, drops, stages = dict(result.pairs_per_direction), dict(result.drops), result.stats or {}
        fingerprint = recipe.fingerprint()
    else:
        pairs = {name: s.rows for name, s in scores.items()}
        drops = dict(stats.get("drops", {}))
        stages = stats.get("stages", {})
        fingerprint = stats.get("recipe_fingerprint") or recipe.fingerprint()
    generators = _provenance(folder, GENERATOR)
    if not generators:
        model = recipe.generator.model + (f"@{recipe.generator.revision}" if recipe.generator.revision else "")
        generators = [model + (f" ({recipe.generator.gguf_file})" if recipe.generator.gguf_file else "")]
    scorers = _provenance(folder, SCORER) or [f"{recipe.scorer.kind}:{recipe.scorer.model}"]
    return CardFacts(
        recipe=recipe,
        pairs=pairs,
        drops=drops,
        tasks=step_metric(stages.get("tasks", {}), "tasks_"),
        fingerprint=fingerprint,
        generators=generators,
        scorers=scorers,
        scores=scores,
        proxy_validation=read_proxy_validation(folder, sum(pairs.values()), fingerprint),
        pairs_before_selection=step_metric(stages.get("pairs", {}), "pairs_before_selection_"),
        leakage=_read_json(os.path.join(folder, "leakage.json")),
        # the build wrote them into stats.json; older folders are read from excluded/ again
        drop_examples=stats["drop_examples"] if "drop_examples" in stats else drop_examples(folder),
    )


def drop_examples(folder: str, per_reason: int = 2, max_chars: int = 160) -> dict[str, list[dict]]:
    """The first ``per_reason`` excluded candidates of every filter reason (from ``excluded/``), so a
    reader sees what a drop reason looks like in this data."""
    import pyarrow.parquet as pq

    examples: dict[str, list[dict]] = {}
    for path in sorted(glob.glob(os.path.join(folder, "excluded", "*", "*.parquet"))):
        table = pq.read_table(path, columns=["filter_reason", "text", "src_lang", "trg_lang", "src_text"])
        for row in table.to_pylist():
            found = examples.setdefault(row["filter_reason"] or "unknown", [])
            if len(found) < per_reason:
                clip = lambda text: text if len(text) <= max_chars else text[: max_chars - 1] + "…"  # noqa: E731
                found.append({"direction": f"{row['src_lang']}-{row['trg_lang']}", "source": clip(row["src_text"] or ""), "candidate": clip(row["text"] or "")})
    return dict(sorted(examples.items()))


def _read_json(path: str) -> dict | None:
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except ValueError as err:
        raise ValueError(f"{path}: not valid JSON ({err}); delete it or rebuild") from None


def _proxy_row(label: str, pairs: dict, candidates: dict) -> list[str]:
    def ratio(stats: dict) -> str:
        ci = stats.get("ci95")
        value = stats.get("accuracy")
        return "–" if value is None else f"{value:.2f}" + (f" ({ci[0]:.2f}–{ci[1]:.2f})" if ci else "")

    wtl = f"{pairs['wins']} / {pairs['ties']} / {pairs['losses']}"
    return [label, str(pairs["n"]), wtl, ratio(pairs), str(candidates.get("pairs", 0)), ratio(candidates)]


def read_proxy_validation(folder: str, total_pairs: int | None = None, fingerprint: str | None = None) -> dict | None:
    """Card view of ``proxy_validation.json`` (eax_data.proxy_validation), or None when absent.

    Rows are preformatted: [direction, pairs, win / tie / loss, accuracy (CI), candidate pairs,
    agreement (CI)]. ``stale`` says so when the pairs or recipe changed after the validation ran.
    """
    from eax_data.proxy_validation import VALIDATION_FILE

    path = os.path.join(folder, VALIDATION_FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        metrics = data["metrics"]
        primary = data.get("primary_metric") or next(iter(metrics))
        view = {"metric": primary, "signature": metrics[primary].get("signature", ""), "others": [], "rows": []}
        for name, metric in metrics.items():
            overall = _proxy_row("overall", metric["pairs"]["overall"], metric["candidates"]["overall"])
            if name == primary:
                pairs, candidates = metric["pairs"]["directions"], metric["candidates"]["directions"]
                view["rows"] = [_proxy_row(d, pairs[d], candidates.get(d, {})) for d in sorted(pairs)] + [overall]
            else:
                view["others"].append([name, *overall[1:]])
        view["skipped"] = sum(data["coverage"]["pairs"]["skipped"].values())
        validated = data["published_pairs"]
    except (ValueError, KeyError, TypeError, StopIteration) as err:
        raise ValueError(f"{path}: not a proxy validation result ({type(err).__name__}: {err}); rerun validate-proxy") from None
    stale = []
    if total_pairs is not None and validated != total_pairs:
        stale.append(f"it judged {validated} pairs, the data now has {total_pairs}")
    if fingerprint and data.get("recipe_fingerprint") not in (None, fingerprint):
        stale.append("the recipe changed since")
    view["stale"] = "; ".join(stale) or None
    return view

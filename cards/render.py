"""Render a build's dataset card (README.md) from its data, stats and recipe."""

from __future__ import annotations

import os
from importlib import resources

import yaml
from jinja2 import Environment

from eax_data import __version__, languages
from eax_data.pipelines.stats import step_metric

TEMPLATE = "dataset_card.md.j2"


def _configs(directions: list[str]) -> list[dict]:
    configs = [{"config_name": "all", "data_files": [{"split": "train", "path": "data/*/*.parquet"}], "default": True}]
    configs += [{"config_name": d, "data_files": [{"split": "train", "path": f"data/{d}/*.parquet"}]} for d in directions]
    return configs


def counts_matrix(pairs: dict[str, int], codes: list[str]) -> str:
    """Markdown src x trg table of pair counts with totals."""
    non_en = [c for c in codes if c != languages.ENGLISH]
    header = "| src \\ trg | " + " | ".join(non_en) + " | total |"
    lines = [header, "|" + "---|" * (len(non_en) + 2)]
    column_totals = {c: 0 for c in non_en}
    for src in non_en:
        cells, row_total = [], 0
        for trg in non_en:
            if src == trg:
                cells.append("–")
                continue
            count = pairs.get(f"{src}-{trg}", 0)
            cells.append(str(count))
            row_total += count
            column_totals[trg] += count
        lines.append(f"| **{src}** | " + " | ".join(cells) + f" | {row_total} |")
    lines.append("| **total** | " + " | ".join(str(column_totals[c]) for c in non_en) + f" | {sum(column_totals.values())} |")
    return "\n".join(lines)


def _first_value(out: str, key: str) -> str | None:
    """A provenance string the build recorded, read back from a candidate file."""
    import glob

    import pyarrow.parquet as pq

    for path in sorted(glob.glob(os.path.join(out, "candidates", "*.parquet"))):
        column = pq.read_table(path, columns=[key]).column(key)
        for value in column.to_pylist():
            if value:
                return value
    return None


def render_card(recipe, out: str, result) -> str:
    pairs = result.pairs_per_direction
    directions = sorted(pairs)
    total_tasks = sum(step_metric(result.stats.get("tasks", {}), "tasks_").values())
    license_id = recipe.license or recipe.corpus.license
    front = {
        "language": [c for c in recipe.languages],
        "license": license_id or "other",
        "task_categories": ["translation"],
        "tags": ["eax", "x2x", "preference", "dpo", "machine-translation"],
        "pretty_name": recipe.name,
        "size_categories": [_size_category(result.total_pairs)],
        "configs": _configs(directions),
    }
    template = resources.files("eax_data.cards").joinpath("templates", TEMPLATE).read_text(encoding="utf-8")
    env = Environment(keep_trailing_newline=True, autoescape=False)
    return env.from_string(template).render(
        front_matter=yaml.safe_dump(front, sort_keys=False, allow_unicode=True),
        name=recipe.name,
        tool_version=__version__,
        total_pairs=result.total_pairs,
        n_directions=len([d for d in directions if pairs[d]]),
        total_tasks=total_tasks,
        matrix=counts_matrix(pairs, list(recipe.languages)),
        example_config=directions[0] if directions else "all",
        recipe=recipe,
        license=license_id,
        generator=_first_value(out, "generator") or recipe.generator.model,
        scorer=_first_value(out, "scorer") or recipe.scorer.kind,
        fingerprint=recipe.fingerprint(),
        drops=result.drops,
    )


def write_card(recipe, out: str, result) -> str:
    path = os.path.join(out, "README.md")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render_card(recipe, out, result))
    return path


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "n>1M"

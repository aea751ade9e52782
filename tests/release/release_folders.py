"""Hand-made valid build folders for the release tests (no generation, no models)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from eax_data.recipe import load_recipe
from eax_data.schema import CANDIDATE_SCHEMA, PAIR_SCHEMA

README = """---
configs:
- config_name: all
  data_files:
  - split: train
    path: data/*/*.parquet
  default: true
{configs}---

# test build
"""


def pair_row(direction: str, i: int) -> dict:
    src, trg = direction.split("-")
    task = f"{direction}-{i:04d}"
    chosen, rejected = 0.5 + (i % 5) / 10, (i % 3) / 10
    return {
        "prompt": [{"role": "user", "content": f"Translate from {src} into {trg}: sentence {i}"}],
        "chosen": [{"role": "assistant", "content": f"good {trg} {i}"}],
        "rejected": [{"role": "assistant", "content": f"bad {trg} {i}"}],
        "src_lang": src, "trg_lang": trg, "ref_lang": "en",
        "src_text": f"sentence {i}", "ref_text": f"anchor {i}",
        "chosen_score": chosen, "rejected_score": rejected, "margin": chosen - rejected,
        "task_id": task, "source_id": f"demo:{i}", "generator": "tiny-gen@abc", "scorer": "embedding:test",
    }


def candidate_row(direction: str, i: int, k: int, reason=None) -> dict:
    src, trg = direction.split("-")
    task = f"{direction}-{i:04d}"
    return {
        "id": f"{task}/{k}", "task_id": task, "candidate_index": k, "text": f"cand {k} {i}",
        "src_lang": src, "trg_lang": trg, "ref_lang": "en", "src_text": f"sentence {i}", "ref_text": f"anchor {i}",
        "source_id": f"demo:{i}", "finish_reason": "stop", "generator": "tiny-gen@abc", "lid_lang": trg,
        "lid_score": 0.9, "score": 0.5 + k / 10, "scorer": "embedding:test", "filter_reason": reason,
    }


def write_direction(folder: str | Path, direction: str, indices) -> None:
    out = Path(folder) / "data" / direction
    out.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([pair_row(direction, i) for i in indices], schema=PAIR_SCHEMA)
    pq.write_table(table, out / "000_train-00000.parquet")


def make_build(folder: str | Path, rows: dict[str, range] | None = None) -> Path:
    """A build folder as a finished build leaves it, work folders (tasks/ logs/ checkpoints/) included."""
    folder = Path(folder)
    rows = rows or {"de-fr": range(3), "fr-de": range(2)}
    recipe = load_recipe(None)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "recipe.yaml").write_text(recipe.to_yaml(), encoding="utf-8")
    for direction, indices in rows.items():
        write_direction(folder, direction, indices)
    candidates = [candidate_row(d, i, k) for d, idx in rows.items() for i in idx for k in range(2)]
    (folder / "candidates").mkdir(exist_ok=True)
    pq.write_table(pa.Table.from_pylist(candidates, schema=CANDIDATE_SCHEMA), folder / "candidates" / "000_00000.parquet")
    excluded = [candidate_row("de-fr", 0, 3, reason="length_ratio")]
    (folder / "excluded" / "length_ratio").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(excluded, schema=CANDIDATE_SCHEMA),
                   folder / "excluded" / "length_ratio" / "000_00000.parquet")
    stats = {"recipe_fingerprint": recipe.fingerprint(), "pairs": {d: len(i) for d, i in rows.items()},
             "drops": {"length_ratio": 1}, "stages": {}}
    (folder / "stats.json").write_text(json.dumps(stats, indent=2), encoding="utf-8")
    configs = "".join(f"- config_name: {d}\n  data_files:\n  - split: train\n    path: data/{d}/*.parquet\n"
                      for d in sorted(rows))
    (folder / "README.md").write_text(README.format(configs=configs), encoding="utf-8")
    for work in ("tasks", "logs", "checkpoints/00000"):
        (folder / work).mkdir(parents=True, exist_ok=True)
        (folder / work / "keep.txt").write_text("work file, never published\n")
    return folder


def snapshot(folder: str | Path) -> dict[str, tuple[bytes, int]]:
    """path -> (bytes, mtime_ns) of every file: to show a folder was not touched."""
    root = Path(folder)
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def files(folder: str | Path, skip=(".git",)) -> dict[str, bytes]:
    root = Path(folder)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not set(p.relative_to(root).parts) & set(skip)}


def direction_names(folder: str | Path) -> list[str]:
    return sorted(os.listdir(Path(folder) / "data"))

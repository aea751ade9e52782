"""Fixtures of the training tests: a tiny English-centric preference folder and isolated caches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def pair_row(direction: str, i: int) -> dict:
    src, trg = direction.split("-")
    return {
        "prompt": [{"role": "user", "content": f"Translate the following text from {src} into {trg}.\n{src}: sentence {i}\n{trg}:"}],
        "chosen": [{"role": "assistant", "content": f"good translation {i}"}],
        "rejected": [{"role": "assistant", "content": f"bad {i} bad {i} bad"}],
        "src_lang": src, "trg_lang": trg, "ref_lang": "en", "src_text": f"sentence {i}", "ref_text": f"sentence {i}",
        "chosen_score": 0.9, "rejected_score": 0.2, "margin": 0.7, "task_id": f"{direction}-{i}",
        "source_id": f"test:{i}", "generator": "tiny@test", "scorer": "chrf",
    }


def write_pairs(folder: Path, direction: str, rows, name: str = "train-0.parquet", transform=None) -> Path:
    """data/<direction>/<name> in PAIR_SCHEMA; ``transform`` may edit the row dicts first."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from eax_data.schema import PAIR_SCHEMA

    records = [pair_row(direction, i) for i in rows]
    if transform:
        records = [transform(r) for r in records]
    out = Path(folder) / "data" / direction
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(records, schema=PAIR_SCHEMA), out / name)
    return out / name


@pytest.fixture
def pair_folder(tmp_path) -> Path:
    """A build-like folder (publishable: recipe.yaml, stats.json, card) with en-de (8 rows) and en-fr (4)."""
    from eax_data.recipe import load_recipe

    folder = tmp_path / "rm-data"
    write_pairs(folder, "en-de", range(8))
    write_pairs(folder, "en-fr", range(4))
    (folder / "recipe.yaml").write_text(load_recipe(None).to_yaml(), encoding="utf-8")
    (folder / "stats.json").write_text(json.dumps({"pairs": {"en-de": 8, "en-fr": 4}}), encoding="utf-8")
    (folder / "README.md").write_text("---\nconfigs:\n- config_name: all\n  data_files:\n  - split: train\n"
                                      "    path: data/*/*.parquet\n---\n# rm data\n", encoding="utf-8")
    return folder


@pytest.fixture
def spy_train(monkeypatch):
    """``spy_train(TrainerClass)``: the list of that class's trainers whose train() ran, kept to assert on."""

    def spy_on(trainer_cls) -> list:
        seen, original = [], trainer_cls.train

        def spy(self, *args, **kwargs):
            seen.append(self)
            return original(self, *args, **kwargs)

        monkeypatch.setattr(trainer_cls, "train", spy)
        return seen

    return spy_on


@pytest.fixture
def busy_output(tmp_path) -> Path:
    """An output folder that already holds a model: every trainer must refuse to train into it."""
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "model.safetensors").write_text("an earlier model")
    return busy


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No network, no telemetry, and every cache the code touches inside tmp_path."""
    import datasets.config

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("EAX_DATA_STORE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-datasets")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-datasets"))

"""The shared model card: Hub metadata only for Hub ids, release provenance, results from trainer logs."""

from __future__ import annotations

import yaml

from eax_data.training.model_card import render_model_card, training_results

LOGS = [
    {"loss": 0.70, "accuracy": 0.25, "learning_rate": 1e-5, "epoch": 0.5, "step": 10},
    {"eval_loss": 0.69, "eval_accuracy": 0.5, "epoch": 0.5, "step": 10},
    {"loss": 0.41, "accuracy": 0.875, "learning_rate": 5e-6, "epoch": 1.0, "step": 20},
    {"train_loss": 0.55, "train_runtime": 12.5, "epoch": 1.0, "step": 20},
]


def _card(base_model: str, data: dict, logs=LOGS) -> str:
    return render_model_card(
        title="t", summary="s", trainer="trl RewardTrainer", base_model=base_model, base_model_revision="abc123",
        data=data, hyperparameters={"learning_rate": 1e-5, "max_length": None}, rows={"loaded": 20},
        results=training_results(logs), versions={"trl": "1.16.0"}, tags=("reward-model",),
    )


def test_results_come_from_the_last_logged_step():
    results = training_results(LOGS)
    assert results["final"] == {"loss": 0.41, "accuracy": 0.875} and results["final_step"] == 20
    assert results["summary"] == {"train_loss": 0.55, "train_runtime": 12.5}
    assert results["eval"] == {"eval_loss": 0.69, "eval_accuracy": 0.5}
    assert training_results([]) == {}


def test_hub_release_card_metadata_and_provenance(tmp_path):
    data = {"source": "hub", "repo_id": "acme/rm-data", "tag": "v1.0.0", "commit": "f" * 40, "path": "/cache/x",
            "content_hash": "sha256:00", "directions": ["en-de"], "rows_per_direction": {"en-de": 20}}
    card = _card("Qwen/Qwen2.5-0.5B-Instruct", data)
    meta = yaml.safe_load(card.split("---")[1])
    assert meta["base_model"] == "Qwen/Qwen2.5-0.5B-Instruct" and meta["datasets"] == ["acme/rm-data"]
    assert "Dataset: `acme/rm-data` (Hugging Face Hub)" in card and f"Commit: `{'f' * 40}`" in card
    assert "(revision `abc123`)" in card and "| max_length | null |" in card and "| loss | 0.41 |" in card
    assert "| eval_accuracy | 0.5 |" in card and "- trl: 1.16.0" in card

    local = {**data, "source": "folder", "path": str(tmp_path)}
    del local["repo_id"]
    card = _card(str(tmp_path), local, logs=[])
    meta = yaml.safe_load(card.split("---")[1])
    assert "base_model" not in meta and "datasets" not in meta  # local paths are no Hub ids
    assert f"local build folder `{tmp_path}`" in card and "No metrics were logged." in card

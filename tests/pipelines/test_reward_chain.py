"""The paper's chain on CPU with tiny models: reward-data build -> reward-model training -> RM-scored x2x build."""

import glob
import os

import pyarrow.parquet as pq
import pytest

from eax_data.pipelines.build import build
from eax_data.schema import PAIR_SCHEMA
from tests.pipelines.test_build_e2e import _pair_rows, _recipe


@pytest.fixture(scope="module")
def reward_data(tiny_model_dir, tmp_path_factory):
    recipe = _recipe(
        tiny_model_dir,
        mode="reward_data",
        scorer={"kind": "chrf"},
        **{"sampling.n": 4, "execution.limit": 4},
    )
    out = str(tmp_path_factory.mktemp("reward") / "data")
    return recipe, out, build(recipe, out)


def test_reward_data_tasks_are_english_centric_and_scored_against_the_human_translation(reward_data):
    recipe, out, result = reward_data
    assert recipe.scorer.reference == "task"  # reward_data default
    directions = set(result.pairs_per_direction)
    assert directions and all("en" in name.split("-") for name in directions)
    rows = _pair_rows(out)
    assert rows and set(rows[0]) == set(PAIR_SCHEMA.names)
    for row in rows:
        assert row["ref_lang"] == row["trg_lang"]  # the reference is the human target sentence
        assert "Translate the following text from" in row["prompt"][0]["content"]
        assert row["chosen_score"] > row["rejected_score"]
        assert row["scorer"].startswith("chrf:sacrebleu")
    # the generation prompt was the direct one: the reference (= the answer) never reached the model
    card = open(os.path.join(out, "README.md"), encoding="utf-8").read()
    assert "reward-model training" in card and "Reference:" not in card.split("Generation prompt:")[1][:300]
    tasks = sum(1 for _ in glob.glob(os.path.join(out, "tasks", "*.jsonl.gz")))
    assert tasks == 1


def test_reward_model_trained_on_it_scores_an_x2x_build(reward_data, tiny_model_dir, tmp_path):
    from eax_data.training.reward_model import load_reward_model_config, train_reward_model

    _, data_dir, _ = reward_data
    config = load_reward_model_config(max_steps=2, per_device_train_batch_size=2, logging_steps=1, gradient_checkpointing=False)
    model_dir = train_reward_model(data_dir, tiny_model_dir, str(tmp_path / "rm"), config=config)
    card = open(os.path.join(model_dir, "README.md"), encoding="utf-8").read()
    assert data_dir in card or os.path.basename(data_dir) in card

    recipe = _recipe(tiny_model_dir, scorer={"kind": "reward_model", "model": model_dir, "batch_size": 8}, **{"execution.limit": 2})
    out = str(tmp_path / "x2x")
    result = build(recipe, out)
    assert result.total_pairs > 0
    candidates = pq.read_table(glob.glob(os.path.join(out, "candidates", "*.parquet"))[0]).to_pylist()
    assert all(c["scorer"].startswith(f"reward_model:{model_dir}@") for c in candidates)
    assert len({round(c["score"], 6) for c in candidates}) > 1  # real, varying reward-model scores

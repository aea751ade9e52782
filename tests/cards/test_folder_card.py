"""The card of a build folder, rendered from recipe.yaml, stats.json and data/ alone."""

import os

import pytest
import yaml
from card_folders import GENERATOR_ID, SCORER_ID, make_folder, pair_row, scored_rows

from eax_data.cards.plots import PLOT_FILES
from eax_data.cards.render import ReleaseInfo, counts_matrix, render_card_for_folder, write_card_for_folder
from eax_data.recipe import load_recipe

RELEASE = ReleaseInfo("acme/eax-x2x", "1.1.0", content_sha="sha256:feedface")


def _front(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def test_front_matter_has_a_config_per_direction_and_all(demo_folder):
    from huggingface_hub import DatasetCard

    card = render_card_for_folder(demo_folder, RELEASE)
    front = _front(card)
    configs = {c["config_name"]: c["data_files"][0]["path"] for c in front["configs"]}
    assert configs == {"all": "data/*/*.parquet", "de-fr": "data/de-fr/*.parquet", "de-zh": "data/de-zh/*.parquet", "zh-fr": "data/zh-fr/*.parquet"}
    assert [c["config_name"] for c in front["configs"] if c.get("default")] == ["all"]
    assert front["language"] == ["de", "fr", "es", "zh", "en"]
    assert front["license"] == "cc0-1.0" and front["task_categories"] == ["translation"]
    assert front["size_categories"] == ["n<1K"] and front["pretty_name"] == load_recipe(None).name
    assert DatasetCard(card).data.configs == front["configs"]  # the Hub's parser agrees


def test_card_body_from_the_data(demo_folder):
    card = render_card_for_folder(demo_folder, RELEASE)
    assert "**25 pairs** in **3 directions** from 30 tasks." in card
    assert counts_matrix({"de-fr": 12, "de-zh": 5, "zh-fr": 8}, ["de", "fr", "es", "zh"]) in card
    assert "| de-fr | 10 | 12 | 1.20 |" in card  # per-direction tasks, pairs, yield
    for name in PLOT_FILES:
        assert f"]({name})" in card
    assert 'load_dataset("acme/eax-x2x", "de-fr", revision="v1.1.0")' in card
    assert 'load_dataset("acme/eax-x2x", "all", revision="v1.1.0")' in card
    assert "| wrong_language | 7 |" in card and "| no_pair | 3 |" in card and "| length_ratio | 2 |" in card
    assert f"`{GENERATOR_ID}` (transformers)" in card and f"`{SCORER_ID}`" in card
    assert f"`{load_recipe(None).fingerprint()}`" in card  # the recipe hash from stats.json
    assert "`sha256:feedface`" in card
    for key in ("sampling.n", "sampling.temperature", "sampling.top_p", "sampling.seed", "pairs.min_margin", "pairs.percentile_scaling"):
        assert f"| `{key}` |" in card
    assert "First release." in card
    assert "@article{eax2025" in card


def test_recipe_hash_is_the_one_the_data_was_built_with(demo_folder):
    stats = open(os.path.join(demo_folder, "stats.json"), encoding="utf-8").read()
    with open(os.path.join(demo_folder, "stats.json"), "w", encoding="utf-8") as handle:
        handle.write(stats.replace(load_recipe(None).fingerprint(), "0123456789abcdef"))
    assert "| recipe hash | `0123456789abcdef`" in render_card_for_folder(demo_folder)


def test_local_card_without_release(demo_folder):
    card = render_card_for_folder(demo_folder)
    assert 'load_dataset("PATH/TO/THIS/FOLDER", "de-fr")' in card
    assert "revision=" not in card and "## Changelog" not in card


def test_card_with_a_previous_release_has_a_changelog(tmp_path):
    previous = make_folder(tmp_path / "old", {"de-fr": [pair_row("de-fr", "t1"), pair_row("de-fr", "t2")]}, **{"pairs.min_margin": 0.05})
    current = make_folder(tmp_path / "new", {"de-fr": [pair_row("de-fr", "t1"), pair_row("de-fr", "t3")]}, **{"pairs.min_margin": 0.1})
    release = ReleaseInfo("acme/eax-x2x", "1.1.0", previous_dir=previous, previous_version="1.0.0")
    card = render_card_for_folder(current, release)
    assert "## Changelog" in card and "Changes since **v1.0.0**." in card
    assert "| de-fr | 2 | 2 | +1 | -1 | 0 | 1 |" in card
    assert "- `pairs.min_margin`: `0.05` → `0.1`" in card
    assert "First release." not in card


def test_rendering_twice_gives_identical_text_and_files(demo_folder):
    release = ReleaseInfo("acme/eax-x2x", "1.1.0", previous_dir=demo_folder, previous_version="1.0.0")
    assert render_card_for_folder(demo_folder, release) == render_card_for_folder(demo_folder, release)
    path = write_card_for_folder(demo_folder, release)
    assert path == os.path.join(demo_folder, "README.md")
    first = {name: open(os.path.join(demo_folder, name), "rb").read() for name in ("README.md", *PLOT_FILES)}
    write_card_for_folder(demo_folder, release)
    assert {name: open(os.path.join(demo_folder, name), "rb").read() for name in first} == first
    assert first["README.md"].decode() == render_card_for_folder(demo_folder, release)


def test_empty_build_says_there_are_no_plots(tmp_path):
    folder = make_folder(tmp_path / "empty", {}, drops={"wrong_language": 40})
    write_card_for_folder(folder)
    card = open(os.path.join(folder, "README.md"), encoding="utf-8").read()
    assert "**0 pairs**" in card and "no score or margin plots" in card
    assert "assets/" not in card and not os.path.exists(os.path.join(folder, "assets"))
    assert "| wrong_language | 40 |" in card


def test_the_card_holds_no_environment_values(demo_folder, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_SECRETSECRETSECRET")
    monkeypatch.setenv("EAX_ENDPOINT_KEY", "sk-SECRETSECRET")
    recipe = load_recipe(None).replace(**{"generator.backend": "endpoint", "generator.endpoint_url": "http://10.0.0.7:8000/v1", "generator.api_key_env": "EAX_ENDPOINT_KEY"})
    with open(os.path.join(demo_folder, "recipe.yaml"), "w", encoding="utf-8") as handle:
        handle.write(recipe.to_yaml())
    card = render_card_for_folder(demo_folder, RELEASE)
    assert "SECRET" not in card and "10.0.0.7" not in card


def test_a_folder_without_recipe_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="recipe.yaml"):
        render_card_for_folder(str(tmp_path))


def test_many_rows_give_a_larger_size_category(tmp_path):
    folder = make_folder(tmp_path / "big", {"de-fr": scored_rows("de-fr", 1200)})
    assert _front(render_card_for_folder(folder))["size_categories"] == ["1K<n<10K"]

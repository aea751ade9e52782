"""The dataset card: the pair-count matrix and the rendered README."""

import yaml

from eax_data.cards.render import _size_category, counts_matrix, matrix_languages, render_card
from eax_data.pipelines.build import BuildResult
from eax_data.recipe import load_recipe

COUNTS = {"de-fr": 3, "fr-de": 1, "de-zh": 2, "zh-fr": 5}


def test_counts_matrix_has_a_dash_diagonal_and_totals():
    assert matrix_languages(load_recipe(None).replace(languages=["en", "de", "fr", "zh"])) == ["de", "fr", "zh"]
    assert counts_matrix(COUNTS, ["de", "fr", "zh"]) == "\n".join(
        [
            "| src \\ trg | de | fr | zh | total |",
            "|---|---|---|---|---|",
            "| **de** | – | 3 | 2 | 5 |",
            "| **fr** | 1 | – | 0 | 1 |",
            "| **zh** | 0 | 5 | – | 5 |",
            "| **total** | 1 | 8 | 2 | 11 |",
        ]
    )


def test_counts_matrix_follows_the_language_order_and_ignores_other_directions():
    table = counts_matrix({"fr-de": 4, "de-fr": 0, "es-de": 9}, ["fr", "de"])
    assert table.splitlines() == [
        "| src \\ trg | fr | de | total |",
        "|---|---|---|---|",
        "| **fr** | – | 4 | 4 |",
        "| **de** | 0 | – | 0 |",
        "| **total** | 0 | 4 | 4 |",
    ]


def test_size_category():
    assert [_size_category(n) for n in (0, 999, 1_000, 50_000, 999_999, 1_000_000, 250_000_000, 10**13)] == [
        "n<1K",
        "n<1K",
        "1K<n<10K",
        "10K<n<100K",
        "100K<n<1M",
        "1M<n<10M",
        "100M<n<1B",
        "n>1T",
    ]


def test_render_card_front_matter_matrix_and_drops(tmp_path):
    recipe = load_recipe(None)
    stats = {"tasks": {"🔀 Expand to x2x": {"tasks": 30, "tasks_de-fr": 10, "tasks_de-zh": 10, "tasks_zh-fr": 10}}}
    result = BuildResult(str(tmp_path), {"de-fr": 3, "de-zh": 2, "zh-fr": 0}, {"off_target": 7, "empty": 2}, stats)
    card = render_card(recipe, str(tmp_path), result)
    assert card.startswith("---\n")
    front = yaml.safe_load(card.split("---\n")[1])
    assert front["language"] == ["de", "fr", "es", "zh", "en"]  # English: the anchor column
    assert front["license"] == "cc0-1.0"
    assert front["size_categories"] == ["n<1K"]
    configs = {c["config_name"]: c["data_files"][0]["path"] for c in front["configs"]}
    assert configs == {"all": "data/*/*.parquet", "de-fr": "data/de-fr/*.parquet", "de-zh": "data/de-zh/*.parquet", "zh-fr": "data/zh-fr/*.parquet"}
    assert "**5 pairs** in **2 directions** from 30 tasks." in card
    assert counts_matrix(result.pairs_per_direction, list(recipe.languages)) in card
    assert "| off_target | 7 |  |\n| empty | 2 | empty candidate |" in card
    assert f"`{recipe.fingerprint()}`" in card
    assert "`smollm2-135m` (transformers)" in card  # no candidates on disk: falls back to the recipe


def test_reward_data_matrix_has_english_on_both_axes():
    recipe = load_recipe(None).replace(mode="reward_data", languages=["de", "fr"], scorer={"kind": "chrf"})
    assert matrix_languages(recipe) == ["en", "de", "fr"]
    table = counts_matrix({"en-de": 4, "de-en": 2}, matrix_languages(recipe))
    assert "| **en** | – | 4 | 0 | 4 |" in table and "| **de** | 2 | – | 0 | 2 |" in table

"""Recipe loading and validation: defaults, clear errors naming the file and field, round-trips."""

import textwrap

import pytest
import yaml

from eax_data.recipe import PairsConfig, Recipe, RecipeError, load_recipe, recipe_from_dict


def write(tmp_path, text, name="recipe.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(tmp_path, text) -> str:
    path = write(tmp_path, text)
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    return message


def test_bundled_default_recipe_loads():
    recipe = load_recipe(None)
    assert isinstance(recipe, Recipe)
    assert recipe.name == "eax-demo-x2x"
    assert recipe.languages == ("de", "fr", "es", "zh")
    assert recipe.corpus.kind == "multiway" and recipe.corpus.path == "demo"
    assert recipe.sampling.temperature == 0.8 and recipe.sampling.n == 4
    assert recipe.pairs.min_margin == 0.05
    assert recipe.execution.limit == 20
    # sections the file does not mention keep their dataclass defaults
    assert recipe.pairs.max_per_direction is None
    assert recipe.scorer.batch_size == 64


def test_minimal_recipe_fills_in_defaults(tmp_path):
    recipe = load_recipe(write(tmp_path, "languages: [de, zh]\n"))
    assert recipe.languages == ("de", "zh")
    assert recipe == Recipe(languages=("de", "zh"))


def test_unknown_key_suggests_the_close_one(tmp_path):
    message = load_error(tmp_path, "sampling:\n  temprature: 0.5\n")
    assert "sampling: unknown key 'temprature'" in message
    assert "did you mean 'temperature'?" in message


def test_unknown_key_without_close_match_lists_known_keys(tmp_path):
    message = load_error(tmp_path, "zzzzzz: 1\n")
    assert "unknown key 'zzzzzz'" in message
    assert "known keys:" in message and "languages" in message and "sampling" in message


def test_unknown_language_code(tmp_path):
    message = load_error(tmp_path, "languages: [de, xx]\n")
    assert "languages:" in message
    assert "'xx'" in message and "known:" in message


def test_fewer_than_two_non_english_languages(tmp_path):
    message = load_error(tmp_path, "languages: [en, de]\n")
    assert "languages: x2x needs at least two non-English languages" in message
    # the same language twice under different spellings is still one language
    message = load_error(tmp_path, "languages: [de, deu_Latn]\n")
    assert "at least two non-English languages" in message


def test_language_listed_twice(tmp_path):
    message = load_error(tmp_path, "languages: [de, fr, deu_Latn]\n")
    assert "languages: listed twice" in message and "'de'" in message


def test_string_for_int_is_a_type_error(tmp_path):
    message = load_error(tmp_path, "sampling:\n  n: '4'\n")
    assert "sampling.n: expected an integer, got '4'" in message


def test_bool_is_not_an_int_and_string_is_not_a_list(tmp_path):
    assert "execution.workers: expected an integer" in load_error(tmp_path, "execution:\n  workers: true\n")
    assert "languages: expected a list" in load_error(tmp_path, "languages: de\n")


def test_section_must_be_a_mapping(tmp_path):
    message = load_error(tmp_path, "sampling: 3\n")
    assert "sampling: expected a mapping" in message


def test_literal_out_of_range(tmp_path):
    message = load_error(tmp_path, "generator:\n  backend: foo\n")
    assert "generator.backend: 'foo' is not one of" in message
    assert "'transformers'" in message and "'vllm'" in message and "'endpoint'" in message


def test_top_p_zero_is_rejected(tmp_path):
    message = load_error(tmp_path, "sampling:\n  top_p: 0\n")
    assert "sampling.top_p: must be in (0, 1]" in message


def test_int_is_accepted_for_float_fields(tmp_path):
    recipe = load_recipe(write(tmp_path, "sampling:\n  top_p: 1\n"))
    assert recipe.sampling.top_p == 1.0 and isinstance(recipe.sampling.top_p, float)


def test_valid_score_range_low_above_high(tmp_path):
    message = load_error(tmp_path, "pairs:\n  valid_score_range: [0.9, 0.1]\n")
    assert "pairs.valid_score_range: low 0.9 is above high 0.1" in message


def test_valid_score_range_needs_two_values(tmp_path):
    message = load_error(tmp_path, "pairs:\n  valid_score_range: [0.1]\n")
    assert "pairs.valid_score_range: expected 2 values, got 1" in message


def test_endpoint_backend_needs_endpoint_url(tmp_path):
    message = load_error(tmp_path, "generator:\n  backend: endpoint\n")
    assert "generator.endpoint_url: required by backend 'endpoint'" in message
    recipe = load_recipe(write(tmp_path, "generator:\n  backend: endpoint\n  endpoint_url: http://localhost:8000/v1\n", "ok.yaml"))
    assert recipe.generator.endpoint_url == "http://localhost:8000/v1"


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    assert str(info.value) == f"{path}: recipe file not found"


def test_invalid_yaml(tmp_path):
    message = load_error(tmp_path, "languages: [de, fr\nname: x\n")
    assert "not valid YAML" in message


def test_non_mapping_yaml(tmp_path):
    message = load_error(tmp_path, "- de\n- fr\n")
    assert "a recipe is a mapping of sections, got list" in message


def test_empty_file_is_the_default_recipe(tmp_path):
    assert load_recipe(write(tmp_path, "")) == Recipe()


def test_to_yaml_round_trips(tmp_path):
    for recipe in (
        load_recipe(None),
        Recipe(
            languages=("ru", "ja", "en"),
            pairs=PairsConfig(min_margin=0.1, min_winner_score=0.5, valid_score_range=(0.0, 1.0), max_per_direction=7),
        ).replace(**{"filters.length_ratio": None, "sampling.stop": ["</s>", "\n\n"]}),
    ):
        path = tmp_path / "dumped.yaml"
        path.write_text(recipe.to_yaml(), encoding="utf-8")
        again = load_recipe(path)
        assert again == recipe
        assert again.fingerprint() == recipe.fingerprint()
        assert yaml.safe_load(recipe.to_yaml()) == recipe.to_dict()


def test_replace_with_dotted_and_top_level_keys():
    recipe = load_recipe(None)
    changed = recipe.replace(**{"execution.limit": 5, "pairs.min_margin": 1, "filters.language_id.backend": "none"}, name="other")
    assert changed.execution.limit == 5
    assert changed.pairs.min_margin == 1.0
    assert changed.filters.language_id.backend == "none"
    assert changed.name == "other"
    # the original is untouched and the rest carries over
    assert recipe.execution.limit == 20 and recipe.name == "eax-demo-x2x"
    assert changed.sampling == recipe.sampling and changed.languages == recipe.languages


def test_replace_validates_like_loading():
    recipe = load_recipe(None)
    with pytest.raises(RecipeError, match=r"^<overrides>: sampling.top_p: must be in \(0, 1\]"):
        recipe.replace(**{"sampling.top_p": 0.0})
    with pytest.raises(RecipeError, match="generator.backend: 'foo' is not one of"):
        recipe.replace(**{"generator.backend": "foo"})


def test_fingerprint_changes_when_a_value_changes():
    recipe = load_recipe(None)
    assert recipe.fingerprint() == load_recipe(None).fingerprint()
    assert len(recipe.fingerprint()) == 16
    assert recipe.replace(**{"sampling.seed": 1}).fingerprint() != recipe.fingerprint()
    assert recipe.replace(**{"pairs.min_margin": 0.06}).fingerprint() != recipe.fingerprint()
    assert recipe.replace(languages=["de", "fr", "es"]).fingerprint() != recipe.fingerprint()


def test_language_aliases_are_normalised(tmp_path):
    recipe = load_recipe(write(tmp_path, "languages: [deu_Latn, zho_Hans, FR, eng_Latn]\n"))
    assert recipe.languages == ("de", "zh", "fr", "en")
    assert recipe_from_dict({"languages": ["zh-cn", "spa_Latn"]}).languages == ("zh", "es")


def test_recipe_from_dict_names_its_source():
    with pytest.raises(RecipeError, match=r"^cli: sampling.n: must be >= 1$"):
        recipe_from_dict({"sampling": {"n": 0}}, source="cli")

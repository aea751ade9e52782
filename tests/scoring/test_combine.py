"""Ensemble combination: members normalised within their direction, then weighted-averaged."""

import numpy as np
import pytest

from eax_data.scoring.combine import EnsembleCombiner, collect_scores

ROWS = [
    ("de-fr", {"cos": 0.2, "chrf": 10.0}),
    ("de-fr", {"cos": 0.4, "chrf": 30.0}),
    ("de-fr", {"cos": 0.6, "chrf": 20.0}),
    ("zh-de", {"cos": 0.9, "chrf": 90.0}),
    ("zh-de", {"cos": 0.7, "chrf": 50.0}),
]


def test_collect_scores_sorts_per_direction_and_member():
    stats = collect_scores(ROWS, ["cos", "chrf"])
    assert stats["de-fr"]["chrf"].tolist() == [10.0, 20.0, 30.0]
    assert stats["zh-de"]["cos"].tolist() == [0.7, 0.9]


def test_z_mean_uses_each_directions_own_mean_and_spread():
    combine = EnsembleCombiner((("cos", 1.0), ("chrf", 1.0)), "z_mean", collect_scores(ROWS, ["cos", "chrf"]))
    cos_z = (0.6 - 0.4) / np.std([0.2, 0.4, 0.6])
    chrf_z = (20.0 - 20.0) / np.std([10.0, 20.0, 30.0])
    assert combine("de-fr", {"cos": 0.6, "chrf": 20.0}) == pytest.approx((cos_z + chrf_z) / 2)
    # the same raw scores mean something else in another direction
    assert combine("zh-de", {"cos": 0.9, "chrf": 90.0}) == pytest.approx(1.0)


def test_weights_and_rank_mean():
    stats = collect_scores(ROWS, ["cos", "chrf"])
    ranks = EnsembleCombiner((("cos", 1.0), ("chrf", 3.0)), "rank_mean", stats)
    # cos 0.2 is the lowest of three (percentile 100*0.5/3), chrf 30 the highest (100*2.5/3)
    expected = (1.0 * 100 * 0.5 / 3 + 3.0 * 100 * 2.5 / 3) / 4.0
    assert ranks("de-fr", {"cos": 0.2, "chrf": 30.0}) == pytest.approx(expected)
    assert 0.0 <= ranks("zh-de", {"cos": 0.9, "chrf": 50.0}) <= 100.0


def test_a_constant_member_contributes_zero_and_a_missing_one_is_an_error():
    stats = collect_scores([("x-y", {"a": 1.0, "b": 5.0}), ("x-y", {"a": 1.0, "b": 7.0})], ["a", "b"])
    combine = EnsembleCombiner((("a", 1.0), ("b", 1.0)), "z_mean", stats)
    assert combine("x-y", {"a": 1.0, "b": 7.0}) == pytest.approx(0.5)
    with pytest.raises(KeyError, match="'b'"):
        combine("x-y", {"a": 1.0})
    with pytest.raises(ValueError):
        EnsembleCombiner((("a", 1.0),), "median", stats)

"""The pure pair rule (eax_data.pairs) on hand-made score tables."""

import numpy as np
import pytest

from eax_data.pairs import Pair, PairRule, ScoredCandidate, percentile_scale


def table(*scores):
    return [ScoredCandidate(index=i, text=f"c{i}", score=float(s)) for i, s in enumerate(scores)]


def chosen_rejected(pair: Pair | None):
    assert pair is not None
    return pair.chosen.index, pair.rejected.index


def test_best_and_worst():
    pair = PairRule().select(table(0.5, 0.9, 0.1, 0.7))
    assert chosen_rejected(pair) == (1, 2)
    assert pair.chosen.text == "c1" and pair.rejected.text == "c2"
    assert pair.margin == pytest.approx(0.8)


def test_order_of_the_input_does_not_matter():
    candidates = table(0.5, 0.9, 0.1, 0.7)
    assert chosen_rejected(PairRule().select(candidates[::-1])) == (1, 2)


def test_ties_in_the_lowest_score_go_to_the_lower_index():
    assert chosen_rejected(PairRule().select(table(0.8, 0.2, 0.5, 0.2))) == (0, 1)
    assert chosen_rejected(PairRule().select(table(0.2, 0.2, 0.8)[::-1])) == (2, 0)


def test_ties_in_the_highest_score_go_to_the_lower_index():
    assert chosen_rejected(PairRule().select(table(0.3, 0.9, 0.1, 0.9))) == (1, 2)
    assert chosen_rejected(PairRule().select(table(0.9, 0.9, 0.1)[::-1])) == (0, 2)


def test_a_single_candidate_gives_no_pair():
    assert PairRule().select(table(0.7)) is None
    assert PairRule().select([]) is None


def test_all_equal_scores_give_no_pair():
    # margin must be > 0: the reference code could pair a candidate with itself
    assert PairRule().select(table(0.4, 0.4, 0.4)) is None
    assert PairRule(min_margin=-1.0).select(table(0.4, 0.4)) is None


def test_only_tied_losers_and_one_winner():
    assert chosen_rejected(PairRule().select(table(0.4, 0.4, 0.6))) == (2, 0)


def test_min_margin():
    candidates = table(0.50, 0.62, 0.55)
    assert chosen_rejected(PairRule(min_margin=0.1).select(candidates)) == (1, 0)
    assert chosen_rejected(PairRule(min_margin=0.12).select(table(0.5, 0.62))) == (1, 0)  # >=, not >
    assert PairRule(min_margin=0.2).select(candidates) is None


def test_min_winner_score_must_be_reached():
    assert PairRule(min_winner_score=0.95).select(table(0.1, 0.9, 0.5)) is None
    assert chosen_rejected(PairRule(min_winner_score=0.9).select(table(0.1, 0.9, 0.5))) == (1, 0)


def test_best_eligible_winner_is_chosen_even_if_not_the_highest_overall():
    # 1.4 (index 3) is the highest overall but out of range; the best remaining one that reaches
    # min_winner_score wins, the others (0.55 below the threshold) cannot
    rule = PairRule(min_winner_score=0.6, valid_score_range=(0.0, 1.0))
    assert chosen_rejected(rule.select(table(0.2, 0.65, 0.55, 1.4, 0.61))) == (1, 0)
    assert rule.select(table(0.2, 0.55, 1.4)) is None
    # with both thresholds the highest candidate still wins when it passes both
    rule = PairRule(min_winner_score=0.6, min_margin=0.3)
    assert chosen_rejected(rule.select(table(0.2, 0.65, 0.55, 0.9))) == (3, 0)
    assert rule.select(table(0.4, 0.65, 0.55)) is None  # 0.65 reaches the score, not the margin


def test_valid_score_range_drops_out_of_range_candidates():
    # 1.5 (index 1) and -0.2 (index 2) are outside [0, 1]: without the range they would be the pair
    candidates = table(0.3, 1.5, -0.2, 0.8, 0.5)
    assert chosen_rejected(PairRule().select(candidates)) == (1, 2)
    pair = PairRule(valid_score_range=(0.0, 1.0)).select(candidates)
    assert chosen_rejected(pair) == (3, 0)
    assert pair.margin == pytest.approx(0.5)


def test_valid_score_range_bounds_are_inclusive():
    assert chosen_rejected(PairRule(valid_score_range=(0.2, 0.8)).select(table(0.2, 0.8, 0.9))) == (1, 0)


def test_valid_score_range_down_to_one_candidate_gives_no_pair():
    assert PairRule(valid_score_range=(0.0, 1.0)).select(table(2.0, 0.5, -1.0)) is None
    assert PairRule(valid_score_range=(0.0, 1.0)).select(table(2.0, 3.0)) is None


def test_percentile_scale_mid_rank_for_ties_and_0_to_100():
    reference = np.sort(np.array([0.1, 0.2, 0.2, 0.4]))
    scaled = percentile_scale(np.array([0.1, 0.2, 0.4, 0.0, 1.0, 0.3]), reference)
    # 0.1: 0 below, 1 at/below -> 12.5; 0.2: 1 below, 3 at/below -> 50; 0.4 -> 87.5
    np.testing.assert_allclose(scaled, [12.5, 50.0, 87.5, 0.0, 100.0, 75.0])
    assert scaled.min() >= 0.0 and scaled.max() <= 100.0


def test_percentile_scale_of_a_set_against_itself_is_monotonic():
    scores = np.array([3.0, 1.0, 2.0])
    scaled = percentile_scale(scores, np.sort(scores))
    np.testing.assert_allclose(scaled, [100 * 2.5 / 3, 100 * 0.5 / 3, 100 * 1.5 / 3])


def test_percentile_scale_with_empty_reference_is_zero():
    scaled = percentile_scale(np.array([0.3, 0.9]), np.array([]))
    assert scaled.dtype == float
    np.testing.assert_array_equal(scaled, [0.0, 0.0])


def test_direction_quotas_temperature_flattens_and_cap_bounds():
    from eax_data.pairs import direction_quotas

    counts = {"de-fr": 900, "fr-de": 100, "zh-de": 0}
    assert direction_quotas(counts) == counts
    assert direction_quotas(counts, temperature=1.0) == {"de-fr": 900, "fr-de": 100, "zh-de": 0}
    # T = 2: shares ~ sqrt(n) = 30 : 10 of 1000 -> 750 / 250, but fr-de only has 100 (no upsampling)
    assert direction_quotas(counts, temperature=2.0) == {"de-fr": 750, "fr-de": 100, "zh-de": 0}
    assert direction_quotas(counts, temperature=1e9, total=200) == {"de-fr": 100, "fr-de": 100, "zh-de": 0}
    assert direction_quotas(counts, cap=50) == {"de-fr": 50, "fr-de": 50, "zh-de": 0}
    assert direction_quotas({}, temperature=2.0) == {}

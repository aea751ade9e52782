"""The pair rule of the EAX reference code, with its two bugs fixed.

loser  = the lowest-scored candidate;
winner = the highest-scored other candidate whose score >= ``min_winner_score`` (if set) and whose
         margin over the loser is >= ``min_margin`` and > 0.
Tasks with <= 1 candidate give no pair. Ties: equal scores are ordered by candidate index, so the
loser is the lowest-index of the lowest scores and the winner the lowest-index of the highest.

Fixed: ``valid_score_range`` really drops candidates outside the range (the reference code tested
a field that was always None), and percentile scaling is a per-direction rank transform
(``percentile_scale``) instead of the reference code's crashing in-place multiplication.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ScoredCandidate:
    index: int
    text: str
    score: float


@dataclass(frozen=True)
class Pair:
    chosen: ScoredCandidate
    rejected: ScoredCandidate

    @property
    def margin(self) -> float:
        return self.chosen.score - self.rejected.score


@dataclass(frozen=True)
class PairRule:
    min_margin: float = 0.0
    min_winner_score: float | None = None
    valid_score_range: tuple[float, float] | None = None

    def select(self, candidates: list[ScoredCandidate]) -> Pair | None:
        pool = candidates
        if self.valid_score_range is not None:
            low, high = self.valid_score_range
            pool = [c for c in pool if low <= c.score <= high]
        if len(pool) <= 1:
            return None
        ranked = sorted(pool, key=lambda c: (c.score, c.index))
        loser = ranked[0]
        winners = [
            c
            for c in ranked[1:]
            if (self.min_winner_score is None or c.score >= self.min_winner_score)
            and c.score - loser.score >= self.min_margin
            and c.score > loser.score
        ]
        if not winners:
            return None
        best = max(c.score for c in winners)
        winner = min((c for c in winners if c.score == best), key=lambda c: c.index)
        return Pair(chosen=winner, rejected=loser)


def percentile_scale(scores: np.ndarray, sorted_reference: np.ndarray) -> np.ndarray:
    """Percentile rank (0-100) of each score within ``sorted_reference`` (ties get the mid rank).

    Puts every scorer and every direction on one 0-100 scale, so thresholds like the paper's
    ``min_margin 20`` mean the same thing whatever the raw score range.
    """
    if len(sorted_reference) == 0:
        return np.zeros_like(scores, dtype=float)
    below = np.searchsorted(sorted_reference, scores, side="left")
    at_or_below = np.searchsorted(sorted_reference, scores, side="right")
    return 100.0 * (below + at_or_below) / (2.0 * len(sorted_reference))


def direction_quotas(
    counts: dict[str, int], cap: int | None = None, temperature: float | None = None, total: int | None = None
) -> dict[str, int]:
    """How many pairs each direction keeps when balancing (never more than it has).

    Temperature sampling over directions: direction d gets a share proportional to ``n_d ** (1/T)``
    of ``total`` (default: all pairs); T = 1 keeps the natural distribution, a large T tends to
    uniform. A share above what a direction has is not redistributed: balancing only removes.
    ``cap`` then bounds every direction.
    """
    quotas = dict(counts)
    if temperature is not None and counts:
        weights = {name: n ** (1.0 / temperature) for name, n in counts.items() if n > 0}
        norm = sum(weights.values()) or 1.0
        budget = total if total is not None else sum(counts.values())
        exact = {name: budget * weights.get(name, 0.0) / norm for name in counts}
        quotas = {name: min(counts[name], int(share)) for name, share in exact.items()}
        # largest remainders get the units floor() left over, so the shares add up to the budget
        spare = budget - sum(int(share) for share in exact.values())
        for name in sorted(exact, key=lambda n: (int(exact[n]) - exact[n], n)):
            if spare <= 0:
                break
            if quotas[name] == int(exact[name]) and quotas[name] < counts[name]:
                quotas[name] += 1
                spare -= 1
    if cap is not None:
        quotas = {name: min(q, cap) for name, q in quotas.items()}
    return quotas

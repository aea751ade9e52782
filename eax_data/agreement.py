"""Agreement statistics: how often one ranking (a proxy) orders items as another (a metric) does.

Pair accuracy with a Wilson interval, and pairwise candidate concordance with a bootstrap interval
over tasks (candidates of one task are not independent, so whole tasks are resampled).
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054
BOOTSTRAP_RESAMPLES = 1000
TIE = 1e-9  # metric differences below this are ties (chrF of identical strings)


def wilson(k: int, n: int, z: float = Z95) -> list[float] | None:
    """Wilson score interval of k successes in n trials (None when n is 0)."""
    if n == 0:
        return None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return [max(0.0, centre - half), min(1.0, centre + half)]


def task_bootstrap(agree, disagree, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> list[float] | None:
    """95% percentile interval of sum(agree)/sum(agree+disagree), resampling whole tasks."""
    import numpy as np

    agree, disagree = np.asarray(agree, dtype=float), np.asarray(disagree, dtype=float)
    if len(agree) < 2 or (agree + disagree).sum() == 0:
        return None
    picks = np.random.default_rng(seed).integers(0, len(agree), size=(resamples, len(agree)))
    a, d = agree[picks].sum(axis=1), disagree[picks].sum(axis=1)
    ratios = a[(a + d) > 0] / (a + d)[(a + d) > 0]
    return [float(np.percentile(ratios, 2.5)), float(np.percentile(ratios, 97.5))]


def sign(x: float) -> int:
    return 0 if abs(x) <= TIE else (1 if x > 0 else -1)


def pair_stats(deltas: list[float]) -> dict:
    n, wins, losses = len(deltas), sum(sign(x) > 0 for x in deltas), sum(sign(x) < 0 for x in deltas)
    decided, ties = wins + losses, n - wins - losses
    return {"n": n, "wins": wins, "ties": ties, "losses": losses, "accuracy": wins / decided if decided else None,
            "tie_rate": ties / n if n else None, "ci95": wilson(wins, decided), "mean_delta": sum(deltas) / n if n else None}


def candidate_stats(tasks: list[tuple[int, int, int]]) -> dict:
    agree, disagree, ties = (sum(t[i] for t in tasks) for i in range(3))
    decided, compared = agree + disagree, agree + disagree + ties
    return {"tasks": len(tasks), "pairs": compared, "agree": agree, "disagree": disagree, "ties": ties,
            "accuracy": agree / decided if decided else None, "tie_rate": ties / compared if compared else None,
            "ci95": task_bootstrap([t[0] for t in tasks], [t[1] for t in tasks])}


def task_concordance(proxy: list[float], metric: list[float]) -> tuple[int, int, int]:
    """(agree, disagree, metric ties) over candidate pairs with different proxy scores."""
    from itertools import combinations

    counts = [0, 0, 0]
    for i, j in combinations(range(len(proxy)), 2):
        if proxy[i] != proxy[j]:
            m = sign(metric[i] - metric[j])
            counts[2 if m == 0 else 0 if (m > 0) == (proxy[i] > proxy[j]) else 1] += 1
    return tuple(counts)


def by_direction(values: dict, summarise) -> dict:
    flat = [v for name in sorted(values) for v in values[name]]
    return {"overall": summarise(flat), "directions": {name: summarise(values[name]) for name in sorted(values)}}

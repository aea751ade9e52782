"""Ensembles and calibration: several scorers' raw scores -> one score, per direction.

Raw scores live on different scales (cosine in [-1, 1], chrF in [0, 100], reward-model logits), and
the same scorer drifts across directions (a zh target scores lower than a de target with most
metrics). So members are normalised *within their direction*, over all its candidates, before they
are averaged:

* ``z_mean`` - weighted mean of z-scores (keeps how far apart candidates are);
* ``rank_mean`` - weighted mean of percentile ranks, 0-100 (robust to outliers and skew).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eax_data.pairs import percentile_scale


@dataclass
class EnsembleCombiner:
    """Callable ``(direction, {key: raw score}) -> combined score`` with per-direction statistics."""

    members: tuple[tuple[str, float], ...]  # (scores key, weight)
    method: str  # "z_mean" | "rank_mean"
    sorted_scores: dict[str, dict[str, np.ndarray]]  # direction -> key -> sorted raw scores

    def __post_init__(self):
        if self.method not in ("z_mean", "rank_mean"):
            raise ValueError(f"unknown combine method {self.method!r}")
        self._moments = {
            name: {key: (float(v.mean()), float(v.std())) if len(v) else (0.0, 0.0) for key, v in per_key.items()}
            for name, per_key in self.sorted_scores.items()
        }

    def __call__(self, direction: str, scores: dict[str, float]) -> float:
        total, weights = 0.0, 0.0
        for key, weight in self.members:
            if key not in scores:
                raise KeyError(f"ensemble member {key!r} has no score in this candidate (scores: {sorted(scores)})")
            value = scores[key]
            if self.method == "z_mean":
                mean, std = self._moments.get(direction, {}).get(key, (value, 0.0))
                normalised = (value - mean) / std if std > 0 else 0.0
            else:
                reference = self.sorted_scores.get(direction, {}).get(key, np.array([value]))
                normalised = float(percentile_scale(np.array([value]), reference)[0])
            total += weight * normalised
            weights += weight
        return total / weights

    def describe(self) -> dict:
        return {"method": self.method, "members": [{"key": k, "weight": w} for k, w in self.members]}


def collect_scores(rows, keys: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """``rows`` of (direction, {key: score}) -> direction -> key -> sorted array."""
    values: dict[str, dict[str, list]] = {}
    for name, scores in rows:
        per_key = values.setdefault(name, {key: [] for key in keys})
        for key in keys:
            if key in scores:
                per_key[key].append(scores[key])
    return {name: {key: np.sort(np.asarray(v, dtype=float)) for key, v in per_key.items()} for name, per_key in values.items()}

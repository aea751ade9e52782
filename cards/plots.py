"""The card's plots: score and margin histograms of the published pairs, as small PNGs in assets/.

Rendering is deterministic (matplotlib's default style whatever the local matplotlibrc, fixed size
and DPI, no "Software" or date metadata): the same data gives byte-identical files, so re-rendering
an unchanged release changes nothing.
"""

from __future__ import annotations

import os

import numpy as np

from eax_data.cards.facts import DirectionScores, read_scores

ASSETS = "assets"
SCORE_HIST = f"{ASSETS}/score_hist.png"
MARGIN_HIST = f"{ASSETS}/margin_hist.png"
PLOT_FILES = (SCORE_HIST, MARGIN_HIST)

_SIZE = (6.4, 3.6)  # inches
_DPI = 100
_BINS = 30


def write_plots(folder: str, scores: dict[str, DirectionScores] | None = None) -> list[str]:
    """Write ``assets/score_hist.png`` and ``assets/margin_hist.png`` from ``data/*/*.parquet``.

    Returns the written paths relative to ``folder`` (POSIX style). With no pairs nothing is
    written and stale plots of an earlier render are removed.
    """
    scores = read_scores(folder) if scores is None else scores
    if not any(s.rows for s in scores.values()):
        for name in PLOT_FILES:
            path = os.path.join(folder, name)
            if os.path.exists(path):
                os.remove(path)
        return []
    import matplotlib.style

    os.makedirs(os.path.join(folder, ASSETS), exist_ok=True)
    with matplotlib.style.context("default"):  # ignore any local matplotlibrc
        _save(_score_figure(scores), os.path.join(folder, SCORE_HIST))
        _save(_margin_figure(scores), os.path.join(folder, MARGIN_HIST))
    return list(PLOT_FILES)


def _finite(values: list[np.ndarray]) -> np.ndarray:
    joined = np.concatenate(values) if values else np.zeros(0)
    return joined[np.isfinite(joined)]


def _edges(values: np.ndarray) -> np.ndarray:
    low, high = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
    if high <= low:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, _BINS + 1)


def _figure():
    from matplotlib.figure import Figure  # lazily: only card rendering needs matplotlib

    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=_SIZE, dpi=_DPI, layout="constrained")
    axes = figure.add_subplot()
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    return figure, axes


def _score_figure(scores: dict[str, DirectionScores]):
    figure, axes = _figure()
    names = sorted(scores)
    chosen = _finite([scores[n].chosen for n in names])
    rejected = _finite([scores[n].rejected for n in names])
    edges = _edges(np.concatenate([chosen, rejected]))
    for values, label, color in ((rejected, "rejected", "tab:red"), (chosen, "chosen", "tab:blue")):
        mean = f", mean {values.mean():.3g}" if len(values) else ""
        axes.hist(values, bins=edges, alpha=0.55, color=color, label=f"{label} (n={len(values)}{mean})")
    axes.set_xlabel("score (chosen_score / rejected_score)")
    axes.set_ylabel("pairs")
    axes.set_title(f"Scores of chosen vs rejected translations, {len(chosen)} pairs")
    axes.legend(loc="best", fontsize="small")
    return figure


def _margin_figure(scores: dict[str, DirectionScores]):
    figure, axes = _figure()
    by_target: dict[str, list[np.ndarray]] = {}
    for name in sorted(scores):
        by_target.setdefault(scores[name].trg_lang, []).append(scores[name].margin)
    targets = sorted(by_target)
    values = [_finite(by_target[t]) for t in targets]
    total = sum(len(v) for v in values)
    edges = _edges(np.concatenate(values))
    labels = [f"→{t} (n={len(v)})" for t, v in zip(targets, values)]
    axes.hist(values, bins=edges, stacked=True, label=labels)
    axes.set_xlabel("margin = chosen_score - rejected_score")
    axes.set_ylabel("pairs")
    axes.set_title(f"Margin distribution by target language, {total} pairs")
    axes.legend(loc="best", fontsize="small", title="target", title_fontsize="small")
    return figure


def _save(figure, path: str) -> None:
    figure.savefig(path, format="png", dpi=_DPI, metadata={"Software": None})

"""heatmap.png: source x target matrices of chrF++ and BLEU (and COMET-22 when scored).

One glance shows which source or target languages drag the x2x average down, which the averages
hide. Rendered like the dataset card's plots (cards/plots.py): matplotlib's default style, a bare
``Figure`` (Agg, no pyplot state), fixed DPI and no "Software" metadata, so equal results give
byte-identical files.
"""

from __future__ import annotations

import math
import os

from eax_data.training.evaluation.metrics import LABELS

HEATMAP = "heatmap.png"
PANEL_METRICS = ("chrf++", "bleu", "comet")
_DPI = 100


def matrix(results: dict, metric: str) -> tuple[list[str], list[list[float]]]:
    """(languages, rows) with ``rows[i][j]`` = metric of languages[i] -> languages[j]; NaN where not evaluated."""
    langs = list(results.get("testset", {}).get("languages") or [])
    for entry in results["directions"].values():
        for code in (entry["src"], entry["trg"]):
            if code not in langs:
                langs.append(code)
    index = {code: i for i, code in enumerate(langs)}
    values = [[math.nan] * len(langs) for _ in langs]
    for entry in results["directions"].values():
        value = entry.get(metric)
        if value is not None:
            values[index[entry["src"]]][index[entry["trg"]]] = value
    used = [i for i, code in enumerate(langs) if any(not math.isnan(v) for v in values[i]) or any(not math.isnan(row[i]) for row in values)]
    return [langs[i] for i in used], [[values[i][j] for j in used] for i in used]


def write_heatmap(folder: str, results: dict) -> str | None:
    """Write heatmap.png with one panel per available metric; None when there is nothing to draw."""
    import matplotlib.style
    from matplotlib.figure import Figure

    metrics = [m for m in PANEL_METRICS if m in results["metrics"]]
    panels = [(m, *matrix(results, m)) for m in metrics]
    panels = [p for p in panels if p[1]]
    if not panels:
        return None
    size = max(len(p[1]) for p in panels)
    cell = 0.55 if size <= 12 else 0.32
    width, height = max(3.6, 1.6 + cell * size) * len(panels), max(3.2, 1.4 + cell * size)
    path = os.path.join(folder, HEATMAP)
    with matplotlib.style.context("default"):
        figure = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
        axes = figure.subplots(1, len(panels), squeeze=False)[0]
        for ax, (metric, langs, values) in zip(axes, panels):
            _panel(figure, ax, metric, langs, values)
        model = results.get("model", {}).get("name", "")
        testset = results.get("testset", {}).get("name", "")
        figure.suptitle(f"{model} on {testset}: source (rows) x target (columns)", fontsize="medium")
        figure.savefig(path, format="png", dpi=_DPI, metadata={"Software": None})
    return path


def _panel(figure, ax, metric: str, langs: list[str], values: list[list[float]]) -> None:
    import numpy as np

    data = np.ma.masked_invalid(np.array(values, dtype=float))
    image = ax.imshow(data, cmap="viridis", aspect="equal", vmin=0.0)  # 0 = nothing right, on every panel
    ax.set_xticks(range(len(langs)), langs)
    ax.set_yticks(range(len(langs)), langs)
    ax.set_xlabel("target")
    ax.set_ylabel("source")
    finite = data.compressed()
    ax.set_title(f"{LABELS[metric]} (mean {finite.mean():.1f})" if finite.size else LABELS[metric], fontsize="small")
    if len(langs) <= 12:
        middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                if not math.isnan(value):
                    ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize="x-small",
                            color="black" if value > middle else "white")
    figure.colorbar(image, ax=ax, shrink=0.8)

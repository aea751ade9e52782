"""``--baseline``: per-direction and average deltas between two results files (the paper's SFT vs EAX table).

Deltas are ``current - baseline`` over the directions both files scored; group averages are taken
over those common directions only, so the average delta equals the mean of the per-direction deltas
and a direction missing from one side cannot shift it. Differing sacreBLEU signatures (another
tokenizer, another chrF order) are reported: such scores are not comparable.
"""

from __future__ import annotations

from eax_data.training.evaluation.metrics import LABELS, METRICS, mean
from eax_data.training.evaluation.report import GROUP_LABELS, fmt, write_text

COMPARE_MD = "compare.md"


def compare(current: dict, baseline: dict) -> dict:
    """Deltas per direction and per group for every metric both results carry."""
    metrics = [m for m in METRICS if m in current["metrics"] and m in baseline["metrics"]]
    common = [d for d in current["directions"] if d in baseline["directions"]]
    directions = {}
    for name in common:
        cur, base = current["directions"][name], baseline["directions"][name]
        row = {"group": cur["group"]}
        for metric in metrics:
            a, b = cur.get(metric), base.get(metric)
            row[metric] = {"current": a, "baseline": b, "delta": None if a is None or b is None else a - b}
        directions[name] = row
    averages = {}
    for group in ("x2x", "en2x", "x2en", "all"):
        rows = [r for r in directions.values() if group == "all" or r["group"] == group]
        if not rows:
            continue
        averages[group] = {"directions": len(rows)}
        for metric in metrics:
            averages[group][metric] = {key: mean(r[metric][key] for r in rows) for key in ("current", "baseline", "delta")}
    warnings = [] if common else ["no direction in common: nothing to compare"]
    for metric in metrics:
        a, b = (current.get("signatures") or {}).get(metric), (baseline.get("signatures") or {}).get(metric)
        if a and b and a != b:
            warnings.append(f"{LABELS[metric]} signatures differ (current {a} vs baseline {b}): scores may not be comparable")
    return {
        "current": _label(current),
        "baseline": _label(baseline),
        "metrics": metrics,
        "directions": directions,
        "averages": averages,
        "only_current": sorted(set(current["directions"]) - set(common)),
        "only_baseline": sorted(set(baseline["directions"]) - set(current["directions"])),
        "warnings": warnings,
    }


def _label(results: dict) -> str:
    model = results.get("model") or {}
    return model.get("name") or model.get("path") or "?"


def _delta(value) -> str:
    return "–" if value is None else f"{value:+.2f}"


def render(comparison: dict) -> str:
    """Markdown: averages (baseline, current, delta per metric), then every direction, then warnings."""
    metrics = comparison["metrics"]
    head = " | ".join(f"{LABELS[m]} base | {LABELS[m]} | Δ" for m in metrics)
    rule = "---:|" * (3 * len(metrics))
    lines = [f"# {comparison['current']} vs baseline {comparison['baseline']}", "",
             "Δ = current − baseline, over the directions both results contain.", "",
             "## Averages", "", f"| group | directions | {head} |", f"|---|---:|{rule}"]
    for group, entry in comparison["averages"].items():
        cells = " | ".join(f"{fmt(entry[m]['baseline'])} | {fmt(entry[m]['current'])} | {_delta(entry[m]['delta'])}" for m in metrics)
        lines.append(f"| {GROUP_LABELS[group]} | {entry['directions']} | {cells} |")
    lines += ["", "## Directions", "", f"| direction | group | {head} |", f"|---|---|{rule}"]
    for name, row in comparison["directions"].items():
        cells = " | ".join(f"{fmt(row[m]['baseline'])} | {fmt(row[m]['current'])} | {_delta(row[m]['delta'])}" for m in metrics)
        lines.append(f"| {name} | {GROUP_LABELS[row['group']]} | {cells} |")
    notes = list(comparison["warnings"])
    if comparison["only_current"]:
        notes.append(f"only in current (not compared): {', '.join(comparison['only_current'])}")
    if comparison["only_baseline"]:
        notes.append(f"only in baseline (not compared): {', '.join(comparison['only_baseline'])}")
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    lines.append("")
    return "\n".join(lines)


def write_comparison(folder: str, comparison: dict) -> str:
    return write_text(folder, COMPARE_MD, render(comparison))

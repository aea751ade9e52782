"""Audit figures: per category and per direction win rates, filter drops, the CI gate, and tables.

The JSON report is the contract (CI reads ``gate.passed``, dashboards read ``categories``); the
tables are views of it. A category's win rate is wins / n, where n counts every (good, degraded)
pair made for it; ties and losses are listed apart so "the scorer cannot tell" and "the scorer
prefers the degraded one" stay distinguishable.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

REPORT_VERSION = 1


def _stats(pairs: list) -> dict:
    verdicts = Counter(p.verdict for p in pairs)
    margins = [p.margin for p in pairs if p.margin is not None]
    n = len(pairs)
    return {
        "n": n,
        "wins": verdicts["win"],
        "ties": verdicts["tie"],
        "losses": verdicts["loss"],
        "win_rate": verdicts["win"] / n if n else None,
        "mean_margin": sum(margins) / len(margins) if margins else None,  # score(good) - score(degraded), both kept
        "filtered_degraded": dict(sorted(Counter(p.degraded_filtered for p in pairs if p.degraded_filtered).items())),
        "filtered_good": dict(sorted(Counter(p.good_filtered for p in pairs if p.good_filtered).items())),
    }


def _example(pair) -> dict:
    return {
        "direction": pair.direction,
        "row": pair.row_id,
        "detail": pair.variant.detail,
        "anchor": pair.good.metadata["ref_text"],
        "good": pair.good.text,
        "degraded": pair.degraded.text,
        "good_score": pair.good_score,
        "degraded_score": pair.degraded_score,
        "good_filtered": pair.good_filtered,
        "degraded_filtered": pair.degraded_filtered,
    }


def gate(categories: dict, min_win_rate: float) -> dict:
    """Failing = a category with pairs whose win rate is below ``min_win_rate``."""
    failing = [c for c, s in categories.items() if s["n"] and s["win_rate"] < min_win_rate]
    return {"min_win_rate": min_win_rate, "passed": not failing, "failing": failing}


def summarise(pairs: list, header: dict, *, min_win_rate: float, max_examples: int = 3, categories=None, seconds=None) -> dict:
    """The report: ``header`` + overall / per-category / per-direction stats, gate and loss examples."""
    categories = tuple(categories or dict.fromkeys(p.category for p in pairs))
    directions = header.get("directions") or sorted({p.direction for p in pairs})
    by_category = {c: [p for p in pairs if p.category == c] for c in categories}
    stats = {c: _stats(ps) for c, ps in by_category.items()}
    return {
        "report_version": REPORT_VERSION,
        **header,
        "pairs": len(pairs),
        "overall": _stats(pairs),
        "categories": stats,
        "by_direction": {c: {d: _stats([p for p in ps if p.direction == d]) for d in directions} for c, ps in by_category.items()},
        "gate": gate(stats, min_win_rate),
        "examples": {c: [_example(p) for p in ps if p.verdict != "win"][:max_examples] for c, ps in by_category.items()},
        "seconds": {k: round(v, 2) for k, v in (seconds or {}).items()},
    }


def write_json(report: dict, path: str) -> str:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


# -- tables -----------------------------------------------------------------------------------


def _pct(value) -> str:
    return "    -" if value is None else f"{100 * value:5.1f}"


def _reasons(counts: dict, width: int = 44) -> str:
    text = ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return (text[: width - 1] + "…") if len(text) > width else (text or "-")


def format_table(report: dict) -> str:
    """Category x overall table, then category x direction win rates (%), then the gate."""
    scorer = " + ".join(report["scorer"]["ids"]) or report["scorer"]["kind"]
    lines = [
        f"EAX audit - recipe {report['recipe']['name']}, view {report['view']}, scorer {scorer}",
        f"corpus {report['corpus']}: {report['rows']} rows, {len(report['directions'])} directions, {report['pairs']} (good, degraded) pairs",
        f"filters: {', '.join(report['filters']) if report['filters'] else 'none (scorer only)'}",
    ]
    if report.get("pivot"):
        lines.append(f"pivot: {report['pivot']['source']} - {report['pivot']['note']}")
    head = f"{'category':<18} {'n':>5} {'win':>5} {'tie':>4} {'loss':>5} {'win%':>6} {'margin':>7}  {'degraded filtered (reason n)':<44} good filtered"
    lines += ["", head, "-" * len(head)]
    rows = [*report["categories"].items(), ("overall", report["overall"])]
    for name, s in rows:
        if name == "overall":
            lines.append("-" * len(head))
        margin = "      -" if s["mean_margin"] is None else f"{s['mean_margin']:7.3f}"
        lines.append(
            f"{name:<18} {s['n']:>5} {s['wins']:>5} {s['ties']:>4} {s['losses']:>5} {_pct(s['win_rate']):>6} {margin}  "
            f"{_reasons(s['filtered_degraded']):<44} {_reasons(s['filtered_good'], 30)}"
        )
    skipped = {c: n for c, n in report.get("skipped", {}).items() if n}
    if skipped:
        lines.append("not applicable (row, direction) skipped: " + ", ".join(f"{c} {n}" for c, n in skipped.items()))
    directions = report["directions"]
    lines += ["", "win % by direction", f"{'category':<18} " + " ".join(f"{d:>6}" for d in directions)]
    for name, per in report["by_direction"].items():
        lines.append(f"{name:<18} " + " ".join(f"{_pct(per[d]['win_rate']):>6}" for d in directions))
    g = report["gate"]
    verdict = "PASS" if g["passed"] else f"FAIL ({', '.join(g['failing'])})"
    lines += ["", f"gate: every category's win rate >= {100 * g['min_win_rate']:.1f}%: {verdict}"]
    return "\n".join(lines)


def format_comparison(reports: dict[str, dict]) -> str:
    """Category x report win rates (%), e.g. one column per scorer and view; markdown table."""
    labels = list(reports)
    categories = list(dict.fromkeys(c for r in reports.values() for c in r["categories"]))
    lines = ["| category | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    for category in [*categories, "overall"]:
        cells = []
        for label in labels:
            s = reports[label]["overall"] if category == "overall" else reports[label]["categories"].get(category)
            cells.append("-" if not s or s["win_rate"] is None else f"{100 * s['win_rate']:.1f} ({s['losses']}L {s['ties']}T)")
        lines.append(f"| {category} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

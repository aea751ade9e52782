"""Does the EAxE proxy pick better translations? Check a build against the human x->y translations.

An x2x build chooses ``chosen``/``rejected`` by scoring candidates against the English anchor e only.
A multiway corpus also holds the human translation y of every task, which the build never used; this
module re-reads the corpus exactly as the build did (same reader, same ``AnchorSentences`` row
numbering, so ``source_id`` matches) and re-judges the published pairs and the candidates with a
reference-based metric (sentence chrF by default) against that human y:

* pair accuracy - share of published pairs whose chosen side also beats the rejected one (ties
  apart), with a Wilson 95% interval (one pair per task, so pairs are independent);
* candidate agreement - over every two candidates of a task with different proxy scores, the share
  ordered the same way by the proxy and by the metric (Kendall-tau-like), with a 95% bootstrap
  interval over tasks (pairs within a task are not independent). More stable on small builds.
"""

from __future__ import annotations

import glob
import json
import math
import os
import unicodedata
from collections import Counter, defaultdict

from eax_data.agreement import by_direction, candidate_stats, pair_stats, task_bootstrap, task_concordance, wilson  # noqa: F401
from eax_data.schema import REF_LANG, REF_TEXT, SCORE, SCORER, SCORES, SOURCE_ID, SRC_LANG, SRC_TEXT, TASK_ID, TRG_LANG, direction

VALIDATION_FILE = "proxy_validation.json"
FORMAT_VERSION = 1
METRICS = ("chrf", "chrf++", "bleu")
_CHAR_TOKENIZED = {"ja", "ko", "th", "lo", "km", "my"}  # sentence BLEU: no word boundaries
SKIP_REASONS = {
    "missing_source_id": "source_id not found in the corpus (other corpus, limit or file?)",
    "no_human_translation": "the corpus row has no text in the target language",
    "source_mismatch": "the corpus row's source text differs from the pair's (corpus changed since the build?)",
    "no_text": "empty chosen/rejected or candidate text",
}


class ProxyValidationError(ValueError):
    """A build folder that cannot be validated; the message names the file and the field."""


def proxy_applicable(recipe) -> bool:
    """Only x2x builds over a multiway corpus have a human x->y translation to check against."""
    return recipe.mode == "x2x" and recipe.corpus.kind == "multiway"


# -- the corpus side --------------------------------------------------------------------------


def _nfc(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def human_translations(recipe, wanted: set[str] | None = None, corpus_path: str | None = None) -> dict[str, tuple[str, dict[str, str]]]:
    """``source_id -> (source x, {language: human text})`` for the corpus rows the build read.

    Runs the build's own reader and ``AnchorSentences`` (same path, format, split, config, limit and
    corpus id), so the ``source_id`` of every anchored sentence is the one written into the rows; the
    row that produced it gives the other languages' texts. ``wanted`` keeps memory to what is asked.
    """
    from eax_data.builders.anchors import AnchorSentences, language_columns
    from eax_data.builders.readers import ROW, CorpusError, make_reader
    from eax_data.pipelines.stages import corpus_id

    corpus = recipe.corpus
    try:
        reader = make_reader(corpus_path or corpus.path, corpus.format, corpus.split, corpus.config, recipe.languages)
    except CorpusError as err:
        raise ProxyValidationError(f"recipe.yaml corpus.path: {err} (pass corpus_path= if the corpus moved)") from None
    anchors = AnchorSentences(corpus.kind, recipe.languages, corpus_id(recipe), limit=recipe.execution.limit)
    current: dict = {}

    def rows():
        for document in reader.run():
            current["row"] = document.metadata[ROW]
            yield document

    found = {}
    for anchored in anchors.run(rows()):  # lazy: `current` is the row that produced `anchored`
        if wanted is not None and anchored.id not in wanted:
            continue
        columns = language_columns(current["row"])
        texts = {
            code: value.strip()
            for code, (_, value) in columns.items()
            if code in recipe.languages and isinstance(value, str) and value.strip()
        }
        found[anchored.id] = (anchored.text, texts)
    return found


# -- the build side ---------------------------------------------------------------------------


def _read_rows(paths: list[str], columns: list[str]) -> list[dict]:
    import pyarrow.parquet as pq

    rows = []
    for path in paths:
        names = pq.read_schema(path).names
        missing = [c for c in columns if c not in names]
        if missing:
            raise ProxyValidationError(f"{path}: missing column(s) {missing}")
        rows += pq.read_table(path, columns=columns).to_pylist()
    return rows


_PAIR_COLUMNS = ["chosen", "rejected", SRC_LANG, TRG_LANG, REF_LANG, SRC_TEXT, REF_TEXT, "chosen_score", "rejected_score", TASK_ID, SOURCE_ID, SCORER]
_CANDIDATE_COLUMNS = [TASK_ID, "text", SRC_LANG, TRG_LANG, REF_LANG, SRC_TEXT, REF_TEXT, SOURCE_ID, SCORE, SCORES, "filter_reason"]


def _content(messages) -> str | None:
    """The assistant text of a trl conversational side (last message)."""
    text = messages[-1].get("content") if messages else None
    return text if isinstance(text, str) and text.strip() else None


def _resolve(row: dict, corpus: dict) -> tuple[str | None, str | None]:
    """(human y, None) or (None, skip reason)."""
    entry = corpus.get(row[SOURCE_ID])
    if entry is None:
        return None, "missing_source_id"
    source, texts = entry
    if row.get(SRC_TEXT) is not None and _nfc(row[SRC_TEXT]) != _nfc(source):
        return None, "source_mismatch"
    human = texts.get(row[TRG_LANG])
    return (human, None) if human else (None, "no_human_translation")


# -- judges: metric values against the human y ------------------------------------------------


def _metric_judge(name: str):
    """items -> scores for a sacrebleu sentence metric (higher is better)."""
    from sacrebleu.metrics import BLEU, CHRF

    if name in ("chrf", "chrf++"):
        metric = CHRF(word_order=2 if name == "chrf++" else 0)
        metric.sentence_score("a", ["a"])  # sacrebleu knows the signature only after a first evaluation
        return (lambda items: [metric.sentence_score(i["text"], [i["human"]]).score for i in items]), str(metric.get_signature())
    if name == "bleu":
        bleus = {tok: BLEU(tokenize=tok, effective_order=True) for tok in ("zh", "char", "13a")}

        def tok(lang: str) -> str:
            return "zh" if lang == "zh" else "char" if lang in _CHAR_TOKENIZED else "13a"

        judge = lambda items: [bleus[tok(i["trg_lang"])].sentence_score(i["text"], [i["human"]]).score for i in items]  # noqa: E731
        return judge, "sentence BLEU, effective order; tokenize zh for zh, char for ja/ko/th/lo/km/my, else 13a"
    raise ProxyValidationError(f"metric {name!r}: not one of {', '.join(METRICS)} (pass other scorers as scorers={{name: Scorer}})")


def _scorer_judge(scorer):
    """items -> scores for a ``Scorer`` given the human y as ``references`` (e.g. COMET)."""

    def judge(items):
        return scorer.score(
            [i["anchor"] for i in items],
            [i["text"] for i in items],
            anchor_langs=[i["anchor_lang"] for i in items],
            target_langs=[i["trg_lang"] for i in items],
            references=[i["human"] for i in items],
            sources=[i["source"] for i in items],
        )

    return judge, scorer.id


# -- statistics -------------------------------------------------------------------------------


# -- the check --------------------------------------------------------------------------------


def _load_build(folder: str):
    """(recipe, pair rows, kept scored candidate rows) of a build folder this check applies to."""
    from eax_data.recipe import load_recipe

    recipe_path = os.path.join(folder, "recipe.yaml")
    if not os.path.exists(recipe_path):
        raise ProxyValidationError(f"{folder}: no recipe.yaml here; is this an eax-data build folder?")
    recipe = load_recipe(recipe_path)
    if recipe.corpus.kind != "multiway":
        raise ProxyValidationError(
            f"{recipe_path}: corpus.kind is {recipe.corpus.kind!r}; an English-centric corpus pairs each sentence with "
            "English only, so there is no human x->y translation to validate the proxy against (needs corpus.kind: multiway)"
        )
    if recipe.mode != "x2x":
        raise ProxyValidationError(f"{recipe_path}: mode is {recipe.mode!r}; proxy validation checks x2x builds (EAxE scores)")
    pair_files = sorted(glob.glob(os.path.join(folder, "data", "*", "*.parquet")))
    if not pair_files:
        raise ProxyValidationError(f"{folder}: no data/<src>-<trg>/*.parquet files: nothing to validate")
    candidates = _read_rows(sorted(glob.glob(os.path.join(folder, "candidates", "*.parquet"))), _CANDIDATE_COLUMNS)
    if recipe.scorer.kind == "ensemble":  # the final score is combined per direction, as the pairs stage does
        from eax_data.pipelines.build import score_statistics

        combiner, _ = score_statistics(recipe.replace(**{"pairs.percentile_scaling": False}), folder)
        for c in candidates:
            c[SCORE] = combiner(direction(c[SRC_LANG], c[TRG_LANG]), dict(c[SCORES] or []))
    candidates = [c for c in candidates if c["filter_reason"] is None and c[SCORE] is not None and math.isfinite(c[SCORE])]
    return recipe, _read_rows(pair_files, _PAIR_COLUMNS), candidates


def _build_fingerprint(folder: str, recipe) -> str:
    """The recipe hash the card compares with: stats.json's (build time), else the recipe's."""
    path = os.path.join(folder, "stats.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            recorded = json.load(handle).get("recipe_fingerprint")
        if recorded:
            return recorded
    return recipe.fingerprint()


class _Judged:
    """What gets judged: chosen/rejected item keys per direction, (proxy score, item key) lists per task."""

    def __init__(self, pairs: list[dict], candidates: list[dict], corpus: dict):
        self.items: dict[tuple, dict] = {}  # one entry per distinct (text, human y, ...): each metric runs once per text
        self.skipped = {"pairs": defaultdict(Counter), "candidates": defaultdict(Counter)}
        self.pairs: dict[str, list[tuple]] = defaultdict(list)
        self.tasks: dict[str, list[list[tuple]]] = defaultdict(list)
        for row in pairs:
            name = direction(row[SRC_LANG], row[TRG_LANG])
            self.pairs[name]  # every published direction is reported, even when all its pairs are skipped
            human, reason = _resolve(row, corpus)
            chosen, rejected = _content(row["chosen"]), _content(row["rejected"])
            reason = reason or (None if chosen and rejected else "no_text")
            if reason:
                self.skipped["pairs"][name][reason] += 1
            else:
                self.pairs[name].append((self._item(row, chosen, human), self._item(row, rejected, human)))
        by_task: dict[str, list[dict]] = defaultdict(list)
        for row in candidates:
            by_task[row[TASK_ID]].append(row)
        for rows in by_task.values():
            name = direction(rows[0][SRC_LANG], rows[0][TRG_LANG])
            self.tasks[name]
            human, reason = _resolve(rows[0], corpus)
            if reason:
                self.skipped["candidates"][name][reason] += len(rows)
                continue
            kept = [(r[SCORE], self._item(r, r["text"], human)) for r in rows if isinstance(r["text"], str) and r["text"].strip()]
            if len(kept) < len(rows):
                self.skipped["candidates"][name]["no_text"] += len(rows) - len(kept)
            if len(kept) >= 2:
                self.tasks[name].append(kept)

    def _item(self, row: dict, text: str, human: str) -> tuple:
        key = (text, human, row[TRG_LANG], row[REF_TEXT], row[SRC_TEXT])
        self.items.setdefault(key, {"text": text, "human": human, "trg_lang": row[TRG_LANG], "anchor": row[REF_TEXT],
                                    "anchor_lang": row.get(REF_LANG) or "en", "source": row[SRC_TEXT]})
        return key

    def evaluate(self, judge) -> dict:
        keys = list(self.items)
        values = dict(zip(keys, judge([self.items[k] for k in keys]))) if keys else {}
        deltas = {d: [values[c] - values[r] for c, r in rows] for d, rows in self.pairs.items()}
        orders = {d: [task_concordance([s for s, _ in t], [values[k] for _, k in t]) for t in tasks] for d, tasks in self.tasks.items()}
        return {"pairs": by_direction(deltas, pair_stats), "candidates": by_direction(orders, candidate_stats)}

    def coverage(self, kind: str, total: int) -> dict:
        reasons = sum(self.skipped[kind].values(), Counter())
        by_direction = {d: dict(c) for d, c in sorted(self.skipped[kind].items()) if c}
        return {"rows": total, "skipped": dict(sorted(reasons.items())), "skipped_by_direction": by_direction}


def validate_proxy(folder: str, metrics=("chrf",), scorers: dict | None = None, *, corpus_path: str | None = None) -> dict:
    """Judge a build's pairs and candidates against the corpus' human translations (see module doc).

    ``metrics`` are sacrebleu sentence metrics (``METRICS``); ``scorers`` maps extra names to
    ``Scorer`` instances scored with ``references=`` the human y. ``corpus_path`` replaces
    ``corpus.path`` when the corpus has moved since the build.
    """
    folder, metrics, scorers = str(folder), list(dict.fromkeys(metrics)), dict(scorers or {})
    if not metrics and not scorers:
        raise ProxyValidationError("validate_proxy: give at least one metric or scorer")
    if set(metrics) & set(scorers):
        raise ProxyValidationError(f"validate_proxy: scorer names {sorted(set(metrics) & set(scorers))} are also metric names")
    judges = {name: _metric_judge(name) for name in metrics} | {name: _scorer_judge(s) for name, s in scorers.items()}
    recipe, pairs, candidates = _load_build(folder)
    corpus = human_translations(recipe, {r[SOURCE_ID] for r in pairs + candidates}, corpus_path)
    judged = _Judged(pairs, candidates, corpus)
    return {
        "format_version": FORMAT_VERSION,
        "what": "EAxE proxy (English anchor only) re-judged against the corpus' human x->y translation",
        "corpus": {"path": corpus_path or recipe.corpus.path, "kind": recipe.corpus.kind, "limit": recipe.execution.limit},
        "recipe_fingerprint": _build_fingerprint(folder, recipe),
        "proxy_scorers": sorted({r[SCORER] for r in pairs if r.get(SCORER)}),
        "published_pairs": len(pairs),
        "coverage": {"pairs": judged.coverage("pairs", len(pairs)), "candidates": judged.coverage("candidates", len(candidates))},
        "primary_metric": next(iter(judges)),
        "metrics": {name: {"signature": signature, **judged.evaluate(judge)} for name, (judge, signature) in judges.items()},
    }


def refresh_validation(folder: str, recipe=None, metrics=("chrf",)) -> dict | None:
    """Build hook: validate and write the file when the build allows it, else remove a stale one.

    Never fails the build it ends: a corpus that cannot be read again (moved, offline ``hf:``) gives a
    warning naming the command to rerun, and no file (the card then has no section).
    """
    from loguru import logger

    from eax_data.recipe import load_recipe

    folder = str(folder)
    path = os.path.join(folder, VALIDATION_FILE)
    if os.path.exists(path):
        os.remove(path)
    recipe = recipe or load_recipe(os.path.join(folder, "recipe.yaml"))
    if not proxy_applicable(recipe):
        return None
    try:
        result = validate_proxy(folder, metrics)
    except Exception as err:  # noqa: BLE001 - the build's data is done; validation can be rerun alone
        logger.warning(f"{folder}: proxy validation skipped ({type(err).__name__}: {err}); run `python -m eax_data validate-proxy {folder}`")
        return None
    write_validation(folder, result)
    return result


def write_validation(folder: str, result: dict) -> str:
    """Write ``proxy_validation.json`` into the build folder (atomically); returns its path."""
    path = os.path.join(str(folder), VALIDATION_FILE)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
        json.dump(result, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    os.replace(tmp, path)
    return path


# -- printing ---------------------------------------------------------------------------------


def _num(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _ci(ci) -> str:
    return "–" if not ci else f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def format_table(result: dict) -> str:
    """A short plain-text table per metric: pairs (win/tie/loss) and candidate agreement per direction."""
    lines = [f"Proxy validation: {result['what']} ({result['published_pairs']} published pairs)"]
    head = f"{'direction':<10}{'pairs':>6}{'win':>5}{'tie':>5}{'loss':>5}{'acc':>7} {'95% CI':<14}{'cand.pairs':>11}{'agree':>7} {'95% CI':<14}"
    for name, metric in result["metrics"].items():
        lines += ["", f"{name}  ({metric['signature']})", head]
        pairs, cands = metric["pairs"], metric["candidates"]
        for d in [*sorted(pairs["directions"].keys() | cands["directions"].keys()), "overall"]:
            p = pairs["overall"] if d == "overall" else pairs["directions"].get(d, pair_stats([]))
            c = cands["overall"] if d == "overall" else cands["directions"].get(d, {})
            lines.append(
                f"{d:<10}{p['n']:>6}{p['wins']:>5}{p['ties']:>5}{p['losses']:>5}{_num(p['accuracy']):>7} {_ci(p['ci95']):<14}"
                f"{c.get('pairs', 0):>11}{_num(c.get('accuracy')):>7} {_ci(c.get('ci95')):<14}"
            )
    for kind in ("pairs", "candidates"):
        skipped = result["coverage"][kind]["skipped"]
        if skipped:
            lines.append(f"skipped {kind}: " + ", ".join(f"{r} {n} ({SKIP_REASONS.get(r, '')})" for r, n in skipped.items()))
    lines.append("acc = wins / (wins + losses); 0.5 is chance. agree = candidate pairs ordered alike by proxy and metric.")
    return "\n".join(lines)

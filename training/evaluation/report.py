"""results.json and results.md: the numbers of one evaluation, for machines and for people.

results.json (``SCHEMA``) keys: ``model`` (name, path, backend id), ``testset``, ``decoding``,
``metrics`` (those computed), ``notes`` (skipped metrics and why), ``signatures`` (sacreBLEU),
``directions`` ({"de-fr": {src, trg, group, n, bleu, chrf++, [spbleu], [comet], bleu_tokenizer,
truncated}}), ``averages`` ({"x2x"|"en2x"|"x2en"|"all": {directions, <metric>: mean}}),
``hypotheses`` (file name) and ``versions``. ``compare`` and ``model_index`` read only these keys.
"""

from __future__ import annotations

import json
import os

from eax_data.training.evaluation import EvaluationError
from eax_data.training.evaluation.metrics import LABELS

SCHEMA = "eax-data/eval-results@1"
RESULTS_JSON = "results.json"
RESULTS_MD = "results.md"
GROUP_LABELS = {"x2x": "x2x", "en2x": "en→x", "x2en": "x→en", "all": "all"}


def write_results(folder: str, results: dict) -> str:
    path = os.path.join(folder, RESULTS_JSON)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(results, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
    return path


def load_results(path: str) -> dict:
    """A results.json (or the folder holding one), checked for the keys comparisons need."""
    if os.path.isdir(path):
        path = os.path.join(path, RESULTS_JSON)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise EvaluationError(f"{path}: results file not found") from None
    except json.JSONDecodeError as err:
        raise EvaluationError(f"{path}: not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise EvaluationError(f"{path}: expected a JSON object, got {type(data).__name__}")
    for key in ("directions", "metrics"):
        if key not in data:
            raise EvaluationError(f"{path}: missing field {key!r} (not an eax-data eval results file?)")
    if not isinstance(data["directions"], dict):
        raise EvaluationError(f"{path}: field 'directions' must map 'src-trg' to scores")
    for name, entry in data["directions"].items():
        if not isinstance(entry, dict) or "group" not in entry:
            raise EvaluationError(f"{path}: directions[{name!r}] needs a 'group' (x2x, en2x or x2en)")
    return data


def fmt(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def render_markdown(results: dict) -> str:
    """Averages first (the paper's headline numbers), then every direction."""
    metrics = list(results["metrics"])
    model, testset = results.get("model", {}), results.get("testset", {})
    lines = [
        f"# Evaluation: {model.get('name', '?')} on {testset.get('name', '?')}",
        "",
        f"- model: `{model.get('id', model.get('path', '?'))}`",
        f"- test set: {testset.get('name')} ({testset.get('format')}, split {testset.get('split')}, "
        f"{testset.get('rows')} rows, languages {' '.join(testset.get('languages', []))})",
    ]
    decoding = results.get("decoding") or {}
    if decoding:
        lines.append(f"- decoding: greedy, {decoding.get('backend')} backend, chat template, paper's direct prompt, "
                     f"max {decoding.get('max_new_tokens')} new tokens")
    lines += ["", "## Averages", "", "| group | directions | " + " | ".join(LABELS[m] for m in metrics) + " |",
              "|---|---:|" + "---:|" * len(metrics)]
    for group, entry in results.get("averages", {}).items():
        lines.append(f"| {GROUP_LABELS.get(group, group)} | {entry['directions']} | "
                     + " | ".join(fmt(entry.get(m)) for m in metrics) + " |")
    lines += ["", "## Directions", "", "| direction | group | n | " + " | ".join(LABELS[m] for m in metrics)
              + " | BLEU tok | truncated |", "|---|---|---:|" + "---:|" * len(metrics) + "---|---:|"]
    for name, entry in results["directions"].items():
        lines.append(f"| {name} | {GROUP_LABELS.get(entry['group'], entry['group'])} | {entry.get('n', '')} | "
                     + " | ".join(fmt(entry.get(m)) for m in metrics)
                     + f" | {entry.get('bleu_tokenizer', '')} | {entry.get('truncated', '')} |")
    if results.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {note}" for note in results["notes"]]
    signatures = results.get("signatures") or {}
    if signatures:
        lines += ["", "## Signatures", ""]
        for metric, value in signatures.items():
            if isinstance(value, dict):
                lines += [f"- {LABELS.get(metric, metric)} (tok {tok}): `{sig}`" for tok, sig in value.items()]
            else:
                lines.append(f"- {LABELS.get(metric, metric)}: `{value}`")
    lines.append("")
    return "\n".join(lines)


def write_markdown(folder: str, results: dict) -> str:
    return write_text(folder, RESULTS_MD, render_markdown(results))


def write_text(folder: str, name: str, text: str) -> str:
    """Write ``text`` to ``folder/name`` (UTF-8); returns the path."""
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path

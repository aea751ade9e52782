"""``--model-card``: the results as ``model-index`` in the model folder's README.md front matter.

The Hub reads ``model-index`` to show evaluation results on a model page. This writes it offline,
the way ``huggingface_hub.metadata_update`` would (its ``EvalResult`` / ``eval_results_to_model_index``
format), but to the local README.md only: the card's body and other metadata are kept, and earlier
results for the same test set, direction, split and metric are replaced rather than duplicated.
One result per direction (dataset config ``src-trg``; FLORES codes for FLORES test sets, as in
facebook/flores) plus the group averages (config ``average-x2x`` etc.).
"""

from __future__ import annotations

import os

from eax_data import languages
from eax_data.training.evaluation import EvaluationError
from eax_data.training.evaluation.metrics import LABELS

README = "README.md"
TASK = ("translation", "Translation")
_METRIC_TYPES = {"bleu": "bleu", "chrf++": "chrf", "spbleu": "bleu", "comet": "comet"}


def _dataset(testset: dict) -> tuple[str, str]:
    """(dataset type, pretty name) for the Hub's model-index."""
    fmt, name = testset.get("format"), testset.get("name", "testset")
    if fmt == "flores":
        return "facebook/flores", f"FLORES-200 {testset.get('split') or ''}".strip()
    if fmt == "demo":
        return "eax-data/demo", "eax-data demo test split (rows 41-48)"
    return name, name


def _config(testset: dict, src: str, trg: str) -> str:
    if testset.get("format") == "flores":
        return f"{languages.get(src).flores}-{languages.get(trg).flores}"
    return f"{src}-{trg}"


def eval_results(results: dict) -> list:
    """``EvalResult``s: every direction's metrics, then the group averages."""
    from huggingface_hub import EvalResult

    testset = results.get("testset", {})
    dataset_type, dataset_name = _dataset(testset)
    signatures = results.get("signatures", {})
    out = []

    def add(config: str, pretty: str, scores: dict, tokenizer: str | None) -> None:
        for metric in results["metrics"]:
            value = scores.get(metric)
            if value is None:
                continue
            signature = signatures.get(metric)
            if isinstance(signature, dict):
                signature = signature.get(tokenizer) if tokenizer else None
            out.append(EvalResult(
                task_type=TASK[0], task_name=TASK[1], dataset_type=dataset_type, dataset_name=pretty,
                dataset_config=config, dataset_split=testset.get("split"), metric_type=_METRIC_TYPES[metric],
                metric_name=LABELS[metric], metric_value=round(float(value), 2),
                metric_config=signature if isinstance(signature, str) else None,
            ))

    for name, entry in results["directions"].items():
        add(_config(testset, entry["src"], entry["trg"]), f"{dataset_name} {name}", entry, entry.get("bleu_tokenizer"))
    for group, entry in results.get("averages", {}).items():
        add(f"average-{group}", f"{dataset_name} ({group} average over {entry['directions']} directions)", entry, None)
    return out


def _key(result) -> tuple:
    return (result.task_type, result.dataset_type, result.dataset_config, result.dataset_split, result.metric_type, result.metric_name)


def write_model_index(model_dir: str, results: dict, model_name: str | None = None) -> str:
    """Merge ``results`` into ``<model_dir>/README.md``'s model-index; returns the README path."""
    from huggingface_hub import metadata_load, metadata_save
    from huggingface_hub.repocard_data import eval_results_to_model_index, model_index_to_eval_results

    if not os.path.isdir(model_dir):
        raise EvaluationError(f"--model-card: {model_dir} is not a local model folder (the card is edited in place)")
    path = os.path.join(model_dir, README)
    try:
        meta = (metadata_load(path) if os.path.exists(path) else None) or {}
    except Exception as err:  # yaml errors: name the file
        raise EvaluationError(f"{path}: cannot read the YAML front matter: {err}") from None
    new = eval_results(results)
    if not new:
        raise EvaluationError("--model-card: no scores to write")
    name = model_name or results.get("model", {}).get("name") or os.path.basename(os.path.normpath(model_dir))
    kept = []
    if meta.get("model-index"):
        try:
            name, kept = model_index_to_eval_results(meta["model-index"])
        except (KeyError, TypeError, ValueError) as err:
            raise EvaluationError(f"{path}: model-index is malformed ({type(err).__name__}: {err}); fix or remove it") from None
        replaced = {_key(r) for r in new}
        kept = [r for r in kept if _key(r) not in replaced]
    meta["model-index"] = eval_results_to_model_index(name, kept + new)
    metadata_save(path, meta)
    return path

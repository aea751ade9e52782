"""The README.md model card every trainer writes next to its weights.

A trained model is only as trustworthy as our ability to say what it was trained on and how: the
card names the dataset release (repo, version tag, commit sha) or local folder (+ content hash),
the base model, every hyper-parameter, the rows used, the final logged metrics and the library
versions. Shared by the reward-model, DPO, CPO and SFT trainers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

# Keys of a trainer's log entries that are bookkeeping, not results.
_LOG_BOOKKEEPING = {"epoch", "step", "learning_rate", "grad_norm", "total_flos"}


def framework_versions() -> dict[str, str]:
    """Versions of the libraries that shape a training run (only those installed)."""
    from importlib import metadata

    versions = {}
    for name in ("eax-data", "trl", "transformers", "torch", "datasets", "accelerate", "peft"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def training_results(log_history: list[dict]) -> dict[str, Any]:
    """Final results from ``trainer.state.log_history``: the last logged training step's metrics
    (``final``), the run summary (``summary``: mean train loss, runtime) and the last evaluation."""
    train_logs = [e for e in log_history if "loss" in e and "train_loss" not in e]
    summaries = [e for e in log_history if "train_loss" in e]
    evals = [e for e in log_history if any(k.startswith("eval_") for k in e)]
    results: dict[str, Any] = {}
    if train_logs:
        last = train_logs[-1]
        results["final"] = {k: v for k, v in last.items() if k not in _LOG_BOOKKEEPING}
        results["final_step"] = last.get("step")
    if summaries:
        results["summary"] = {k: v for k, v in summaries[-1].items() if k not in _LOG_BOOKKEEPING}
    if evals:
        results["eval"] = {k: v for k, v in evals[-1].items() if k.startswith("eval_")}
    return results


def is_hub_model_id(name: str) -> bool:
    """A Hub repo id (``org/name`` or ``name``) rather than a local folder: only those go in metadata."""
    return not os.path.exists(name) and not os.path.isabs(name) and name.count("/") <= 1 and not name.startswith(".")


def render_model_card(
    *,
    title: str,
    summary: str,
    trainer: str,
    base_model: str,
    base_model_revision: Optional[str],
    data: dict,
    hyperparameters: dict,
    rows: dict,
    results: dict,
    versions: dict,
    usage: Optional[str] = None,
    tags: tuple[str, ...] = (),
    library_name: str = "transformers",
) -> str:
    """The card's markdown (YAML front matter included); see the module docstring for what it holds.
    ``data`` is a build/release provenance (``training.datasets``) or, with ``source: corpus``, the
    parallel corpus an SFT run read; ``library_name`` is "peft" for a LoRA adapter."""
    import yaml

    meta: dict[str, Any] = {"library_name": library_name, "tags": ["eax-data", "trl", *tags]}
    if is_hub_model_id(base_model):
        meta["base_model"] = base_model
    if data.get("source") == "hub":
        meta["datasets"] = [data["repo_id"]]
    lines = ["---", yaml.safe_dump(meta, sort_keys=False).rstrip(), "---", "", f"# {title}", "", summary, ""]

    lines += ["## Training data", ""]
    if data.get("repo_id"):
        where = "Hugging Face Hub" if data["source"] == "hub" else "local eax-data store"
        lines += [
            f"- Dataset: `{data['repo_id']}` ({where})",
            f"- Version tag: `{data['tag']}`",
            f"- Commit: `{data['commit']}`",
        ]
    elif data.get("source") == "corpus":
        lines += [f"- Corpus: `{data['path']}` ({data['kind']}, {data['format']}; not an eax-data release)"]
    else:
        lines += [f"- Dataset: local build folder `{data['path']}` (not a release)"]
    if data.get("source") == "corpus":
        lines += [f"- Content hash of the corpus files: `{data['content_hash']}`" if data.get("content_hash") else
                  "- Content hash: none (a `datasets` corpus read by name: not pinned to a revision)"]
        lines += [f"- {name}: {value}" for name, value in data.get("details", {}).items()]
    else:
        lines += [f"- Content hash of the parquet files used: `{data['content_hash']}`"]
    lines += [
        f"- Directions: {', '.join(data['directions'])}",
        "",
        "| rows | count |",
        "|---|---|",
        *[f"| {name} | {count} |" for name, count in rows.items()],
        *[f"| loaded, {d} | {n} |" for d, n in data.get("rows_per_direction", {}).items()],
        "",
    ]

    revision = f" (revision `{base_model_revision}`)" if base_model_revision else ""
    lines += [
        "## Training procedure",
        "",
        f"- Trainer: {trainer}",
        f"- Base model: `{base_model}`{revision}",
        "",
        "| hyper-parameter | value |",
        "|---|---|",
        *[f"| {k} | {_cell(v)} |" for k, v in hyperparameters.items()],
        "",
        "The complete trainer arguments are in `training_args.json`.",
        "",
        "## Results",
        "",
    ]
    if results.get("final"):
        lines += [f"Last logged training step ({results.get('final_step')}):", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {_cell(v)} |" for k, v in results["final"].items()]
        lines.append("")
    for name, heading in (("summary", "Whole run"), ("eval", "Held-out evaluation (end of training)")):
        if results.get(name):
            lines += [f"{heading}:", "", "| metric | value |", "|---|---|"]
            lines += [f"| {k} | {_cell(v)} |" for k, v in results[name].items()]
            lines.append("")
    if not results:
        lines += ["No metrics were logged.", ""]

    if usage:
        lines += ["## Usage", "", usage.strip(), ""]
    lines += ["## Framework versions", "", *[f"- {k}: {v}" for k, v in versions.items()], ""]
    return "\n".join(lines)


def write_model_card(folder: str | os.PathLike, **fields) -> Path:
    """Render the card (``render_model_card`` arguments) into ``folder/README.md``."""
    path = Path(folder) / "README.md"
    path.write_text(render_model_card(**fields), encoding="utf-8")
    return path


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value)
    return "null" if value is None else str(value)

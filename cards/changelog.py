"""What changed between two releases of the same dataset repo.

Rows are matched by ``task_id`` within each direction: a task only in the new release is *added*,
only in the old one *removed*; a task in both whose ``chosen`` or ``rejected`` message changed is
*changed*, otherwise *unchanged*. Parameter changes are the differences between the two folders'
``recipe.yaml``, as flattened dotted keys (``pairs.min_margin: 0.05 -> 0.1``).
"""

from __future__ import annotations

import hashlib
import json
import os

import yaml

from eax_data.cards.facts import RECIPE_FILE, data_files
from eax_data.schema import TASK_ID

ROW_COLUMNS = (TASK_ID, "chosen", "rejected")
COUNTS = ("previous", "current", "added", "removed", "changed", "unchanged")


def _row_digests(paths: list[str]) -> dict[str, str]:
    """``{task_id: digest of (chosen, rejected)}`` over one direction's parquet files."""
    import pyarrow.parquet as pq

    digests: dict[str, str] = {}
    for path in paths:
        for batch in pq.ParquetFile(path).iter_batches(columns=list(ROW_COLUMNS), batch_size=4096):
            for row in batch.to_pylist():
                content = json.dumps([row["chosen"], row["rejected"]], sort_keys=True, ensure_ascii=False)
                digests[row[TASK_ID]] = hashlib.sha256(content.encode()).hexdigest()
    return digests


def _direction_changes(old: dict[str, str], new: dict[str, str]) -> dict[str, int]:
    common = old.keys() & new.keys()
    changed = sum(1 for task in common if old[task] != new[task])
    return {
        "previous": len(old),
        "current": len(new),
        "added": len(new.keys() - old.keys()),
        "removed": len(old.keys() - new.keys()),
        "changed": changed,
        "unchanged": len(common) - changed,
    }


def flatten(value, prefix: str = "") -> dict:
    """Nested mappings as ``{dotted.key: leaf}``; lists and scalars are leaves."""
    if isinstance(value, dict):
        flat: dict = {}
        for key, inner in value.items():
            flat.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def _recipe_dict(folder: str) -> dict:
    path = os.path.join(folder, RECIPE_FILE)
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return data if isinstance(data, dict) else {}


def parameter_changes(previous_dir: str, current_dir: str) -> list[dict]:
    """``[{"key", "old"?, "new"?}]`` for every recipe key that differs; a missing side is left out."""
    old, new = flatten(_recipe_dict(previous_dir)), flatten(_recipe_dict(current_dir))
    changes = []
    for key in sorted(old.keys() | new.keys()):
        if key in old and key in new and old[key] == new[key]:
            continue
        change = {"key": key}
        if key in old:
            change["old"] = old[key]
        if key in new:
            change["new"] = new[key]
        changes.append(change)
    return changes


def changelog(previous_dir: str, current_dir: str) -> dict:
    """Row and parameter changes from the release in ``previous_dir`` to the one in ``current_dir``.

    ``{"directions": {direction: {previous, current, added, removed, changed, unchanged}},
    "total": {same keys}, "parameters": [{"key", "old", "new"}]}``.
    """
    old_files, new_files = data_files(previous_dir), data_files(current_dir)
    directions = {}
    for name in sorted(old_files.keys() | new_files.keys()):
        directions[name] = _direction_changes(_row_digests(old_files.get(name, [])), _row_digests(new_files.get(name, [])))
    total = {key: sum(d[key] for d in directions.values()) for key in COUNTS}
    return {"directions": directions, "total": total, "parameters": parameter_changes(previous_dir, current_dir)}


def _value(change: dict, side: str) -> str:
    if side not in change:
        return "(absent)"
    text = json.dumps(change[side], ensure_ascii=False)
    return "`" + text.replace("`", "'") + "`"


def changelog_markdown(log: dict, previous_version: str | None = None, version: str | None = None) -> str:
    """The changelog as markdown: a per-direction row table and a list of parameter changes."""
    before = previous_version or "previous"
    after = version or "this release"
    lines = []
    rows = log["directions"]
    total = log["total"]
    if any(total[k] for k in ("added", "removed", "changed")):
        lines.append(
            f"Rows from {before} to {after}: **{total['added']}** added, "
            f"**{total['removed']}** removed, "
            f"**{total['changed']}** changed (same task, new chosen/rejected), {total['unchanged']} unchanged."
        )
    else:
        lines.append(f"No rows changed from {before} to {after} ({total['unchanged']} unchanged).")
    if rows:
        lines += ["", "| direction | " + " | ".join(COUNTS) + " |", "|---|" + "---:|" * len(COUNTS)]
        for name, counts in rows.items():
            lines.append(f"| {name} | " + " | ".join(_count(key, counts[key]) for key in COUNTS) + " |")
        lines.append("| **total** | " + " | ".join(_count(key, total[key]) for key in COUNTS) + " |")
    lines.append("")
    if log["parameters"]:
        lines.append(f"Parameter changes (`recipe.yaml`, {before} → {after}):")
        lines.append("")
        lines += [f"- `{c['key']}`: {_value(c, 'old')} → {_value(c, 'new')}" for c in log["parameters"]]
    else:
        lines.append("No parameter changes (`recipe.yaml` is the same).")
    return "\n".join(lines)


def _count(key: str, value: int) -> str:
    if key == "added" and value:
        return f"+{value}"
    if key == "removed" and value:
        return f"-{value}"
    return str(value)

"""Training rows from a build folder or a release, with the provenance a model card must name.

Every trainer (reward model now; DPO / CPO / SFT later) reads its data here, so a trained model can
always say exactly which rows it saw: a release's repo id, version tag and commit sha, or a local
folder's path and a content hash of the parquet files used.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable, Optional

from eax_data.training.errors import TrainingDataError

PREFERENCE_COLUMNS = ("prompt", "chosen", "rejected")


def resolve_training_data(
    spec_or_folder: str | os.PathLike,
    configs: Optional[str | Iterable[str]] = None,
    hub: bool = False,
    store: Optional[str | os.PathLike] = None,
    columns: tuple[str, ...] = PREFERENCE_COLUMNS,
):
    """(``datasets.Dataset``, provenance dict) of the rows under ``data/<direction>/*.parquet``.

    ``spec_or_folder`` is a local build folder (an existing folder always wins) or a release spec
    ``ORG/NAME[@vX.Y.Z]`` (the local store by default, the Hub with ``hub=True``). ``configs`` keeps
    only some directions (``"de-en"`` or a list; ``None`` / ``"all"``: every direction). Only
    ``columns`` are kept; each must be present and non-empty in every row, else TrainingDataError.
    """
    import datasets

    folder, provenance = _locate(spec_or_folder, hub, store)
    selected = _select(folder, configs)
    table, rows = _read(folder, selected, columns)
    provenance.update(
        directions=sorted(selected),
        rows=table.num_rows,
        rows_per_direction=rows,
        content_hash=content_hash(folder, [f for files in selected.values() for f in files]),
    )
    return datasets.Dataset(table), provenance


def content_hash(root: Path, files: Iterable[Path]) -> str:
    """``sha256:<hex>`` over the relative paths and bytes of ``files``: equal hash, equal training data."""
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        file_digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                file_digest.update(block)
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + file_digest.digest())
    return f"sha256:{digest.hexdigest()}"


def _locate(spec_or_folder, hub: bool, store) -> tuple[Path, dict]:
    path = Path(spec_or_folder).expanduser()
    if path.is_dir() and not hub:
        return path.resolve(), {"source": "folder", "path": str(path.resolve())}
    from eax_data.release.errors import ReleaseError
    from eax_data.release.pulling import release_folder, resolve

    spec = str(spec_or_folder)
    try:
        _, repo_id, tag, commit = resolve(spec, hub=hub, store=store)
        # resolve() again inside release_folder: cheap, and the commit is checked against it below.
        folder = Path(release_folder(f"{repo_id}@{tag}", hub=hub, store=store))
    except ReleaseError as err:
        where = "on the Hub" if hub else "in the local store"
        raise TrainingDataError(f"{spec}: not a folder, and no release {where}: {err}") from None
    return folder, {
        "source": "hub" if hub else "local-store",
        "repo_id": repo_id,
        "tag": tag,
        "commit": commit,
        "path": str(folder),
    }


def _select(folder: Path, configs) -> dict[str, list[Path]]:
    """direction -> its parquet files (sorted), for the requested directions."""
    data = folder / "data"
    available = {
        d.name: sorted(d.glob("*.parquet")) for d in sorted(data.iterdir()) if d.is_dir()
    } if data.is_dir() else {}
    available = {name: files for name, files in available.items() if files}
    if not available:
        raise TrainingDataError(f"{folder}: no training data (expected data/<src>-<trg>/*.parquet)")
    if configs is None or configs == "all":
        return available
    wanted = [configs] if isinstance(configs, str) else list(configs)
    unknown = [d for d in wanted if d not in available]
    if unknown:
        raise TrainingDataError(
            f"{folder}: no direction {', '.join(unknown)}; available: {', '.join(available)}"
        )
    return {d: available[d] for d in sorted(set(wanted))}


def _read(folder: Path, selected: dict[str, list[Path]], columns: tuple[str, ...]):
    """One arrow table of ``columns`` over all files (checked), and the row count per direction."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from eax_data.schema import PAIR_SCHEMA

    tables, rows = [], {}
    for direction, files in selected.items():
        rows[direction] = 0
        for path in files:
            names = pq.read_schema(path).names
            missing = [c for c in columns if c not in names]
            if missing:
                raise TrainingDataError(f"{path}: missing column(s) {', '.join(missing)} (see PAIR_SCHEMA)")
            table = pq.read_table(path, columns=list(columns))
            for column in columns:
                _check_column(path, column, table.column(column))
            target = pa.schema([PAIR_SCHEMA.field(c) if c in PAIR_SCHEMA.names else table.schema.field(c) for c in columns])
            try:
                table = table.cast(target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
                raise TrainingDataError(f"{path}: columns do not match PAIR_SCHEMA: {err}") from None
            tables.append(table)
            rows[direction] += table.num_rows
    table = pa.concat_tables(tables)
    if table.num_rows == 0:
        raise TrainingDataError(f"{folder}: the selected parquet files hold no rows")
    return table, rows


def _check_column(path: Path, column: str, values) -> None:
    """Preference columns are message lists: no row may lack one, be empty, or hold a null content."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = values.type
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind)):
        if column in PREFERENCE_COLUMNS:
            raise TrainingDataError(
                f"{path}: column {column!r} is {kind}, expected conversational messages [{{role, content}}]"
            )
        return
    bad = pc.or_kleene(pc.is_null(values), pc.equal(pc.list_value_length(values), 0))
    bad = pc.fill_null(bad, True)
    if pc.any(bad).as_py():
        row = pc.index(bad, True).as_py()
        raise TrainingDataError(f"{path}: row {row} has no {column!r} messages (null or empty)")
    messages = pc.list_flatten(values)
    if pa.types.is_struct(messages.type) and messages.type.get_field_index("content") >= 0:
        if pc.struct_field(messages, "content").null_count:
            raise TrainingDataError(f"{path}: column {column!r} has a message without content")

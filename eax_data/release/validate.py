"""Refuse a folder that is not a publishable build output, before anything is staged or sent.

A release is permanent and public; a half-built folder, a hand-edited parquet or a file written by
another tool version must be stopped here, with the offending file and field named.
"""

from __future__ import annotations

import json
from pathlib import Path

from eax_data.release.errors import InvalidBuildError

# Schema checked per top-level folder of the release.
PAIR_FOLDERS = ("data",)
CANDIDATE_FOLDERS = ("candidates", "excluded")


def validate_build(folder: str | Path) -> Path:
    """Check ``folder`` is a build output that can be published; returns it as a resolved Path.

    Checks: ``recipe.yaml`` loads; ``stats.json`` is a JSON object; ``data/`` holds at least one
    direction folder with parquet files (and no parquet outside direction folders); every parquet
    under ``data/`` matches ``PAIR_SCHEMA`` and every parquet under ``candidates/``/``excluded/``
    matches ``CANDIDATE_SCHEMA`` (field names and types; column order and nullability are free).
    """
    from eax_data.recipe import RecipeError, load_recipe
    from eax_data.schema import CANDIDATE_SCHEMA, PAIR_SCHEMA

    root = Path(folder).resolve()
    if not root.is_dir():
        raise InvalidBuildError(f"{folder}: not a folder")
    try:
        load_recipe(root / "recipe.yaml")
    except RecipeError as err:
        raise InvalidBuildError(f"{root}: not a build output: {err}") from None
    _check_stats(root / "stats.json")
    _check_directions(root / "data")
    for name in PAIR_FOLDERS:
        for path in sorted((root / name).rglob("*.parquet")):
            check_schema(path, PAIR_SCHEMA, "PAIR_SCHEMA")
    for name in CANDIDATE_FOLDERS:
        for path in sorted((root / name).rglob("*.parquet")):
            check_schema(path, CANDIDATE_SCHEMA, "CANDIDATE_SCHEMA")
    return root


def check_schema(path: Path, expected, schema_name: str) -> None:
    """Compare a parquet file's schema with ``expected``: every field present with its type, no extras."""
    import pyarrow.parquet as pq

    try:
        actual = pq.read_schema(path)
    except Exception as err:  # a truncated or non-parquet file
        raise InvalidBuildError(f"{path}: not a readable parquet file ({err})") from None
    for field in expected:
        if field.name not in actual.names:
            raise InvalidBuildError(f"{path}: field {field.name!r} of {schema_name} is missing")
        got = actual.field(field.name).type
        if not got.equals(field.type):
            raise InvalidBuildError(
                f"{path}: field {field.name!r} has type {got}, {schema_name} wants {field.type}"
            )
    extra = [name for name in actual.names if name not in expected.names]
    if extra:
        raise InvalidBuildError(f"{path}: field {extra[0]!r} is not part of {schema_name}")


def _check_stats(path: Path) -> None:
    if not path.is_file():
        raise InvalidBuildError(f"{path}: missing (a build writes stats.json next to its data)")
    try:
        stats = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidBuildError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(stats, dict):
        raise InvalidBuildError(f"{path}: expected a JSON object, got {type(stats).__name__}")


def _check_directions(data: Path) -> None:
    if not data.is_dir():
        raise InvalidBuildError(f"{data}: missing (no pairs to publish)")
    stray = sorted(p for p in data.glob("*.parquet"))
    if stray:
        raise InvalidBuildError(f"{stray[0]}: parquet outside a direction folder (data/<src>-<trg>/)")
    directions = [d for d in sorted(data.iterdir()) if d.is_dir() and any(d.glob("*.parquet"))]
    if not directions:
        raise InvalidBuildError(f"{data}: no direction folder with parquet files (data/<src>-<trg>/*.parquet)")

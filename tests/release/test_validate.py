"""A folder that is not a valid build output is refused before anything happens, naming file and field."""

from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from release_folders import candidate_row, pair_row

from eax_data.release import InvalidBuildError, publish, validate_build
from eax_data.schema import CANDIDATE_SCHEMA, PAIR_SCHEMA


def _rewrite(path, rows, schema):
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


def test_valid_build_passes(build):
    assert validate_build(build) == build.resolve()


def test_wrong_type_names_file_and_field(build, tmp_path):
    path = build / "data" / "fr-de" / "000_train-00000.parquet"
    schema = PAIR_SCHEMA.set(PAIR_SCHEMA.get_field_index("margin"), pa.field("margin", pa.string()))
    rows = [dict(pair_row("fr-de", 0), margin="0.5")]
    _rewrite(path, rows, schema)
    with pytest.raises(InvalidBuildError, match=r"fr-de/000_train-00000\.parquet: field 'margin' has type string"):
        publish(build, "acme/x", "1.0.0", store=tmp_path / "store")
    assert not (tmp_path / "store").exists()  # refused before anything was written


def test_missing_and_extra_fields(build):
    path = build / "data" / "de-fr" / "000_train-00000.parquet"
    _rewrite(path, [pair_row("de-fr", 0)], PAIR_SCHEMA.remove(PAIR_SCHEMA.get_field_index("scorer")))
    with pytest.raises(InvalidBuildError, match=r"de-fr/000_train-00000\.parquet: field 'scorer' .* missing"):
        validate_build(build)
    _rewrite(path, [pair_row("de-fr", 0)], PAIR_SCHEMA)
    cand = build / "excluded" / "length_ratio" / "000_00000.parquet"
    _rewrite(cand, [dict(candidate_row("de-fr", 0, 1), extra="x")], CANDIDATE_SCHEMA.append(pa.field("extra", pa.string())))
    with pytest.raises(InvalidBuildError, match=r"length_ratio/000_00000\.parquet: field 'extra' is not part of CANDIDATE_SCHEMA"):
        validate_build(build)


def test_candidates_checked_against_candidate_schema(build):
    # a pair file dropped into candidates/ is not a candidate file
    shutil.copyfile(build / "data" / "de-fr" / "000_train-00000.parquet", build / "candidates" / "001_00000.parquet")
    with pytest.raises(InvalidBuildError, match=r"candidates/001_00000\.parquet: field 'id' of CANDIDATE_SCHEMA is missing"):
        validate_build(build)


def test_not_a_build(build, tmp_path):
    (build / "data" / "de-fr" / "000_train-00000.parquet").write_bytes(b"not parquet")
    with pytest.raises(InvalidBuildError, match="000_train-00000.parquet: not a readable parquet file"):
        validate_build(build)
    shutil.rmtree(build / "data")
    (build / "data").mkdir()
    with pytest.raises(InvalidBuildError, match="no direction folder"):
        validate_build(build)
    (build / "recipe.yaml").write_text("corpus: [")
    with pytest.raises(InvalidBuildError, match="recipe.yaml: not valid YAML"):
        validate_build(build)
    (build / "recipe.yaml").unlink()
    with pytest.raises(InvalidBuildError, match="recipe file not found"):
        validate_build(build)
    with pytest.raises(InvalidBuildError, match="not a folder"):
        validate_build(tmp_path / "missing")

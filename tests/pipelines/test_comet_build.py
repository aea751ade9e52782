"""A build scored by COMET (reference-based against pivots, and QE), where a COMET environment exists.

Skipped without one ($EAX_COMET_PYTHON or ~/.cache/eax-data/comet-env); uses the tiny offline COMET
checkpoints of tests/scoring/test_comet.py.
"""

import glob
import os

import pyarrow.parquet as pq
import pytest

from eax_data.pipelines.build import build
from tests.pipelines.test_build_e2e import _recipe
from tests.scoring.test_comet import comet_python, offline, tiny_checkpoints  # noqa: F401 (fixtures)


@pytest.mark.parametrize("kind", ["comet", "comet_qe"])
def test_a_build_with_a_comet_scorer(kind, tiny_checkpoints, offline, tiny_model_dir, tmp_path):  # noqa: F811
    model = tiny_checkpoints["regression" if kind == "comet" else "unified"]
    scorer = {"kind": kind, "model": model, "python": comet_python(), "device": "cpu", "batch_size": 8}
    out = str(tmp_path / "out")
    result = build(_recipe(tiny_model_dir, scorer=scorer, **{"execution.limit": 2}), out)
    assert result.total_pairs > 0
    rows = pq.read_table(glob.glob(os.path.join(out, "candidates", "*.parquet"))[0]).to_pylist()
    assert all(r["scorer"].startswith("comet:local:") for r in rows)
    assert (kind == "comet") == all(isinstance(r["pivot_text"], str) for r in rows)
    assert len({round(r["score"], 6) for r in rows}) > 1

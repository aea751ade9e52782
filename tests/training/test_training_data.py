"""resolve_training_data: build folders and local-store releases -> rows + provenance, clear refusals."""

from __future__ import annotations

import pytest
from conftest import write_pairs

from eax_data.training.datasets import resolve_training_data
from eax_data.training.errors import TrainingDataError


def test_folder_keeps_preference_columns_and_hashes_the_files(pair_folder):
    data, prov = resolve_training_data(pair_folder)
    assert data.column_names == ["prompt", "chosen", "rejected"] and len(data) == 12
    assert data[0]["chosen"] == [{"role": "assistant", "content": "good translation 0"}]
    assert prov["source"] == "folder" and prov["path"] == str(pair_folder.resolve())
    assert prov["directions"] == ["en-de", "en-fr"] and prov["rows_per_direction"] == {"en-de": 8, "en-fr": 4}
    assert prov["content_hash"].startswith("sha256:") and "repo_id" not in prov

    same, again = resolve_training_data(str(pair_folder))
    assert again["content_hash"] == prov["content_hash"]
    write_pairs(pair_folder, "en-fr", range(5))  # one row more: another hash
    assert resolve_training_data(pair_folder)[1]["content_hash"] != prov["content_hash"]


def test_direction_filter(pair_folder):
    data, prov = resolve_training_data(pair_folder, configs=["en-fr"])
    assert len(data) == 4 and prov["directions"] == ["en-fr"]
    only_de, _ = resolve_training_data(pair_folder, configs="en-de")
    assert len(only_de) == 8
    assert resolve_training_data(pair_folder, configs="all")[1]["rows"] == 12
    # the hash covers only the files used
    assert prov["content_hash"] != resolve_training_data(pair_folder)[1]["content_hash"]
    with pytest.raises(TrainingDataError, match=r"no direction de-fr; available: en-de, en-fr"):
        resolve_training_data(pair_folder, configs=["de-fr"])


def test_folder_without_data_is_refused(tmp_path):
    (tmp_path / "empty" / "data" / "en-de").mkdir(parents=True)
    with pytest.raises(TrainingDataError, match=r"no training data \(expected data/<src>-<trg>/\*\.parquet\)"):
        resolve_training_data(tmp_path / "empty")
    with pytest.raises(TrainingDataError, match="not a folder, and no release in the local store"):
        resolve_training_data(tmp_path / "no" / "such-folder")


def test_rows_missing_preference_fields_are_refused(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    write_pairs(tmp_path / "empty-rejected", "en-de", range(3), transform=lambda r: {**r, "rejected": []} if r["task_id"].endswith("-2") else r)
    with pytest.raises(TrainingDataError, match=r"train-0.parquet: row 2 has no 'rejected' messages"):
        resolve_training_data(tmp_path / "empty-rejected")

    write_pairs(tmp_path / "null-chosen", "en-de", range(2), transform=lambda r: {**r, "chosen": None})
    with pytest.raises(TrainingDataError, match=r"row 0 has no 'chosen' messages"):
        resolve_training_data(tmp_path / "null-chosen")

    no_prompt = tmp_path / "no-prompt" / "data" / "en-de"
    no_prompt.mkdir(parents=True)
    pq.write_table(pa.table({"chosen": [[{"role": "assistant", "content": "a"}]],
                             "rejected": [[{"role": "assistant", "content": "b"}]]}), no_prompt / "x.parquet")
    with pytest.raises(TrainingDataError, match=r"missing column\(s\) prompt"):
        resolve_training_data(tmp_path / "no-prompt")

    plain = tmp_path / "plain" / "data" / "en-de"
    plain.mkdir(parents=True)
    pq.write_table(pa.table({"prompt": ["p"], "chosen": ["a"], "rejected": ["b"]}), plain / "x.parquet")
    with pytest.raises(TrainingDataError, match="expected conversational messages"):
        resolve_training_data(tmp_path / "plain")


def test_release_spec_names_repo_tag_and_commit(pair_folder, tmp_path):
    from eax_data.release import publish

    store = tmp_path / "store"
    first = publish(pair_folder, "acme/rm-data", "1.0.0", store=store)
    write_pairs(pair_folder, "en-fr", range(6))
    second = publish(pair_folder, "acme/rm-data", "1.1.0", store=store)

    data, prov = resolve_training_data("acme/rm-data@v1.0.0", store=store)
    assert (prov["source"], prov["repo_id"], prov["tag"], prov["commit"]) == ("local-store", "acme/rm-data", "v1.0.0", first.commit)
    assert len(data) == 12
    latest, prov = resolve_training_data("acme/rm-data", configs=["en-fr"], store=store)
    assert (prov["tag"], prov["commit"], len(latest)) == ("v1.1.0", second.commit, 6)
    with pytest.raises(TrainingDataError, match="no release v2.0.0"):
        resolve_training_data("acme/rm-data@v2.0.0", store=store)

"""Fixtures of the release tests: a hand-made build folder and isolated store / caches."""

import pytest
from release_folders import make_build


@pytest.fixture
def build(tmp_path):
    return make_build(tmp_path / "build")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Keep every cache the release code or `datasets` touches inside tmp_path."""
    import datasets.config

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("EAX_DATA_STORE", raising=False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-datasets")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-datasets"))

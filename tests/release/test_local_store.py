"""Publish to / pull from a local store: versions, no-op republish, refusals, byte-identical round trips."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from release_folders import files, make_build, snapshot, write_direction

from eax_data.release import ReleaseError, load, publish, pull
from eax_data.release.tree import publishable_files

REPO = "acme/eax-test"
DATA_PREFIXES = ("data/", "candidates/", "excluded/")


def git(repo, *args) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def published_bytes(folder) -> dict[str, bytes]:
    """The files a release must carry byte for byte (the card is re-rendered, so not README/assets)."""
    return {k: v for k, v in files(folder).items() if k.startswith(DATA_PREFIXES) or k in ("recipe.yaml", "stats.json")}


def test_publish_two_versions_and_pull_them_back(build, tmp_path, monkeypatch):
    store = tmp_path / "store"
    before = snapshot(build)
    first = publish(build, REPO, "1.0.0", store=store)
    assert snapshot(build) == before  # the user's build folder is never modified
    assert (first.tag, first.version, first.no_op) == ("v1.0.0", "1.0.0", False)
    assert len(first.commit) == 40 and first.target == str(store / "datasets" / "acme" / "eax-test")
    v1 = published_bytes(build)
    v1_copy = shutil.copytree(build, tmp_path / "v1-build")

    write_direction(build, "de-fr", range(5))  # 2 rows added
    write_direction(build, "fr-de", [1])  # 1 row removed
    second = publish(build, REPO, "1.1.0", store=store, message="more de-fr")
    assert second.commit != first.commit and not second.no_op

    repo = store / "datasets" / "acme" / "eax-test"
    assert git(repo, "tag").split() == ["v1.0.0", "v1.1.0"]
    assert git(repo, "rev-parse", "v1.0.0^{commit}").strip() == first.commit
    assert git(repo, "rev-list", "main").split() == [second.commit, first.commit]  # linear history
    assert git(repo, "log", "-1", "--format=%an <%ae>|%s", "v1.1.0").strip().split("|")[1] == "more de-fr"
    assert git(repo, "status", "--porcelain") == ""  # the store's checkout shows the latest release
    tree = set(git(repo, "ls-tree", "-r", "--name-only", "v1.1.0").split())
    assert tree == set(publishable_files(repo)) and "README.md" in tree
    assert not any(p.startswith(("tasks/", "logs/", "checkpoints/")) for p in tree)
    # the card was rendered for this release, in the staging copy, with a changelog against v1.0.0
    card = git(repo, "show", "v1.1.0:README.md")
    assert "v1.1.0" in card and "v1.0.0" in card and card != (build / "README.md").read_text()
    assert "assets/" in " ".join(tree)
    assert "| de-fr | 3 | 5 | +2 | 0 |" in card and "| fr-de | 2 | 1 | 0 | -1 |" in card
    assert "First release" in git(repo, "show", "v1.0.0:README.md")

    out1 = pull(f"{REPO}@v1.0.0", tmp_path / "pulled-1", store=store)
    monkeypatch.chdir(tmp_path)
    out2 = pull(REPO, store=store)  # latest, into ./NAME-vX.Y.Z
    assert out2 == str(tmp_path / "eax-test-v1.1.0")
    assert published_bytes(out1) == v1 and published_bytes(v1_copy) == v1
    assert published_bytes(out2) == published_bytes(build)
    for out, tag in ((out1, "v1.0.0"), (out2, "v1.1.0")):
        assert sorted(files(out)) == sorted(git(repo, "ls-tree", "-r", "--name-only", tag).split())
        for path, data in files(out).items():  # every byte as committed
            assert data == subprocess.run(["git", "-C", str(repo), "show", f"{tag}:{path}"], capture_output=True,
                                          check=True).stdout

    import datasets

    assert datasets.load_dataset(out1, "de-fr")["train"].num_rows == 3
    assert datasets.load_dataset(out2, "de-fr")["train"].num_rows == 5
    assert datasets.load_dataset(out2, "fr-de")["train"].num_rows == 1
    loaded = load(f"{REPO}@v1.0.0", "fr-de", store=store)
    assert list(loaded) == ["train"] and loaded["train"].num_rows == 2
    assert load(REPO, store=store)["train"].num_rows == 6  # "all" of the latest release
    assert loaded["train"][0]["chosen"][0]["role"] == "assistant"


def test_republish_same_version(build, tmp_path):
    store = tmp_path / "store"
    first = publish(build, REPO, "1.0.0", store=store)
    publish(make_build(tmp_path / "other", {"de-fr": range(4)}), REPO, "1.1.0", store=store)
    repo = store / "datasets" / "acme" / "eax-test"
    refs = git(repo, "for-each-ref")

    again = publish(build, REPO, "1.0.0", store=store)  # unchanged -> no-op, even after v1.1.0
    assert again.no_op and again.commit == first.commit and again.tag == "v1.0.0"
    assert git(repo, "for-each-ref") == refs

    write_direction(build, "de-fr", range(4))
    with pytest.raises(ReleaseError, match="v1.0.0 is already published .* different content"):
        publish(build, REPO, "1.0.0", store=store)
    with pytest.raises(ReleaseError, match="v0.9.0 is not greater than the latest release v1.1.0"):
        publish(build, REPO, "0.9.0", store=store)
    with pytest.raises(ReleaseError, match="not greater"):
        publish(build, REPO, "1.0.5", store=store)
    with pytest.raises(ReleaseError, match="not a semantic version"):
        publish(build, REPO, "1.2", store=store)
    with pytest.raises(ReleaseError, match="ORG/NAME"):
        publish(build, "no-org", "1.2.0", store=store)
    assert git(repo, "for-each-ref") == refs


def test_pull_refusals(build, tmp_path):
    store = tmp_path / "store"
    with pytest.raises(ReleaseError, match="no releases"):
        pull(REPO, tmp_path / "x", store=store)
    publish(build, REPO, "1.0.0", store=store)
    with pytest.raises(ReleaseError, match="no release v2.0.0; releases: v1.0.0"):
        pull(f"{REPO}@v2.0.0", tmp_path / "x", store=store)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("x")
    with pytest.raises(ReleaseError, match="not empty"):
        pull(REPO, tmp_path / "full", store=store)
    assert pull(f"{REPO}@1.0.0", tmp_path / "ok", store=store) == str(tmp_path / "ok")


def test_store_location(build, tmp_path, monkeypatch):
    from eax_data.release.store import default_store

    assert default_store() == tmp_path / "xdg-cache" / "eax-data" / "store"
    monkeypatch.setenv("EAX_DATA_STORE", str(tmp_path / "env-store"))
    assert default_store() == tmp_path / "env-store"
    assert default_store(tmp_path / "arg") == tmp_path / "arg"
    result = publish(build, REPO, "1.0.0")
    assert result.target == str(tmp_path / "env-store" / "datasets" / "acme" / "eax-test")


def test_dirty_store_checkout_is_refused(build, tmp_path):
    store = tmp_path / "store"
    publish(build, REPO, "1.0.0", store=store)
    repo = store / "datasets" / "acme" / "eax-test"
    (repo / "stats.json").write_text("{}")
    write_direction(build, "de-fr", range(4))
    with pytest.raises(ReleaseError, match="local changes"):
        publish(build, REPO, "1.1.0", store=store)
    assert git(repo, "tag").split() == ["v1.0.0"]


def test_store_checkout_off_main_is_refused(build, tmp_path):
    store = tmp_path / "store"
    publish(build, REPO, "1.0.0", store=store)
    repo = store / "datasets" / "acme" / "eax-test"
    git(repo, "checkout", "-q", "-b", "scratch")
    write_direction(build, "de-fr", range(4))
    with pytest.raises(ReleaseError, match="not refs/heads/main"):
        publish(build, REPO, "1.1.0", store=store)


def test_package_import_is_light():
    """The CLI imports eax_data.release for every command: it must not pull datasets / huggingface_hub."""
    import sys

    code = ("import sys, eax_data.release as r; f = (r.publish, r.pull, r.load);"
            "print([m for m in ('datasets', 'huggingface_hub', 'pyarrow') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

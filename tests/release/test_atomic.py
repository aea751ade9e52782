"""A publish that fails at any step leaves the store exactly as it was: refs, objects, working tree."""

from __future__ import annotations

import subprocess

import pytest
from release_folders import snapshot, write_direction

from eax_data.release import publish
from eax_data.release import local_store

REPO = "acme/eax-test"


class Boom(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def no_card(monkeypatch):
    """These tests are about the store; skip the (slow, plotting) card render."""
    from eax_data.release import tree

    monkeypatch.setattr(tree, "card_renderer", lambda: None)


def store_state(store) -> dict:
    """Every ref and every file of the store (objects included), with their bytes."""
    repo = store / "datasets" / "acme" / "eax-test"
    refs = subprocess.run(["git", "-C", str(repo), "for-each-ref"], capture_output=True, text=True).stdout
    return {"refs": refs, "files": {k: v[0] for k, v in snapshot(store).items()}}


def fail(*args, **kwargs):
    raise Boom("simulated failure")


@pytest.mark.parametrize("step", ["_write_tree", "_commit_tree", "_migrate_objects", "_move_refs"])
def test_failed_update_leaves_store_unchanged(build, tmp_path, monkeypatch, step):
    store = tmp_path / "store"
    publish(build, REPO, "1.0.0", store=store)
    before = store_state(store)
    write_direction(build, "de-fr", range(6))
    monkeypatch.setattr(local_store, step, fail)
    with pytest.raises(Boom):
        publish(build, REPO, "1.1.0", store=store)
    assert store_state(store) == before
    monkeypatch.undo()
    assert not publish(build, REPO, "1.1.0", store=store).no_op  # and the next try works


def test_failure_after_refs_moved_is_rolled_back(build, tmp_path, monkeypatch):
    """The last step (syncing the store's checkout) fails once: refs go back, checkout restored."""
    store = tmp_path / "store"
    publish(build, REPO, "1.0.0", store=store)
    before = store_state(store)
    write_direction(build, "de-fr", range(6))
    real, calls = local_store._sync_worktree, []

    def sync_once_failing(git_dir, work_tree):
        calls.append(1)
        if len(calls) == 1:
            real(git_dir, work_tree)  # the checkout changed…
            raise Boom("interrupted")  # …then the step died
        real(git_dir, work_tree)

    monkeypatch.setattr(local_store, "_sync_worktree", sync_once_failing)
    with pytest.raises(Boom):
        publish(build, REPO, "1.1.0", store=store)
    after = store_state(store)
    assert after["refs"] == before["refs"]
    work = {k: v for k, v in after["files"].items() if "/.git/" not in k}
    assert work == {k: v for k, v in before["files"].items() if "/.git/" not in k}


@pytest.mark.parametrize("step", ["_commit_tree", "_move_refs", "_sync_worktree"])
def test_failed_first_release_leaves_no_repo(build, tmp_path, monkeypatch, step):
    store = tmp_path / "store"
    store.mkdir()
    monkeypatch.setattr(local_store, step, fail)
    with pytest.raises(Boom):
        publish(build, REPO, "1.0.0", store=store)
    assert list(store.iterdir()) == []

"""Releases into a local store: one git repository per dataset, a release = one commit + tag ``vX.Y.Z``.

The commit is built with plumbing (``add``/``write-tree``/``commit-tree``) against a temporary index
and a quarantine object directory, so nothing in the store changes until the very end: then the
objects are moved in, ``main`` and the tag move in one ref transaction, and the working tree is synced.
Any exception on the way leaves the store's refs, objects and working tree exactly as they were.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Optional

from eax_data.release.errors import ReleaseError
from eax_data.release.gitcli import git
from eax_data.release.store import default_store, repo_path

BRANCH = "refs/heads/main"
LOCK_FILE = "eax-data-release.lock"


class LocalStore:
    """One dataset repo in a store folder, seen through the operations a release needs."""

    target = "store"

    def __init__(self, repo_id: str, store: Optional[str | os.PathLike] = None):
        self.repo_id = repo_id
        self.root = default_store(store).absolute()
        self.path = repo_path(self.root, repo_id)
        self.git_dir = self.path / ".git"
        if self.path.exists() and not self.git_dir.is_dir():
            raise ReleaseError(f"{self.path}: exists but is not a git repository of the store")

    def __str__(self) -> str:
        return str(self.path)

    def exists(self) -> bool:
        return self.git_dir.is_dir()

    def tags(self) -> dict[str, str]:
        """tag name -> commit sha of every tag in the repo (empty when the repo does not exist)."""
        if not self.exists():
            return {}
        out = git("for-each-ref", "--format=%(refname:strip=2) %(objectname) %(*objectname)", "refs/tags",
                  git_dir=self.git_dir)
        tags = {}
        for line in out.splitlines():
            name, sha, peeled = (line.split(" ") + [""])[:3]
            tags[name] = peeled or sha  # annotated tags peel to their commit
        return tags

    def checkout(self, tag: str, dest: Path, patterns=None) -> Path:
        """Write the tree of ``tag`` into ``dest`` (created): ``git archive`` + untar.

        ``patterns`` (a subset wanted by the caller) is ignored: a local checkout is cheap, take it all.
        """
        if not self.exists():
            raise ReleaseError(f"{self.repo_id}: no such dataset in the store {self.root}")
        data = git("archive", "--format=tar", f"refs/tags/{tag}", git_dir=self.git_dir, text=False)
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(dest, filter="data")
        return dest

    def same_tree(self, tag: str, staging: Path) -> bool:
        """True when ``staging`` holds exactly the tree of ``tag`` (paths, bytes; compared by git tree id)."""
        with tempfile.TemporaryDirectory(prefix="eax-release-") as tmp:
            tree = _write_tree(self.git_dir, staging, Path(tmp))
        return tree == git("rev-parse", f"refs/tags/{tag}^{{tree}}", git_dir=self.git_dir).strip()

    def commit_and_tag(self, staging: Path, tag: str, message: str) -> str:
        """Commit ``staging`` as the new head of ``main`` and tag it; returns the commit sha."""
        if self.exists():
            return self._publish_existing(staging, tag, message)
        return self._publish_new(staging, tag, message)

    # -- the two cases ---------------------------------------------------------------------------

    def _publish_existing(self, staging: Path, tag: str, message: str) -> str:
        # Serialise releases into this repo: a failed one takes back the objects it moved in, which
        # must not be objects a concurrent release found already there and relied on.
        with _repo_lock(self.git_dir):
            return self._publish_locked(staging, tag, message)

    def _publish_locked(self, staging: Path, tag: str, message: str) -> str:
        head = git("symbolic-ref", "-q", "HEAD", git_dir=self.git_dir).strip()
        if head != BRANCH:
            raise ReleaseError(f"{self.path}: the store's checkout is on {head}, not {BRANCH}; check out main first")
        if git("status", "--porcelain", "--untracked-files=all", git_dir=self.git_dir, work_tree=self.path,
               cwd=self.path, env={"GIT_OPTIONAL_LOCKS": "0"}).strip():  # no index refresh: read only
            raise ReleaseError(f"{self.path}: the store's working tree has local changes; commit or discard them first")
        parent = _head(self.git_dir)
        added: list[Path] = []
        try:
            with tempfile.TemporaryDirectory(prefix="eax-release-") as tmp:
                tree = _write_tree(self.git_dir, staging, Path(tmp))
                commit = _commit_tree(self.git_dir, tree, parent, message, Path(tmp))
                _migrate_objects(Path(tmp) / "objects", self.git_dir / "objects", added)
            _move_refs(self.git_dir, tag, commit, parent)
        except BaseException:
            _remove_objects(added)
            raise
        try:
            _sync_worktree(self.git_dir, self.path)
        except BaseException:
            _undo_refs(self.git_dir, tag, commit, parent)
            if parent:
                _sync_worktree(self.git_dir, self.path)
            _remove_objects(added)
            raise
        return commit

    def _publish_new(self, staging: Path, tag: str, message: str) -> str:
        created = [p for p in (self.path.parent, *self.path.parent.parents) if not p.exists()]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.new-", dir=self.path.parent))
        try:
            git("init", "-q", "-b", "main", str(work))
            git_dir = work / ".git"
            (git_dir / LOCK_FILE).touch()  # exists from the start: a later release only opens it
            with tempfile.TemporaryDirectory(prefix="eax-release-") as tmp:
                tree = _write_tree(git_dir, staging, Path(tmp), quarantine=False)
                commit = _commit_tree(git_dir, tree, None, message, Path(tmp), quarantine=False)
            _move_refs(git_dir, tag, commit, None)
            _sync_worktree(git_dir, work)
            os.rename(work, self.path)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            for folder in created:  # innermost first
                try:
                    folder.rmdir()
                except OSError:
                    pass
            raise
        return commit


@contextlib.contextmanager
def _repo_lock(git_dir: Path):
    """An exclusive advisory lock on ``.git/eax-data-release.lock`` (POSIX; no lock elsewhere)."""
    try:
        import fcntl
    except ImportError:  # Windows: releases into one store repo must not run concurrently
        yield
        return
    with open(git_dir / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- steps (module functions, so a test can make one fail) --------------------------------------


def _quarantine_env(git_dir: Path, tmp: Path, quarantine: bool = True) -> dict:
    env = {"GIT_INDEX_FILE": str(tmp / "index")}
    if quarantine:
        (tmp / "objects").mkdir(exist_ok=True)
        env["GIT_OBJECT_DIRECTORY"] = str(tmp / "objects")
        env["GIT_ALTERNATE_OBJECT_DIRECTORIES"] = str(Path(git_dir) / "objects")
    return env


def _write_tree(git_dir: Path, staging: Path, tmp: Path, quarantine: bool = True) -> str:
    """Hash ``staging`` into a tree; new objects go to ``tmp/objects`` (quarantine), not the store."""
    env = _quarantine_env(git_dir, tmp, quarantine)
    git("add", "--all", "--force", ".", git_dir=git_dir, work_tree=staging, cwd=staging, env=env)
    return git("write-tree", git_dir=git_dir, env=env).strip()


def _commit_tree(git_dir: Path, tree: str, parent: Optional[str], message: str, tmp: Path,
                 quarantine: bool = True) -> str:
    args = ["commit-tree", tree, "-m", message]
    if parent:
        args += ["-p", parent]
    return git(*args, git_dir=git_dir, env=_quarantine_env(git_dir, tmp, quarantine)).strip()


def _migrate_objects(quarantine: Path, objects: Path, added: list[Path]) -> None:
    """Move quarantined objects into the store (content-addressed: existing files are kept).

    Each file lands under a temporary name then is renamed, and pack indexes come after their packs,
    so git never sees a partial object. ``added`` collects what was added, to take back on failure.
    """
    files = sorted((p for p in quarantine.rglob("*") if p.is_file()), key=lambda p: (p.suffix == ".idx", str(p)))
    for path in files:
        target = objects / path.relative_to(quarantine)
        if target.exists():
            continue
        if not target.parent.is_dir():
            target.parent.mkdir(parents=True)
            added.append(target.parent)
        partial = target.with_name(f".{target.name}.partial")
        shutil.copyfile(path, partial)
        os.chmod(partial, 0o444)
        added.append(target)
        os.replace(partial, target)


def _remove_objects(added: list[Path]) -> None:
    """Take back the objects a failed release moved in, and the fan-out folders it created."""
    for path in reversed(added):
        if path.is_dir():
            for partial in path.glob(".*.partial"):
                partial.unlink()
            path.rmdir()
        else:
            path.unlink(missing_ok=True)


def _head(git_dir: Path) -> Optional[str]:
    try:
        return git("rev-parse", "--verify", "-q", f"{BRANCH}^{{commit}}", git_dir=git_dir).strip() or None
    except ReleaseError:
        return None


def _move_refs(git_dir: Path, tag: str, commit: str, parent: Optional[str]) -> None:
    """One transaction: ``main`` parent -> commit (or created) and tag created; all or nothing."""
    branch = f"update {BRANCH} {commit} {parent}" if parent else f"create {BRANCH} {commit}"
    script = f"start\n{branch}\ncreate refs/tags/{tag} {commit}\nprepare\ncommit\n"
    git("update-ref", "--stdin", git_dir=git_dir, input=script.encode())


def _undo_refs(git_dir: Path, tag: str, commit: str, parent: Optional[str]) -> None:
    branch = f"update {BRANCH} {parent} {commit}" if parent else f"delete {BRANCH} {commit}"
    script = f"start\n{branch}\ndelete refs/tags/{tag} {commit}\nprepare\ncommit\n"
    git("update-ref", "--stdin", git_dir=git_dir, input=script.encode())


def _sync_worktree(git_dir: Path, work_tree: Path) -> None:
    """Make the store's checkout show ``main`` (the store is browsable like a Hub repo)."""
    git("read-tree", "--reset", "-u", "HEAD", git_dir=git_dir, work_tree=work_tree, cwd=work_tree)

"""Releases on the Hugging Face Hub: one ``create_commit`` with every file, then ``create_tag`` at its oid.

The token is never touched here: ``HfApi()`` resolves it (``HF_TOKEN`` or ``hf auth login``) and only
sends it in the Authorization header. The Hub cannot make commit + tag atomic; if tagging fails after
the commit, publishing the same version again finds ``main`` already holding the tree and only tags it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

from eax_data.release.errors import ReleaseError
from eax_data.release.tree import file_sha256, git_blob_sha1, publishable_files

REPO_TYPE = "dataset"
BRANCH = "main"
# Files the Hub puts in every new repo (LFS/xet rules); kept across releases, ignored in comparisons.
HUB_MANAGED = frozenset({".gitattributes"})


class HubRepo:
    """One dataset repo on the Hub, seen through the operations a release needs."""

    target = "hub"

    def __init__(self, repo_id: str, private: bool = False):
        from huggingface_hub import HfApi

        self.repo_id = repo_id
        self.private = private
        self.api = HfApi()

    def __str__(self) -> str:
        return "hub"

    def _refs(self):
        from huggingface_hub.errors import RepositoryNotFoundError

        try:
            return self.api.list_repo_refs(self.repo_id, repo_type=REPO_TYPE)
        except RepositoryNotFoundError:
            return None

    def tags(self) -> dict[str, str]:
        """tag name -> commit oid (empty when the repo does not exist yet)."""
        refs = self._refs()
        return {t.name: t.target_commit for t in refs.tags} if refs else {}

    def _main(self) -> Optional[str]:
        refs = self._refs()
        return next((b.target_commit for b in refs.branches if b.name == BRANCH), None) if refs else None

    def checkout(self, tag: str, dest: Path, patterns=None) -> Path:
        """Download the files of ``tag`` (those matching ``patterns``, default all) into ``dest``,
        without the download bookkeeping folder (``.cache/huggingface``)."""
        from huggingface_hub import snapshot_download

        dest = Path(dest)
        cache_existed = (dest / ".cache").exists()
        snapshot_download(self.repo_id, repo_type=REPO_TYPE, revision=tag, local_dir=str(dest),
                          allow_patterns=list(patterns) if patterns else None)
        if not cache_existed:
            shutil.rmtree(dest / ".cache", ignore_errors=True)
        return dest

    def remote_files(self, revision: str) -> dict[str, tuple[str, str]]:
        """path -> ("sha256", hex) for LFS files or ("git", blob oid) for regular ones, at ``revision``."""
        from huggingface_hub.hf_api import RepoFile

        files = {}
        for entry in self.api.list_repo_tree(self.repo_id, recursive=True, revision=revision, repo_type=REPO_TYPE):
            if isinstance(entry, RepoFile) and entry.path not in HUB_MANAGED:
                files[entry.path] = ("sha256", entry.lfs.sha256) if entry.lfs else ("git", entry.blob_id)
        return files

    def _matches(self, remote: dict[str, tuple[str, str]], staging: Path) -> bool:
        local = publishable_files(staging)
        if sorted(remote) != local:
            return False
        for rel in local:
            kind, oid = remote[rel]
            mine = file_sha256(staging / rel) if kind == "sha256" else git_blob_sha1(staging / rel)
            if mine != oid:
                return False
        return True

    def same_tree(self, tag: str, staging: Path) -> bool:
        return self._matches(self.remote_files(tag), Path(staging))

    def commit_and_tag(self, staging: Path, tag: str, message: str) -> str:
        """create_repo (exist_ok) -> one create_commit (adds + deletes vs. main) -> create_tag at its oid."""
        from huggingface_hub import CommitOperationAdd, CommitOperationDelete

        staging = Path(staging)
        self.api.create_repo(self.repo_id, repo_type=REPO_TYPE, exist_ok=True, private=self.private)
        parent = self._main()
        remote = self.remote_files(parent) if parent else {}
        if parent and self._matches(remote, staging):
            commit = parent  # an earlier attempt committed this tree but did not get to tag it
        else:
            files = publishable_files(staging)
            operations = [CommitOperationAdd(path_in_repo=rel, path_or_fileobj=str(staging / rel)) for rel in files]
            operations += [CommitOperationDelete(path_in_repo=rel) for rel in sorted(set(remote) - set(files))]
            info = self.api.create_commit(
                self.repo_id,
                operations,
                commit_message=message,
                repo_type=REPO_TYPE,
                revision=BRANCH,
                parent_commit=parent,
            )
            commit = info.oid
        try:
            self.api.create_tag(self.repo_id, tag=tag, revision=commit, repo_type=REPO_TYPE)
        except Exception as err:
            raise ReleaseError(
                f"{self.repo_id}: commit {commit} is on {BRANCH} but tagging {tag} failed ({err}); "
                "run the same publish again to tag it"
            ) from err
        return commit

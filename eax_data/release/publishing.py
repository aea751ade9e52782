"""``publish``: validate a build folder, stage its publishable files, render the card, release it.

Order matters: validation and version checks come before anything is written anywhere; the card is
rendered into a staging copy (the user's build folder is never modified); the target (local store or
Hub) only changes in its final step.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from eax_data.release.errors import ReleaseError
from eax_data.release.store import check_repo_id
from eax_data.release import tree
from eax_data.release.validate import validate_build
from eax_data.release.versions import (
    check_new_version,
    parse_version,
    previous_tag,
    release_tags,
    tag_name,
)


@dataclass(frozen=True)
class ReleaseResult:
    repo_id: str
    version: str  # "X.Y.Z"
    tag: str  # "vX.Y.Z"
    commit: str  # full sha of the commit the tag points at
    target: str  # the store repo's path, or "hub"
    no_op: bool  # True: this exact release already existed, nothing was written

    def __str__(self) -> str:
        state = "already published" if self.no_op else "published"
        return f"{self.repo_id} {self.tag} {state} ({self.target}): {self.commit}"


def publish(
    folder: str | os.PathLike,
    repo_id: str,
    version: str,
    *,
    hub: bool = False,
    private: bool = False,
    message: Optional[str] = None,
    store: Optional[str | os.PathLike] = None,
) -> ReleaseResult:
    """Release the build in ``folder`` as ``repo_id`` version ``version`` (one commit + tag ``vX.Y.Z``).

    Target: the local store (``store`` argument, else ``$EAX_DATA_STORE``, else ``~/.cache/eax-data/store``)
    or, with ``hub=True``, the Hugging Face Hub. Republishing an existing version with the identical tree
    is a no-op (``no_op=True``); with a different tree, or a version not above the latest, it is refused
    with ``ReleaseError``. An invalid folder is refused with ``InvalidBuildError`` before anything else.
    """
    from loguru import logger

    root = validate_build(folder)
    check_repo_id(repo_id)
    parsed = parse_version(version)
    tag, plain = tag_name(parsed), "{}.{}.{}".format(*parsed)
    if hub:
        from eax_data.release.hub import HubRepo

        target = HubRepo(repo_id, private=private)
    else:
        from eax_data.release.local_store import LocalStore

        target = LocalStore(repo_id, store)

    tags = target.tags()
    releases = release_tags(tags)
    exists = tag in tags
    if not exists:
        check_new_version(releases, parsed, repo_id)
    previous = previous_tag(releases, parsed)

    with tempfile.TemporaryDirectory(prefix="eax-release-") as tmp:
        staging = tree.stage(root, Path(tmp) / "release")
        previous_dir = None
        if previous is not None and tree.card_renderer() is not None:
            previous_dir = target.checkout(previous, Path(tmp) / "previous", patterns=tree.PREVIOUS_FOR_CARD)
        tree.render_card(staging, repo_id, plain, previous_dir, previous[1:] if previous else None)
        if exists:
            if not target.same_tree(tag, staging):
                raise ReleaseError(
                    f"{repo_id}: {tag} is already published ({tags[tag]}) with different content; "
                    "a release never changes, publish a new version instead"
                )
            logger.info(f"{repo_id} {tag} is already published with this content ({target}): {tags[tag]}")
            return ReleaseResult(repo_id, plain, tag, tags[tag], str(target), no_op=True)
        commit = target.commit_and_tag(staging, tag, message or f"Release {repo_id} {tag}")
    logger.info(f"published {repo_id} {tag} ({target}): {commit}")
    return ReleaseResult(repo_id, plain, tag, commit, str(target), no_op=False)

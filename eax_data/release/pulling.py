"""``pull`` a release into a folder, or ``load`` it as a ``datasets.DatasetDict``.

A spec is ``ORG/NAME`` (latest release) or ``ORG/NAME@vX.Y.Z``; releases come from the local store
or, with ``hub=True``, from the Hub.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional

from eax_data.release.errors import ReleaseError
from eax_data.release.store import parse_spec, user_cache_dir
from eax_data.release.versions import latest_tag, release_tags


def _target(repo_id: str, hub: bool, store):
    if hub:
        from eax_data.release.hub import HubRepo

        return HubRepo(repo_id)
    from eax_data.release.local_store import LocalStore

    return LocalStore(repo_id, store)


def resolve(spec: str, *, hub: bool = False, store=None):
    """(target, repo_id, tag, commit sha) of the release ``spec`` names; refuses unknown releases."""
    repo_id, tag = parse_spec(spec)
    target = _target(repo_id, hub, store)
    tags = target.tags()
    releases = release_tags(tags)
    if not releases:
        raise ReleaseError(f"{repo_id}: no releases found ({target})")
    tag = tag or latest_tag(releases)
    if tag not in releases:
        raise ReleaseError(f"{repo_id}: no release {tag}; releases: {', '.join(sorted(releases, key=releases.get))}")
    return target, repo_id, tag, tags[tag]


def pull(spec: str, output: Optional[str | os.PathLike] = None, *, hub: bool = False, store=None) -> str:
    """Write the files of a release into ``output`` (default ``./NAME-vX.Y.Z``); returns the folder.

    The folder holds exactly the released tree (plus the Hub's ``.gitattributes`` when pulled from the
    Hub). An existing non-empty ``output`` is refused, and a failed pull removes what it wrote.
    """
    target, repo_id, tag, _ = resolve(spec, hub=hub, store=store)
    out = Path(output) if output is not None else Path.cwd() / f"{repo_id.split('/')[1]}-{tag}"
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ReleaseError(f"{out}: exists and is not empty; pull into a new folder")
    created = not out.exists()
    try:
        target.checkout(tag, out)
    except BaseException:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    return str(out)


def release_folder(spec: str, *, hub: bool = False, store=None) -> str:
    """A read-only local copy of a release, cached by commit: the Hub cache, or ``<cache>/releases``."""
    target, repo_id, tag, commit = resolve(spec, hub=hub, store=store)
    if hub:
        from huggingface_hub import snapshot_download

        return snapshot_download(repo_id, repo_type="dataset", revision=commit)
    folder = user_cache_dir() / "releases" / repo_id / f"{tag}-{commit[:12]}"
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        try:
            target.checkout(tag, tmp)
            os.rename(tmp, folder)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not folder.is_dir():  # not a concurrent load that got there first
                raise
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return str(folder)


def load(spec: str, config: str = "all", *, hub: bool = False, store=None):
    """``datasets.load_dataset`` of a release for one config (``"all"`` or a direction such as
    ``"de-fr"``): a ``DatasetDict`` of its splits (``train``)."""
    import datasets

    return datasets.load_dataset(release_folder(spec, hub=hub, store=store), config)

"""The tree a release publishes: which files, their hashes, and the staging copy the card is rendered in.

Everything a release compares (identical republish = no-op) is computed from bytes here, so the same
build folder always yields the same tree.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Optional

# Top-level entries of a build folder that are published; tasks/, checkpoints/, logs/ stay local.
PUBLISHABLE = ("README.md", "recipe.yaml", "stats.json", "data", "candidates", "excluded", "assets")
# What the card's changelog reads from the previous release (a Hub download fetches only these).
PREVIOUS_FOR_CARD = ("README.md", "recipe.yaml", "stats.json", "data/**")
# Folders whose parquet files are "the data" hashed into ``content_sha``.
DATA_FOLDERS = ("data", "candidates", "excluded")


def publishable_files(folder: str | Path) -> list[str]:
    """Sorted POSIX paths (relative to ``folder``) of the files a release publishes.

    Hidden files and folders (``.cache``, ``.ipynb_checkpoints``…) are never published.
    """
    root = Path(folder)
    found = []
    for name in PUBLISHABLE:
        entry = root / name
        if entry.is_file():
            found.append(name)
        elif entry.is_dir():
            for path in entry.rglob("*"):
                rel = path.relative_to(root)
                if path.is_file() and not any(part.startswith(".") for part in rel.parts):
                    found.append(rel.as_posix())
    return sorted(found)


def stage(folder: str | Path, dest: str | Path) -> Path:
    """Copy the publishable files of ``folder`` into ``dest`` (bytes only: no modes, no times)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for rel in publishable_files(folder):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(folder) / rel, target)
    return dest


def prune(staging: str | Path) -> None:
    """Drop anything a renderer left in ``staging`` that is not publishable (so it is not committed)."""
    root = Path(staging)
    keep = set(publishable_files(root))
    for path in sorted(root.rglob("*"), reverse=True):
        rel = path.relative_to(root).as_posix()
        if path.is_dir():
            if not any(path.iterdir()):
                path.rmdir()
        elif rel not in keep:
            path.unlink()


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_blob_sha1(path: str | Path) -> str:
    """The git object id of a file's bytes (what the Hub reports as ``oid`` of a regular file)."""
    data = Path(path).read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def content_sha(folder: str | Path) -> str:
    """sha256 over the sorted ``"<path>\\t<sha256 of file>\\n"`` lines of the data files.

    Data files = the parquet files under data/, candidates/ and excluded/; the card, stats and
    recipe are not part of it, so two releases with the same rows have the same content sha.
    """
    root = Path(folder)
    lines = []
    for rel in publishable_files(root):
        if rel.split("/", 1)[0] in DATA_FOLDERS and rel.endswith(".parquet"):
            lines.append(f"{rel}\t{file_sha256(root / rel)}\n")
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()



def card_renderer():
    """``(write_card_for_folder, ReleaseInfo)`` from the cards package, or None while it lacks them."""
    from eax_data.cards import render

    write = getattr(render, "write_card_for_folder", None)
    info_cls = getattr(render, "ReleaseInfo", None)
    try:
        from eax_data.cards import release_info
    except ModuleNotFoundError as err:
        if err.name != "eax_data.cards.release_info":
            raise
    else:
        info_cls = getattr(release_info, "ReleaseInfo", info_cls)
    if write is None or info_cls is None:
        return None
    return write, info_cls


def render_card(
    staging: str | Path,
    repo_id: str,
    version: str,
    previous_dir: Optional[str | Path],
    previous_version: Optional[str],
) -> bool:
    """(Re)render README.md and assets/ in the staging copy for this release.

    Returns False (README left as built) while the cards package has no ``write_card_for_folder``.
    Plots are regenerated, so the copied assets/ are removed first: no stale plot is published.
    """
    renderer = card_renderer()
    if renderer is None:
        return False
    write, info_cls = renderer
    staging = Path(staging)
    shutil.rmtree(staging / "assets", ignore_errors=True)
    info = info_cls(
        repo_id=repo_id,
        version=version,
        previous_dir=str(previous_dir) if previous_dir is not None else None,
        previous_version=previous_version,
        content_sha=content_sha(staging),
    )
    write(str(staging), info)
    prune(staging)
    return True

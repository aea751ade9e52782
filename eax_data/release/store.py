"""Where releases live locally, and how repo ids / pull specs are spelled.

The local store mirrors the Hub's layout (``<store>/datasets/ORG/NAME``, one git repo per dataset) so a
release can be tried, diffed and pulled exactly like a Hub one, without an account or a network.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional

from eax_data.release.errors import ReleaseError
from eax_data.release.versions import parse_version, tag_name

STORE_ENV = "EAX_DATA_STORE"
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/eax-data`` (default ``~/.cache/eax-data``), as platformdirs would say on Linux."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "eax-data"


def default_store(store: Optional[str | os.PathLike] = None) -> Path:
    """The store folder: the argument, else ``$EAX_DATA_STORE``, else ``<user cache>/store``."""
    if store is not None:
        return Path(store).expanduser()
    if os.environ.get(STORE_ENV):
        return Path(os.environ[STORE_ENV]).expanduser()
    return user_cache_dir() / "store"


def check_repo_id(repo_id: str) -> str:
    """``ORG/NAME`` with Hub-safe characters; refuses anything that could escape the store."""
    parts = str(repo_id).split("/")
    if len(parts) != 2 or not all(_PART.match(p) and ".." not in p for p in parts):
        raise ReleaseError(f"repo id {repo_id!r} must look like ORG/NAME (letters, digits, '.', '_', '-')")
    return repo_id


def repo_path(store: Path, repo_id: str) -> Path:
    org, name = check_repo_id(repo_id).split("/")
    return Path(store) / "datasets" / org / name


def parse_spec(spec: str) -> tuple[str, Optional[str]]:
    """``ORG/NAME`` -> (repo_id, None); ``ORG/NAME@vX.Y.Z`` (or ``@X.Y.Z``) -> (repo_id, "vX.Y.Z")."""
    repo_id, _, version = str(spec).partition("@")
    check_repo_id(repo_id)
    return repo_id, (tag_name(parse_version(version)) if version else None)

"""Semantic versions and release tags: a release is the tag ``vX.Y.Z``; versions only move forward."""

from __future__ import annotations

import re
from typing import Iterable, Optional

from eax_data.release.errors import ReleaseError

_SEMVER = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")

Version = tuple[int, int, int]


def parse_version(text: str) -> Version:
    """``"1.2.3"`` or ``"v1.2.3"`` -> ``(1, 2, 3)``; anything else (pre-releases too) is refused."""
    match = _SEMVER.match(str(text).strip())
    if not match:
        raise ReleaseError(f"version {text!r} is not a semantic version X.Y.Z (e.g. 1.0.0)")
    return tuple(int(part) for part in match.groups())  # type: ignore[return-value]


def tag_name(version: str | Version) -> str:
    """The git tag of a version: ``v1.2.3``."""
    parsed = parse_version(version) if isinstance(version, str) else version
    return "v{}.{}.{}".format(*parsed)


def release_tags(names: Iterable[str]) -> dict[str, Version]:
    """The release tags among ``names`` (non-semver tags are ignored), tag -> version."""
    found = {}
    for name in names:
        if name.startswith("v") and _SEMVER.match(name):
            found[name] = parse_version(name)
    return found


def latest_tag(tags: dict[str, Version]) -> Optional[str]:
    return max(tags, key=tags.get) if tags else None


def previous_tag(tags: dict[str, Version], version: Version) -> Optional[str]:
    """The newest release before ``version``: the one the card compares against."""
    older = {name: v for name, v in tags.items() if v < version}
    return latest_tag(older)


def check_new_version(tags: dict[str, Version], version: Version, repo: str) -> None:
    """Refuse a version that is not greater than the latest release (tags never go backwards)."""
    latest = latest_tag(tags)
    if latest is not None and version <= tags[latest]:
        raise ReleaseError(
            f"{repo}: version {tag_name(version)} is not greater than the latest release {latest}; "
            "pick a higher version"
        )

"""What a card needs to know about the release it describes (filled in by the publisher)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReleaseInfo:
    """One release of a dataset repo.

    ``previous_dir`` is a checked-out folder of the previous release of the same repo (None for the
    first release); the card's changelog compares the folder being released against it.
    ``content_sha`` is the publisher's content hash of the release, shown as its content identity.
    """

    repo_id: str  # "ORG/NAME"
    version: str  # "1.1.0"
    previous_dir: str | None = None
    previous_version: str | None = None
    content_sha: str | None = None

    @property
    def revision(self) -> str:
        """The git tag of this release, e.g. ``v1.1.0``."""
        return tag(self.version)

    @property
    def previous_revision(self) -> str | None:
        return tag(self.previous_version) if self.previous_version else None


def tag(version: str) -> str:
    return version if version.startswith("v") else f"v{version}"

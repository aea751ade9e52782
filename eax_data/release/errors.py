"""Errors a release raises: one type, so the CLI can print the message and exit non-zero."""

from __future__ import annotations


class ReleaseError(RuntimeError):
    """A release refused or failed; the message says what to fix. Nothing was published."""


class InvalidBuildError(ReleaseError):
    """The folder is not a build output that can be published (names the file and field)."""

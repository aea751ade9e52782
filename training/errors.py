"""Errors the training commands report as one clear line (the CLI prints them and exits 2)."""

from __future__ import annotations


class TrainingError(ValueError):
    """A training run that cannot start or finish; the message names the file, key or folder."""


class TrainingConfigError(TrainingError):
    """A training config YAML with an unknown key, a wrong type or an out-of-range value."""


class TrainingDataError(TrainingError):
    """Training data that is missing, empty, or not in the conversational preference format."""

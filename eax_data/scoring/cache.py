"""A persistent score cache, so a changed pair threshold or an added scorer never rescores old work.

Keyed by (scorer id - which names the model and its weight hash or version -, anchor, candidate,
and every other input the scorer reads: reference, languages). One SQLite file, WAL mode, shared
safely by the local workers of a build. On network file systems (Slurm clusters) give each job its
own cache folder or set ``execution.score_cache: null``: SQLite locking over NFS is unreliable.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from eax_data.scoring.base import Scorer

CACHE_FILE = "scores.sqlite"


def default_cache_dir() -> Path:
    """``$EAX_DATA_CACHE`` or the user cache folder (``~/.cache/eax-data``)."""
    if os.environ.get("EAX_DATA_CACHE"):
        return Path(os.environ["EAX_DATA_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "eax-data"


def resolve_cache_path(setting: str | None) -> str | None:
    """Recipe ``execution.score_cache`` -> the SQLite file path (None: caching off)."""
    if setting is None:
        return None
    folder = default_cache_dir() if setting == "auto" else Path(setting).expanduser()
    return str(folder / CACHE_FILE)


def cache_key(scorer_id: str, *fields: str | None) -> bytes:
    digest = hashlib.blake2b(scorer_id.encode(), digest_size=16)
    for value in fields:
        digest.update(b"\x1e" if value is None else b"\x1f" + value.encode())
    return digest.digest()


class ScoreCache:
    """``get`` many / ``put`` many float scores by 16-byte key. Opened lazily per process."""

    def __init__(self, path: str):
        self.path = path
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            db = sqlite3.connect(self.path, timeout=60)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS scores (key BLOB PRIMARY KEY, score REAL NOT NULL) WITHOUT ROWID")
            self._db = db
        return self._db

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, float]:
        db, found = self._connect(), {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):  # SQLite's bound-parameter limit
            part = unique[start : start + 500]
            rows = db.execute(f"SELECT key, score FROM scores WHERE key IN ({','.join('?' * len(part))})", part)
            found.update(rows)
        return found

    def put_many(self, items: dict[bytes, float]) -> None:
        if items:
            db = self._connect()
            with db:
                db.executemany("INSERT OR REPLACE INTO scores (key, score) VALUES (?, ?)", items.items())

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __getstate__(self):
        return {"path": self.path, "_db": None}


class CachedScorer:
    """Wraps a ``Scorer``: looks every input up first, scores only the misses, stores them.

    Counts ``hits`` and ``misses`` so the build can report them (and tests can assert that a second
    build scored nothing).
    """

    def __init__(self, scorer: Scorer, cache: ScoreCache | None):
        self.scorer = scorer
        self.cache = cache
        self.hits = 0
        self.misses = 0

    @property
    def id(self) -> str:
        return self.scorer.id

    @property
    def needs(self) -> frozenset[str]:
        return self.scorer.needs

    def score(self, anchors, candidates, **inputs) -> list[float]:
        if self.cache is None:
            self.misses += len(candidates)
            return self.scorer.score(anchors, candidates, **inputs)
        scorer_id = self.scorer.id
        names = sorted(name for name, values in inputs.items() if values is not None)
        keys = [
            cache_key(scorer_id, anchor, candidate, *(f"{name}={inputs[name][i]}" for name in names))
            for i, (anchor, candidate) in enumerate(zip(anchors, candidates, strict=True))
        ]
        found = self.cache.get_many(keys)
        first_index: dict[bytes, int] = {}
        for i, key in enumerate(keys):
            if key not in found:
                first_index.setdefault(key, i)  # repeated inputs in one batch are scored once
        todo = list(first_index.values())
        self.hits += len(keys) - len(todo)
        self.misses += len(todo)
        if todo:
            subset = {name: [values[i] for i in todo] for name, values in inputs.items() if values is not None}
            fresh = self.scorer.score([anchors[i] for i in todo], [candidates[i] for i in todo], **subset)
            new = {keys[i]: score for i, score in zip(todo, fresh, strict=True)}
            self.cache.put_many(new)
            found.update(new)
        return [found[key] for key in keys]

    def close(self) -> None:
        self.scorer.close()
        if self.cache is not None:
            self.cache.close()

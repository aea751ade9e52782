"""Expansion: an anchored sentence (x, e) becomes one x->y task for every other selected language."""

from __future__ import annotations

import hashlib
import unicodedata

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from eax_data import languages
from eax_data.schema import REF_LANG, REF_TEXT, SHARD, SOURCE_ID, SRC_LANG, TRG_LANG


def normalized(text: str) -> str:
    """The form two sources must share to count as duplicates: NFC, collapsed whitespace."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def task_id(src_lang: str, trg_lang: str, source: str) -> str:
    """Content-derived and stable across runs, shards and corpus order."""
    digest = hashlib.blake2b(f"{src_lang}\x1f{trg_lang}\x1f{normalized(source)}".encode(), digest_size=8).hexdigest()
    return f"{src_lang}-{trg_lang}-{digest}"


class ExpandToX2X(PipelineStep):
    """Emit x->y tasks; within a direction the first occurrence of a source wins (corpus order).

    The reference code dedups with ``list(set(...))``, whose order changes between runs; here the
    kept row is always the first one read, so ``source_id`` and the English anchor are reproducible.
    Dedup state is per process: run this step in a single task (the ``tasks`` stage does).
    """

    name = "🔀 Expand to x2x"
    type = "🔢 - PROCESS"
    reads = (SRC_LANG, REF_LANG, REF_TEXT, SOURCE_ID)
    writes = (TRG_LANG, SHARD)

    def __init__(self, languages_selected: tuple[str, ...], shards: int = 1):
        super().__init__()
        self.shards = shards
        self.targets = tuple(code for code in languages_selected if code != languages.ENGLISH)
        self._seen: set[bytes] = set()

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for anchored in data:
            src_lang = anchored.metadata[SRC_LANG]
            key = hashlib.blake2b(f"{src_lang}\x1f{normalized(anchored.text)}".encode(), digest_size=12).digest()
            if key in self._seen:
                self.stat_update("dropped_duplicate_source")
                continue
            self._seen.add(key)
            for trg_lang in self.targets:
                if trg_lang == src_lang:
                    continue
                self.stat_update("tasks")
                self.stat_update(f"tasks_{src_lang}-{trg_lang}")
                identifier = task_id(src_lang, trg_lang, anchored.text)
                shard = int(identifier.rsplit("-", 1)[1], 16) % self.shards
                yield Document(
                    text=anchored.text,
                    id=identifier,
                    metadata={**anchored.metadata, TRG_LANG: trg_lang, SHARD: f"{shard:05d}"},
                )

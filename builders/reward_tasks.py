"""Reward-model data tasks (the paper's step 1): English-centric directions with a human reference.

An anchored sentence (x in language X, its English anchor e) gives up to two tasks:

* en->X: translate e into X; the human reference is x;
* X->en: translate x into English; the human reference is e.

Candidates are sampled with the *direct* prompt (the reference is the answer, so it must not be in
the prompt) and scored against the reference with chrF/BLEU/COMET. ``ref_lang`` is then the target
language, which tells the copy filter that a candidate equal to the reference is not a copy.
"""

from __future__ import annotations

import hashlib

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from eax_data import languages
from eax_data.builders.expand import normalized, task_id
from eax_data.schema import REF_LANG, REF_TEXT, SHARD, SOURCE_ID, SRC_LANG, TRG_LANG


class RewardTasks(PipelineStep):
    """Anchored sentences -> en->x and/or x->en tasks, first occurrence of a (direction, source) kept."""

    name = "🎯 Reward-model tasks"
    type = "🔢 - PROCESS"
    reads = (SRC_LANG, REF_LANG, REF_TEXT, SOURCE_ID)
    writes = (TRG_LANG, SHARD)

    def __init__(self, directions: str = "both", shards: int = 1):
        super().__init__()
        if directions not in ("both", "en2x", "x2en"):
            raise ValueError(f"RewardTasks: directions must be both, en2x or x2en, not {directions!r}")
        self.directions = directions
        self.shards = shards
        self._seen: set[bytes] = set()

    def _task(self, src_lang: str, trg_lang: str, source: str, reference: str, source_id: str) -> Document | None:
        key = hashlib.blake2b(f"{src_lang}\x1f{trg_lang}\x1f{normalized(source)}".encode(), digest_size=12).digest()
        if key in self._seen:
            self.stat_update("dropped_duplicate_source")
            return None
        self._seen.add(key)
        identifier = task_id(src_lang, trg_lang, source)
        shard = int(identifier.rsplit("-", 1)[1], 16) % self.shards
        self.stat_update("tasks")
        self.stat_update(f"tasks_{src_lang}-{trg_lang}")
        metadata = {SRC_LANG: src_lang, TRG_LANG: trg_lang, REF_LANG: trg_lang, REF_TEXT: reference, SOURCE_ID: source_id, SHARD: f"{shard:05d}"}
        return Document(text=source, id=identifier, metadata=metadata)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        english = languages.ENGLISH
        for anchored in data:
            x_lang, x, e = anchored.metadata[SRC_LANG], anchored.text, anchored.metadata[REF_TEXT]
            source_id = anchored.metadata.get(SOURCE_ID)
            wanted = []
            if self.directions in ("both", "en2x"):
                wanted.append((english, x_lang, e, x))
            if self.directions in ("both", "x2en"):
                wanted.append((x_lang, english, x, e))
            for src_lang, trg_lang, source, reference in wanted:
                task = self._task(src_lang, trg_lang, source, reference, source_id)
                if task is not None:
                    yield task

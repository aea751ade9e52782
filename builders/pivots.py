"""Pivot references: the generator's greedy en->y translation of each English anchor.

Reference-based metrics (chrF, BLEU, COMET) need a reference in the target language y, which x2x
data does not have. The pivot is the next best thing: the anchor e translated into y once, greedily,
with the direct prompt. All x->y tasks that share an anchor and a target share one pivot, so the
pivots stage translates each (e, y) once per worker, and the scores stage attaches it by key.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import json
import os

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from eax_data.builders.expand import normalized
from eax_data.prompts import DIRECT_TEMPLATE
from eax_data.schema import FINISH_REASON, PIVOT_TEXT, REF_LANG, REF_TEXT, SOURCE_ID, SRC_LANG, TASK_ID, TRG_LANG

# The direct prompt with the anchor as its source: "Translate ... from English into Chinese: ...".
PIVOT_TEMPLATE = DIRECT_TEMPLATE


def pivot_key(anchor: str, trg_lang: str) -> str:
    digest = hashlib.blake2b(normalized(anchor).encode(), digest_size=8).hexdigest()
    return f"pivot-{trg_lang}-{digest}"


class PivotRequests(PipelineStep):
    """Tasks -> one en->y request per distinct (anchor, target language) seen by this worker."""

    name = "🧭 Pivot requests"
    type = "🔢 - PROCESS"
    reads = (REF_LANG, REF_TEXT, TRG_LANG)
    writes = (SRC_LANG, TRG_LANG, REF_LANG, REF_TEXT, SOURCE_ID)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        seen: set[str] = set()
        for task in data:
            meta = task.metadata
            key = pivot_key(meta[REF_TEXT], meta[TRG_LANG])
            if key in seen:
                continue
            seen.add(key)
            self.stat_update("pivot_requests")
            yield Document(
                text=meta[REF_TEXT],
                id=key,
                metadata={
                    SRC_LANG: meta[REF_LANG],
                    TRG_LANG: meta[TRG_LANG],
                    REF_LANG: meta[REF_LANG],
                    REF_TEXT: meta[REF_TEXT],
                    SOURCE_ID: meta.get(SOURCE_ID),
                },
            )


def pivot_row(document: Document) -> dict:
    """The row the pivots writer stores: key, translation, and why generation stopped."""
    return {"key": document.metadata[TASK_ID], "text": document.text, FINISH_REASON: document.metadata.get(FINISH_REASON)}


def load_pivots(folder: str) -> dict[str, str]:
    pivots: dict[str, str] = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.jsonl.gz"))):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line_number, line in enumerate(handle, 1):
                try:
                    row = json.loads(line)
                    pivots[row["key"]] = row["text"]
                except (json.JSONDecodeError, KeyError) as err:
                    raise ValueError(f"{path}:{line_number}: not a pivot row ({err})") from None
    return pivots


class AttachPivots(PipelineStep):
    """Sets ``pivot_text`` on every candidate from the pivots stage's output (loaded once per worker)."""

    name = "🧭 Attach pivots"
    type = "🔢 - PROCESS"
    reads = (REF_TEXT, TRG_LANG)
    writes = (PIVOT_TEXT,)

    def __init__(self, folder: str):
        super().__init__()
        self.folder = folder

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        pivots = load_pivots(self.folder)
        for doc in data:
            key = pivot_key(doc.metadata[REF_TEXT], doc.metadata[TRG_LANG])
            if key not in pivots:
                raise KeyError(f"{self.folder}: no pivot for candidate {doc.id!r} ({key}); the pivots stage did not finish")
            doc.metadata[PIVOT_TEXT] = pivots[key]
            if not pivots[key]:
                self.stat_update("empty_pivot")
            yield doc

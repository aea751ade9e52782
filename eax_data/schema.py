"""The record schema, defined once.

A build passes three kinds of record between stages, all as datatrove ``Document``s:

* **task** - one x->y translation job: ``text`` is the source sentence x, ``id`` the task id.
* **candidate** - one sampled translation of a task: ``text`` is the candidate, ``id`` is
  ``<task_id>/<k>``; it carries the task's fields too, so every candidate row stands alone.
* **pair** - the published preference row (trl's conversational preference format).

Field names below are the metadata keys steps read and write, and the parquet column names.
"""

from __future__ import annotations

import pyarrow as pa

# -- task fields (metadata keys of a task document) -------------------------------------------
SRC_LANG = "src_lang"
TRG_LANG = "trg_lang"
REF_LANG = "ref_lang"
REF_TEXT = "ref_text"  # the English anchor e
SOURCE_ID = "source_id"  # "<corpus id>:<row>", provenance back to the input corpus
SHARD = "shard"  # which generation task runs this task (hash of the task id)
TASK_FIELDS = (SRC_LANG, TRG_LANG, REF_LANG, REF_TEXT, SOURCE_ID, SHARD)

# -- candidate fields (added to the task fields) ----------------------------------------------
TASK_ID = "task_id"
SRC_TEXT = "src_text"
CANDIDATE_INDEX = "candidate_index"
FINISH_REASON = "finish_reason"  # "stop" | "length" | None when the backend does not say
GENERATOR = "generator"  # model id/path + revision or file hash
LID_LANG = "lid_lang"  # language the LID model assigned to the candidate
LID_SCORE = "lid_score"
PIVOT_TEXT = "pivot_text"  # greedy en->y translation of the anchor, when a scorer uses it as reference
SCORES = "scores"  # raw score per scorer key ({"embedding-usem3": 0.83, "chrf": 41.2})
SCORE = "score"  # the final quality estimate (one scorer's raw score, or the ensemble's combination)
SCORER = "scorer"  # scorer id(s) with version / weight hash
FILTER_REASON = "filter_reason"  # set on excluded candidates (datatrove's key)

CANDIDATE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        (TASK_ID, pa.string()),
        (CANDIDATE_INDEX, pa.int32()),
        ("text", pa.string()),
        (SRC_LANG, pa.string()),
        (TRG_LANG, pa.string()),
        (REF_LANG, pa.string()),
        (SRC_TEXT, pa.string()),
        (REF_TEXT, pa.string()),
        (SOURCE_ID, pa.string()),
        (FINISH_REASON, pa.string()),
        (GENERATOR, pa.string()),
        (LID_LANG, pa.string()),
        (LID_SCORE, pa.float32()),
        (PIVOT_TEXT, pa.string()),
        (SCORES, pa.map_(pa.string(), pa.float64())),
        (SCORE, pa.float64()),
        (SCORER, pa.string()),
        (FILTER_REASON, pa.string()),
    ]
)

# -- pair rows -------------------------------------------------------------------------------
_MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))

PAIR_SCHEMA = pa.schema(
    [
        ("prompt", _MESSAGES),
        ("chosen", _MESSAGES),
        ("rejected", _MESSAGES),
        (SRC_LANG, pa.string()),
        (TRG_LANG, pa.string()),
        (REF_LANG, pa.string()),
        (SRC_TEXT, pa.string()),
        (REF_TEXT, pa.string()),
        ("chosen_score", pa.float64()),
        ("rejected_score", pa.float64()),
        ("margin", pa.float64()),
        (TASK_ID, pa.string()),
        (SOURCE_ID, pa.string()),
        (GENERATOR, pa.string()),
        (SCORER, pa.string()),
    ]
)


def candidate_row(doc) -> dict:
    """Flatten a candidate ``Document`` into a row of ``CANDIDATE_SCHEMA``."""
    meta = doc.metadata
    row = {name: meta.get(name) for name in CANDIDATE_SCHEMA.names}
    row["id"] = doc.id
    row["text"] = doc.text
    return row


def candidate_document(row: dict):
    """Rebuild a candidate ``Document`` from a row of ``CANDIDATE_SCHEMA`` (inverse of ``candidate_row``)."""
    from datatrove.data import Document

    metadata = {k: v for k, v in row.items() if k not in ("id", "text") and v is not None}
    if isinstance(metadata.get(SCORES), list):  # parquet maps read back as (key, value) pairs
        metadata[SCORES] = dict(metadata[SCORES])
    return Document(text=row["text"], id=row["id"], metadata=metadata)


def direction(src_lang: str, trg_lang: str) -> str:
    """Config and folder name of a direction, e.g. ``de-zh``."""
    return f"{src_lang}-{trg_lang}"

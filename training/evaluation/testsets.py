"""Test sets: multiway rows (one sentence per language) and the translation directions drawn from them.

Accepted: FLORES-style folders (``<flores_code>.<split>`` files, flat or under ``<split>/``), multiway
jsonl / parquet files or folders (a column per language, ISO or FLORES codes; ``id`` and unknown
columns are ignored; a ``sentence_`` prefix as in facebook/flores is stripped), any multiway
``datasets`` dataset (``hf:NAME`` or a Hub id that is not a local path), and ``demo``.

``demo`` is the bundled test split: rows 41-48 of ``eax_data/demo/multiway.jsonl``. Rows 1-40 are for
building and training (the bundled demo recipe reads rows 1-20), so a model built from the demo corpus
is never evaluated on its own training sentences.

Reading reuses ``builders.readers`` (the datatrove readers the build uses), so a corpus readable by
a build is readable here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from loguru import logger

from eax_data import languages
from eax_data.training.evaluation import EvaluationError

DEMO = "demo"
DEMO_TEST_ROWS = (41, 48)  # 1-based, inclusive lines of eax_data/demo/multiway.jsonl
DIRECTION_SETS = ("x2x", "en2x", "x2en", "all")
GROUPS = ("x2x", "en2x", "x2en")
_IGNORED = {"id", "ID", "Id", "row_id", "index"}
_PREFIX = "sentence_"  # facebook/flores (datasets) spells columns sentence_<flores_code>


@dataclass(frozen=True)
class TestSet:
    """Line-aligned sentences per language; ``rows[i][lang]`` may be missing for incomplete corpora."""

    name: str  # what results.json calls it: "demo", a folder or file name, a dataset id
    location: str  # resolved path or dataset id
    format: str  # demo | flores | jsonl | parquet | hf
    split: str | None
    languages: tuple[str, ...]  # ISO codes, English first
    rows: tuple[dict, ...]
    row_refs: tuple[str, ...]  # file:line (or dataset:index) of every row, for messages

    def pair(self, src: str, trg: str) -> tuple[list[int], list[str], list[str]]:
        """(row indices, sources, references) of rows with both sides non-empty."""
        kept = [i for i, row in enumerate(self.rows) if (row.get(src) or "").strip() and (row.get(trg) or "").strip()]
        return kept, [self.rows[i][src] for i in kept], [self.rows[i][trg] for i in kept]

    def describe(self) -> dict:
        return {"name": self.name, "location": self.location, "format": self.format, "split": self.split,
                "rows": len(self.rows), "languages": list(self.languages)}


def direction_group(src: str, trg: str) -> str:
    """x2x (neither side English), en2x or x2en."""
    if src == languages.ENGLISH:
        return "en2x"
    return "x2en" if trg == languages.ENGLISH else "x2x"


def directions(langs, which: str = "all") -> list[tuple[str, str]]:
    """Ordered (src, trg) pairs: x2x = every ordered pair of non-English languages, plus en->x / x->en."""
    if which not in DIRECTION_SETS:
        raise EvaluationError(f"--directions: {which!r} is not one of {', '.join(DIRECTION_SETS)}")
    codes = list(dict.fromkeys(languages.normalize(c) for c in langs))
    non_en = [c for c in codes if c != languages.ENGLISH]
    wanted = []
    if which in ("x2x", "all"):
        if len(non_en) < 2:
            raise EvaluationError(f"--directions {which}: x2x needs two non-English languages, got {non_en}")
        wanted += languages.x2x_directions(non_en)
    if which in ("en2x", "x2en", "all"):
        if languages.ENGLISH not in codes:
            raise EvaluationError(f"--directions {which}: needs English (en / eng_Latn) among the languages {codes}")
        if not non_en:
            raise EvaluationError(f"--directions {which}: needs at least one non-English language")
        if which in ("en2x", "all"):
            wanted += [(languages.ENGLISH, c) for c in non_en]
        if which in ("x2en", "all"):
            wanted += [(c, languages.ENGLISH) for c in non_en]
    return wanted


def _column_language(column: str) -> str | None:
    if column in _IGNORED:
        return None
    name = column[len(_PREFIX):] if column.startswith(_PREFIX) else column
    try:
        return languages.normalize(name)
    except languages.UnknownLanguageError:
        return None


def _kind(spec: str, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    if spec == DEMO:
        return DEMO
    if spec.startswith("hf:"):
        return "hf"
    if os.path.exists(spec):
        return "file"
    if spec.startswith((".", "/", "~")) or spec.count("/") > 1 or spec.endswith((".jsonl", ".parquet", ".json")):
        raise EvaluationError(f"--testset: {spec} does not exist")
    return "hf"  # a Hub id: "name" or "org/name"


def load_testset(spec: str, split: str | None = None, config: str | None = None, langs=None,
                 limit: int | None = None, fmt: str = "auto") -> TestSet:
    """Read a test set; ``langs`` keeps those languages (English is kept too), ``limit`` the first rows."""
    from eax_data.builders.readers import ROW, ROW_REF, CorpusError, make_reader

    if limit is not None and limit < 1:
        raise EvaluationError("--limit: must be >= 1")
    kind = _kind(spec, fmt)
    if kind == DEMO:
        split, read_limit, location = "test", -1, DEMO
    elif kind == "hf":
        location = spec.removeprefix("hf:")
        split = split or "test"
        read_limit = limit or -1
    else:
        location = os.path.expanduser(spec)
        split = split or "devtest"
        read_limit = limit or -1
    try:
        reader = make_reader(DEMO if kind == DEMO else (f"hf:{location}" if kind == "hf" else location),
                             fmt="auto" if kind in (DEMO, "file") else kind, split=split, config=config, limit=read_limit)
        documents = list(reader.run())
    except CorpusError as err:
        raise EvaluationError(f"--testset: {err}") from None
    except Exception as err:  # datasets / pyarrow errors: name the test set, keep the cause
        if kind != "hf":
            raise
        raise EvaluationError(f"--testset {spec}: could not load split {split!r} of this dataset: {type(err).__name__}: {err}") from None
    fmt_name = DEMO if kind == DEMO else kind if kind == "hf" else type(reader).__name__
    fmt_name = {"FloresReader": "flores", "CountingJsonlReader": "jsonl", "ParquetReader": "parquet"}.get(fmt_name, fmt_name)
    if kind == DEMO:
        first, last = DEMO_TEST_ROWS
        if len(documents) < last:
            raise EvaluationError(f"demo corpus: expected {last} rows, found {len(documents)}")
        documents = documents[first - 1 : last]
        documents = documents[:limit] if limit else documents
    rows, refs = _rows(documents, ROW, ROW_REF, location)
    present = [c for c in dict.fromkeys(c for row in rows for c in row) if any((r.get(c) or "").strip() for r in rows)]
    present = sorted(present, key=lambda c: (c != languages.ENGLISH, list(languages.BY_CODE).index(c)))
    chosen = present
    if langs:
        wanted = list(dict.fromkeys(languages.normalize(c) for c in langs))
        missing = [c for c in wanted if c not in present]
        if missing:
            raise EvaluationError(f"--langs: {missing} not in test set {spec} (it has {present})")
        chosen = [c for c in present if c in wanted or c == languages.ENGLISH]
    rows = [{c: row[c] for c in chosen if c in row} for row in rows]
    local = kind != "hf" or os.path.exists(location)
    name = DEMO if kind == DEMO else os.path.basename(os.path.normpath(location)) if local else location
    logger.info("test set {}: {} rows, languages {}", name, len(rows), " ".join(chosen))
    return TestSet(name, location, fmt_name, split, tuple(chosen), tuple(rows), tuple(refs))


def _rows(documents, row_key: str, ref_key: str, location: str) -> tuple[list[dict], list[str]]:
    """Language-keyed rows; columns that are not languages are ignored (logged once)."""
    if not documents:
        raise EvaluationError(f"--testset {location}: no rows")
    rows, refs, ignored = [], [], set()
    for doc in documents:
        raw, ref = doc.metadata[row_key], doc.metadata[ref_key]
        row: dict[str, str] = {}
        for column, value in raw.items():
            code = _column_language(str(column))
            if code is None:
                if column not in _IGNORED:
                    ignored.add(str(column))
                continue
            if code in row:
                raise EvaluationError(f"{ref}: two columns are language {code!r} (one is {column!r})")
            if value is not None and not isinstance(value, str):
                raise EvaluationError(f"{ref}: column {column!r} holds {type(value).__name__}, expected a sentence")
            row[code] = value or ""
        rows.append(row)
        refs.append(ref)
    if ignored:
        logger.info("test set {}: ignoring columns that are not languages: {}", location, ", ".join(sorted(ignored)))
    codes = {c for row in rows for c in row}
    if len(codes) < 2:
        raise EvaluationError(f"--testset {location}: needs a column per language (ISO or FLORES codes); found languages {sorted(codes)}")
    return rows, refs

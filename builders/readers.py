"""Corpus readers: English-centric pairs or multiway rows, streamed as *row documents*.

Reading reuses datatrove's readers (sharding, compression, fsspec paths, `datasets` streaming); a
row document carries the untouched row in ``metadata["row"]`` and where it came from in
``metadata["row_ref"]`` (``file:line``), so the next step (``builders.anchors``) can validate it and
name the exact row in every error or drop.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.readers import HuggingFaceDatasetReader, JsonlReader, ParquetReader
from loguru import logger

from eax_data import languages

ROW = "row"
ROW_REF = "row_ref"
_PLACEHOLDER = "<row>"  # datatrove skips documents without text; the row itself lives in metadata


class CorpusError(ValueError):
    """A corpus that cannot be read; the message names the file or dataset."""


def _row_adapter(self, data: dict, path: str, id_in_file):
    return {"text": _PLACEHOLDER, "id": f"{path}:{id_in_file}", "metadata": {ROW: data, ROW_REF: f"{path}:{id_in_file}"}}


class CountingJsonlReader(JsonlReader):
    """datatrove's JsonlReader, but a malformed line is a counted drop naming ``file:line``."""

    name = "🐿 Jsonl rows"

    def read_file(self, filepath: str):
        import orjson

        with self.data_folder.open(filepath, "r", compression=self.compression) as f:
            for line_number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    data = orjson.loads(line)
                except orjson.JSONDecodeError as err:
                    self.stat_update("dropped_malformed_json")
                    logger.warning(f"{filepath}:{line_number}: malformed JSON line dropped ({err})")
                    continue
                if not isinstance(data, dict):
                    self.stat_update("dropped_malformed_json")
                    logger.warning(f"{filepath}:{line_number}: a row must be a JSON object, dropped")
                    continue
                document = self.get_document_from_dict(data, filepath, line_number)
                if document:
                    yield document


class FloresReader(PipelineStep):
    """A FLORES-style folder of line-aligned ``<flores_code>.<split>`` files, read as multiway rows.

    Accepts the files directly in the folder or under ``<folder>/<split>/`` (FLORES-200's layout).
    Languages are the registry's languages whose file exists; English must be among them.
    """

    name = "🌸 FLORES rows"
    type = "📖 - READER"

    def __init__(self, folder: str, split: str = "devtest", languages_wanted: tuple[str, ...] | None = None, limit: int = -1):
        super().__init__()
        self.folder, self.split, self.limit = folder, split, limit
        self.languages_wanted = languages_wanted

    def files(self) -> dict[str, str]:
        found = {}
        for base in (self.folder, os.path.join(self.folder, self.split)):
            for path in sorted(glob.glob(os.path.join(base, f"*.{self.split}"))):
                stem = Path(path).name[: -len(self.split) - 1]
                try:
                    code = languages.normalize(stem)
                except languages.UnknownLanguageError:
                    continue
                if self.languages_wanted is None or code in self.languages_wanted or code == languages.ENGLISH:
                    found.setdefault(code, path)
        if languages.ENGLISH not in found:
            raise CorpusError(f"{self.folder}: no English file (eng_Latn.{self.split}) in this FLORES-style folder")
        return found

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        files = self.files()
        columns = {}
        for code, path in files.items():
            with open(path, encoding="utf-8") as handle:
                columns[code] = handle.read().split("\n")
            if columns[code] and columns[code][-1] == "":
                columns[code].pop()
        lengths = {files[c]: len(lines) for c, lines in columns.items()}
        if len(set(lengths.values())) > 1:
            raise CorpusError(f"{self.folder}: FLORES files are not line-aligned: {lengths}")
        n_rows = next(iter(lengths.values()))
        for index in range(rank, n_rows, world_size):
            if self.limit != -1 and index >= self.limit:
                break
            row = {code: lines[index] for code, lines in columns.items()}
            ref = f"{self.folder}:{index + 1}"
            self.stat_update("rows")
            yield Document(text=_PLACEHOLDER, id=ref, metadata={ROW: row, ROW_REF: ref})


def make_reader(path: str, fmt: str = "auto", split: str = "train", config: str | None = None, languages_wanted=None, limit: int = -1) -> PipelineStep:
    """The datatrove reader for a corpus location: a file, a folder, ``hf:NAME`` or ``demo``."""
    if path == "demo":
        from importlib import resources

        path = str(resources.files("eax_data").joinpath("demo", "multiway.jsonl"))
    if fmt == "hf" or path.startswith("hf:"):
        name = path.removeprefix("hf:")
        options = {"split": split} | ({"name": config} if config else {})
        return HuggingFaceDatasetReader(name, dataset_options=options, adapter=_row_adapter, limit=limit)
    if "://" not in path and not os.path.exists(path):
        raise CorpusError(f"{path}: corpus not found")
    fmt = _detect_format(path, split) if fmt == "auto" else fmt
    if fmt == "flores":
        return FloresReader(path, split=split, languages_wanted=languages_wanted, limit=limit)
    folder, pattern = (path, None) if os.path.isdir(path) else (str(Path(path).parent), Path(path).name)
    if fmt == "jsonl":
        return CountingJsonlReader(folder, glob_pattern=pattern or "*.jsonl*", adapter=_row_adapter, limit=limit)
    if fmt == "parquet":
        return ParquetReader(folder, glob_pattern=pattern or "*.parquet", adapter=_row_adapter, limit=limit)
    raise CorpusError(f"{path}: unknown corpus format {fmt!r}")


def _detect_format(path: str, split: str) -> str:
    if os.path.isdir(path):
        names = os.listdir(path)
        if any(n.endswith(f".{split}") for n in names) or os.path.isdir(os.path.join(path, split)):
            return "flores"
        if any(n.endswith(".parquet") for n in names):
            return "parquet"
        if any(".jsonl" in n for n in names):
            return "jsonl"
        raise CorpusError(f"{path}: no .jsonl, .parquet or FLORES .{split} files in this folder")
    if path.endswith(".parquet"):
        return "parquet"
    if ".jsonl" in path or path.endswith(".json"):
        return "jsonl"
    raise CorpusError(f"{path}: cannot tell the format from the name; set corpus.format")

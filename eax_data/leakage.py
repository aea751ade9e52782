"""Test-set leakage: an index of evaluation sentences and a matcher for corpus sentences.

A preference set built from a corpus that contains FLORES/WMT test sentences (as sources x or as
English anchors e) inflates every score measured on those test sets. The index holds, for each
test sentence, the hash of its normalised form (exact duplicates) and the 64-bit hashes of its
word n-grams (near duplicates: case, punctuation, small edits, a test sentence inside a longer row).

Ideas taken from datatrove's n-gram decontamination (``datatrove.pipeline.decont.n_grams``): hash
n-grams of normalised text with ``create_hash_func(HashConfig())`` (xxhash64) and keep them as a
numpy ``uint64`` array. Unlike datatrove (one hit = contaminated, English word tokenizer), a sentence
is *near* when a share of its n-grams overlaps, and scripts written without spaces use characters.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import NamedTuple, Optional

import numpy as np
import regex
from datatrove.utils.hashing import HashConfig, create_hash_func

from eax_data import languages as _languages
from eax_data.builders.readers import ROW, ROW_REF, FloresReader, make_reader

ACTIONS = ("warn", "drop", "fail")
FLORES_SPLITS = ("dev", "devtest")  # a FLORES-style test folder: every split found is indexed
FIELDS = ("source", "anchor")
KINDS = ("exact", "near")
# Row fields that hold ids, codes or URLs, not sentences: never indexed.
_META_KEYS = frozenset({"id", "lang", "language", "url", "split", "domain", "topic", "license"})
_META_SUFFIXES = ("_id", "_lang", "_url")

# Scripts written without spaces between words: every character is a token.
_SPACELESS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Bopomofo}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}"
_SPACELESS_CHAR = regex.compile(rf"[{_SPACELESS}]")
_TOKEN = regex.compile(rf"[{_SPACELESS}]|[^\s{_SPACELESS}]+")
_FORMAT_CHARS = regex.compile(r"\p{Cf}+")  # soft hyphen, zero-width (non-)joiners: deleted
_PUNCT_SYMBOLS = regex.compile(r"[\p{P}\p{S}\p{C}]+")  # punctuation, symbols, controls: a space

_xxhash64 = create_hash_func(HashConfig(precision=64, hash_fc="xxhash"), input_type=bytes)


def _hash(text: str) -> int:
    # xxhash 4 refuses str (datatrove's default str hash func raises here): hash the UTF-8 bytes.
    return _xxhash64(text.encode())


class LeakageError(ValueError):
    """A test set that cannot be read, or (action ``fail``) a corpus that overlaps a test set."""


class TestSentence(NamedTuple):
    text: str  # as read from the test set
    ref: str  # ``file:line[:field]``


class Match(NamedTuple):
    kind: Optional[str]  # "exact" | "near" | None
    overlap: float  # 1.0 for exact; else the n-gram overlap (see ``TestSetIndex.match``)
    example: Optional[TestSentence]  # the closest test sentence, when any n-gram is shared


def normalize(text: str) -> str:
    """NFKC (full-width forms = ASCII), casefold, punctuation/symbols -> space, collapsed spaces."""
    text = _FORMAT_CHARS.sub("", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(_PUNCT_SYMBOLS.sub(" ", text).split())


def tokenize(text: str) -> tuple[list[str], bool]:
    """Normalised tokens and whether the text is mostly in a script written without spaces.

    Words elsewhere, single characters for Han/kana/Thai/...: "火车 7点" and "火车7点" share tokens.
    Decided by the text itself, so rows of unknown language (jsonl test sets) are handled too.
    """
    text = normalize(text)
    tokens = _TOKEN.findall(text)
    return tokens, len(_SPACELESS_CHAR.findall(text)) * 2 > len(tokens)  # each such character is a token


class TestSetIndex:
    """Exact and n-gram hashes of test sentences; ``add`` them, ``freeze``, then ``match``.

    Hashes live in sorted numpy arrays (16 bytes per n-gram with its sentence id) rather than
    Python sets/dicts (~70-100 bytes each): FLORES dev+devtest in 20 languages stays a few MB.
    """

    __test__ = False  # not a pytest class

    def __init__(self, ngram: int = 8, min_overlap: float = 0.5):
        if ngram < 1:
            raise ValueError(f"ngram must be >= 1, got {ngram}")
        if not 0.0 < min_overlap <= 1.0:
            raise ValueError(f"min_overlap must be in (0, 1], got {min_overlap}")
        self.ngram, self.min_overlap = ngram, min_overlap
        self._texts: list[str] = []
        self._refs: list[str] = []
        self._seen: set[int] | None = set()  # exact keys while building; None once frozen
        self._exact, self._exact_ids = array("Q"), array("I")
        self._grams, self._gram_ids, self._gram_counts = array("Q"), array("I"), array("I")

    def n_for(self, spaceless: bool) -> int:
        """Word n-gram length, doubled for character tokens (a Chinese word is ~1.5-2 characters)."""
        return 2 * self.ngram if spaceless else self.ngram

    def _gram_hashes(self, tokens: list[str], spaceless: bool) -> set[int]:
        n = self.n_for(spaceless)
        return {_hash(" ".join(tokens[i : i + n])) for i in range(len(tokens) - n + 1)}

    def add(self, text: str, ref: str) -> bool:
        """Index one test sentence; False when it is empty or an exact duplicate of an indexed one."""
        if self._seen is None:
            raise RuntimeError("TestSetIndex is frozen; add sentences before freeze()")
        tokens, spaceless = tokenize(text)
        if not tokens:
            return False
        key = _hash(" ".join(tokens))
        if key in self._seen:
            return False
        self._seen.add(key)
        sentence_id = len(self._texts)
        self._texts.append(text)
        self._refs.append(ref)
        self._exact.append(key)
        self._exact_ids.append(sentence_id)
        grams = self._gram_hashes(tokens, spaceless)
        self._gram_counts.append(len(grams))
        self._grams.extend(grams)
        self._gram_ids.extend([sentence_id] * len(grams))
        return True

    def freeze(self) -> "TestSetIndex":
        """Sort the hashes for ``np.searchsorted`` lookups; no more ``add`` after this."""
        if self._seen is None:
            return self
        self._seen = None
        order = np.argsort(np.frombuffer(self._exact, dtype=np.uint64), kind="stable")
        self._exact = np.frombuffer(self._exact, dtype=np.uint64)[order]
        self._exact_ids = np.frombuffer(self._exact_ids, dtype=np.uint32)[order]
        order = np.argsort(np.frombuffer(self._grams, dtype=np.uint64), kind="stable")
        self._grams = np.frombuffer(self._grams, dtype=np.uint64)[order]
        self._gram_ids = np.frombuffer(self._gram_ids, dtype=np.uint32)[order]
        self._gram_counts = np.frombuffer(self._gram_counts, dtype=np.uint32).copy()
        return self

    def __len__(self) -> int:
        return len(self._texts)

    def sentence(self, sentence_id: int) -> TestSentence:
        return TestSentence(self._texts[sentence_id], self._refs[sentence_id])

    def match(self, text: str) -> Match:
        """How ``text`` overlaps the test sets.

        ``exact``: same normalised tokens as a test sentence. ``near``: overlap >= ``min_overlap``,
        overlap being the larger of (a) the share of the sentence's n-grams found in any test
        sentence and (b) for the closest test sentence, the share of *its* n-grams found in the
        sentence (a test sentence inside a longer row). Sentences shorter than n: exact only.
        """
        if self._seen is not None:
            self.freeze()
        tokens, spaceless = tokenize(text)
        if not tokens:
            return Match(None, 0.0, None)
        key = np.uint64(_hash(" ".join(tokens)))
        at = int(np.searchsorted(self._exact, key))
        if at < len(self._exact) and self._exact[at] == key:
            return Match("exact", 1.0, self.sentence(int(self._exact_ids[at])))
        grams = self._gram_hashes(tokens, spaceless)
        if not grams or not len(self._grams):
            return Match(None, 0.0, None)
        query = np.fromiter(grams, dtype=np.uint64, count=len(grams))
        left = np.searchsorted(self._grams, query)
        hit = self._grams[np.minimum(left, len(self._grams) - 1)] == query
        found = int(hit.sum())
        if not found:
            return Match(None, 0.0, None)
        right = np.searchsorted(self._grams, query[hit], side="right")  # a gram may be in several sentences
        ids = np.concatenate([self._gram_ids[a:b] for a, b in zip(left[hit], right)])
        candidates, shared = np.unique(ids, return_counts=True)
        per_sentence = np.maximum(shared / len(grams), shared / self._gram_counts[candidates])
        best = int(np.argmax(per_sentence))
        overlap = max(found / len(grams), float(per_sentence[best]))
        kind = "near" if overlap >= self.min_overlap else None
        return Match(kind, overlap, self.sentence(int(candidates[best])))

    def stats(self) -> dict:
        """Size of the index, for logs and the report (bytes: hash arrays + stored sentences)."""
        arrays = (self._exact, self._exact_ids, self._grams, self._gram_ids, self._gram_counts)
        hash_bytes = sum(a.nbytes if isinstance(a, np.ndarray) else a.itemsize * len(a) for a in arrays)
        text_bytes = sum(sys.getsizeof(s) for s in self._texts) + sum(sys.getsizeof(s) for s in self._refs)
        return {"sentences": len(self), "ngrams": len(self._grams), "hash_bytes": hash_bytes, "text_bytes": text_bytes}

    @classmethod
    def from_testsets(cls, paths: Iterable[str], ngram: int = 8, min_overlap: float = 0.5, languages=None) -> "TestSetIndex":
        """Index every sentence of every test set; a path that yields no sentence is an error."""
        index = cls(ngram, min_overlap)
        for path in paths:
            read = 0
            for text, ref in read_testset(path, languages):
                index.add(text, ref)
                read += 1
            if not read:
                raise LeakageError(f"{path}: no test sentences found in this test set")
        return index.freeze()


# -- reading test sets ----------------------------------------------------------------------------


def read_testset(path: str, languages=None) -> Iterator[tuple[str, str]]:
    """(sentence, ``file:line[:field]``) for every sentence of a test set.

    FLORES-style folder (``<code>.dev``/``.devtest`` files, flat or under ``dev/``/``devtest/``):
    every line of every registry language file (only ``languages`` + English when given).
    jsonl / parquet file or folder: every string field of every row (nested dicts/lists included),
    except id/language/url-like fields. Any other file: plain text, one sentence per line.
    """
    if "://" in path or path.startswith("hf:"):
        raise LeakageError(f"{path}: test sets must be local files or folders (export it to jsonl first)")
    if not os.path.exists(path):
        raise LeakageError(f"{path}: test set not found")
    try:
        if os.path.isdir(path):
            splits = [s for s in FLORES_SPLITS if _has_flores_split(path, s)]
            if not splits and not any(n.endswith(".parquet") or ".jsonl" in n for n in os.listdir(path)):
                raise LeakageError(f"{path}: no FLORES-style .dev/.devtest files and no .jsonl/.parquet files in this test-set folder")
            yield from (_read_flores(path, splits, languages) if splits else _read_rows(path))
        elif path.endswith(".parquet") or ".jsonl" in path or path.endswith(".json"):
            yield from _read_rows(path)
        else:
            with open(path, encoding="utf-8") as handle:
                for line_number, line in enumerate(handle, start=1):
                    if line.strip():
                        yield line.strip(), f"{path}:{line_number}"
    except LeakageError:
        raise
    except Exception as err:  # CorpusError, OSError, UnicodeDecodeError, ArrowInvalid...: name the file
        raise LeakageError(f"{path}: cannot read test set ({type(err).__name__}: {err})") from err


def _has_flores_split(folder: str, split: str) -> bool:
    return any(name.endswith(f".{split}") for name in os.listdir(folder)) or os.path.isdir(os.path.join(folder, split))


def _read_flores(folder: str, splits: list[str], languages) -> Iterator[tuple[str, str]]:
    wanted = None if languages is None else tuple(_languages.normalize(code) for code in languages)
    for split in splits:
        reader = FloresReader(folder, split=split, languages_wanted=wanted)
        files = reader.files()
        for document in reader.run(None, 0, 1):
            line = document.metadata[ROW_REF].rsplit(":", 1)[1]
            for code, text in document.metadata[ROW].items():
                if text.strip():
                    yield text.strip(), f"{files[code]}:{line}"


def _read_rows(path: str) -> Iterator[tuple[str, str]]:
    reader = make_reader(path)
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    for document in reader.run(None, 0, 1):
        row_ref = os.path.join(folder, document.metadata[ROW_REF])
        for field, text in _row_strings(document.metadata[ROW]):
            yield text, f"{row_ref}:{field}"
    malformed = reader.stats.stats.get("dropped_malformed_json")
    if malformed is not None and malformed.total:
        raise LeakageError(f"{path}: {int(malformed.total)} malformed JSON line(s) in this test set (see the warnings above)")


def _row_strings(value, field: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if value.strip():
            yield field, value.strip()
    elif isinstance(value, Mapping):
        for key, item in value.items():
            name = str(key)
            if name.lower() in _META_KEYS or name.lower().endswith(_META_SUFFIXES):
                continue
            yield from _row_strings(item, f"{field}.{name}" if field else name)
    elif isinstance(value, (list, tuple)):
        for position, item in enumerate(value):
            yield from _row_strings(item, f"{field}[{position}]")


# -- reports --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leak:
    """One corpus sentence that overlaps a test sentence, as logged and shown on the card."""

    source_id: str
    field: str  # "source" (x) | "anchor" (e)
    kind: str  # "exact" | "near"
    overlap: float
    text: str
    test_ref: str
    test_text: str


def leakage_report(counts: Mapping, examples: Iterable = (), *, action: str = "warn", testsets: Iterable[str] = (), index: Optional[dict] = None) -> dict:
    """JSON-able summary for the card from the guard's stats (``{metric: total}`` or datatrove's
    ``{metric: {"total": ...}}``, e.g. one step of ``pipelines.stats.merge_stage_stats``)."""

    def total(name: str) -> int:
        value = counts.get(name, 0)
        return int(value.get("total", 0) if isinstance(value, Mapping) else value)

    return {
        "action": action,
        "testsets": list(testsets),
        "checked": total("leak_checked"),
        "leaking": total("leak_documents"),
        "by_kind": {kind: {field: total(f"leak_{kind}_{field}") for field in FIELDS} for kind in KINDS},
        "dropped": {kind: total(f"dropped_test_overlap_{kind}") for kind in KINDS},
        "examples": [asdict(e) if isinstance(e, Leak) else dict(e) for e in examples],
        "index": index,
    }

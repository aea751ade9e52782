"""Candidate filters: drop sampled translations that cannot be a fair preference candidate.

Each filter is a datatrove ``BaseFilter`` returning ``True`` or ``(False, reason)``; datatrove
counts ``dropped_<reason>`` and, given an ``exclusion_writer``, writes the dropped candidate with
``metadata["filter_reason"]``. ``build_candidate_filters`` turns a recipe's ``FiltersConfig``
into the chain, cheapest checks first so the language-ID model sees as few candidates as possible.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.writers.disk_base import DiskWriter

from eax_data.recipe import FiltersConfig
from eax_data.schema import REF_LANG, REF_TEXT, SRC_TEXT, TASK_ID, TRG_LANG

from .language_id import LanguageIdFilter, make_identifier

_WHITESPACE = re.compile(r"\s+")


def normalize_for_comparison(text: str) -> str:
    """NFKC, casefold, collapse whitespace, strip trailing punctuation: "Hallo Welt!" == "hallo  welt"."""
    text = _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    end = len(text)
    while end and (unicodedata.category(text[end - 1]).startswith("P") or text[end - 1].isspace()):
        end -= 1
    return text[:end]


class EmptyCandidateFilter(BaseFilter):
    """Drops empty or whitespace-only candidates (a sampler that stopped at once)."""

    name = "Empty candidate"
    reads = ()
    writes = ()

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        return True if doc.text and doc.text.strip() else (False, "empty")


class CopyFilter(BaseFilter):
    """Drops candidates that copy the source sentence or the English anchor instead of translating.

    Both are cheap to produce and score well on surface overlap, so they would poison the
    preference pairs; compared after ``normalize_for_comparison``.
    """

    name = "Copy of source/reference"
    reads = (SRC_TEXT, REF_TEXT)
    writes = ()

    def __init__(self, exclusion_writer: DiskWriter | None = None):
        super().__init__(exclusion_writer)
        self._task_texts: tuple = (None, None, "", "")  # (source, anchor, normalised source, normalised anchor)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        candidate = normalize_for_comparison(doc.text)
        if not candidate:
            return True  # emptiness is EmptyCandidateFilter's call
        source, anchor = doc.metadata[SRC_TEXT] or "", doc.metadata[REF_TEXT] or ""
        if self._task_texts[:2] != (source, anchor):  # the N candidates of a task share both
            self._task_texts = (source, anchor, normalize_for_comparison(source), normalize_for_comparison(anchor))
        if candidate == self._task_texts[2]:
            return False, "copy_of_source"
        # A reference already in the target language (reward_data tasks: the human translation) is
        # the ideal output, not a copy.
        if candidate == self._task_texts[3] and doc.metadata.get(REF_LANG) != doc.metadata.get(TRG_LANG):
            return False, "copy_of_reference"
        return True


# Latin-character equivalents of one character, by Unicode block. One Han character carries
# about a word (English averages ~4-5 letters plus a space; FLORES English sentences run ~3x
# the characters of their Chinese versions), a Hangul syllable or kana about half a word.
# Everything else (Latin, Cyrillic, Greek, Arabic, Devanagari, digits, punctuation) counts 1.
_SCRIPT_WEIGHTS: tuple[tuple[int, int, float], ...] = (
    (0x1100, 0x11FF, 2.5),  # Hangul Jamo
    (0x3040, 0x30FF, 2.5),  # Hiragana, Katakana
    (0x3130, 0x318F, 2.5),  # Hangul Compatibility Jamo
    (0x31F0, 0x31FF, 2.5),  # Katakana Phonetic Extensions
    (0x3400, 0x4DBF, 3.0),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF, 3.0),  # CJK Unified Ideographs
    (0xAC00, 0xD7AF, 2.5),  # Hangul Syllables
    (0xF900, 0xFAFF, 3.0),  # CJK Compatibility Ideographs
    (0xFF66, 0xFF9F, 2.5),  # Halfwidth Katakana
    (0x20000, 0x3134F, 3.0),  # CJK Extensions B-H, Compatibility Supplement
)


def _character_class(weight: float) -> re.Pattern:
    ranges = "".join(f"{chr(low)}-{chr(high)}" for low, high, w in _SCRIPT_WEIGHTS if w == weight)
    return re.compile(f"[{ranges}]")


# One regex per weight: the C regex engine counts wide characters, no Python loop per character.
_WEIGHT_CLASSES = tuple((weight - 1.0, _character_class(weight)) for weight in sorted({w for _, _, w in _SCRIPT_WEIGHTS}))


def weighted_length(text: str) -> float:
    """Length in Latin-character equivalents: whitespace runs count once, CJK/Hangul per ``_SCRIPT_WEIGHTS``."""
    text = _WHITESPACE.sub(" ", text).strip()
    return len(text) + sum(extra * len(pattern.findall(text)) for extra, pattern in _WEIGHT_CLASSES)


class LengthRatioFilter(BaseFilter):
    """Drops candidates far longer or shorter than the English anchor (rambling, truncation, echoes).

    The ratio is ``weighted_length(candidate) / weighted_length(ref_text)``. Raw character counts
    would make every Chinese/Japanese/Korean translation look 2-3x too short next to English, so
    each CJK ideograph counts 3 Latin characters and each Hangul syllable or kana 2.5: one weight
    table applied to both sides, so the same bounds serve every direction, with CJK/Hangul on
    either side. An anchor of length 0 cannot be compared against, and the candidate is kept.
    """

    name = "Length ratio"
    reads = (REF_TEXT,)
    writes = ()

    def __init__(self, min_ratio: float = 0.3, max_ratio: float = 3.0, exclusion_writer: DiskWriter | None = None):
        super().__init__(exclusion_writer)
        if not 0 < min_ratio < max_ratio:
            raise ValueError(f"length ratio needs 0 < min_ratio < max_ratio, got {min_ratio}, {max_ratio}")
        self.min_ratio = min_ratio
        self.max_ratio = max_ratio
        self._anchor_cache: tuple[str | None, float] = (None, 0.0)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        anchor_text = doc.metadata[REF_TEXT] or ""
        if self._anchor_cache[0] != anchor_text:  # the N candidates of a task share one anchor
            self._anchor_cache = (anchor_text, weighted_length(anchor_text))
        anchor = self._anchor_cache[1]
        if anchor == 0:
            return True
        ratio = weighted_length(doc.text) / anchor
        return True if self.min_ratio <= ratio <= self.max_ratio else (False, "length_ratio")


class DuplicateCandidateFilter(BaseFilter):
    """Drops a candidate identical (after normalising) to an earlier one of the same task.

    Two equal candidates would form a pair with zero margin and double-weight one output. The
    first one is kept. Candidates of a task arrive consecutively, so only the current task's
    texts are remembered: memory is bounded by the number of samples per task.
    """

    name = "Duplicate candidate"
    reads = (TASK_ID,)
    writes = ()

    def __init__(self, exclusion_writer: DiskWriter | None = None):
        super().__init__(exclusion_writer)
        self._task_id: str | None = None
        self._seen: set[str] = set()

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        task_id = doc.metadata[TASK_ID]
        if task_id != self._task_id:
            self._task_id, self._seen = task_id, set()
        key = normalize_for_comparison(doc.text)
        if key in self._seen:
            return False, "duplicate"
        self._seen.add(key)
        return True


ExclusionWriterFactory = Callable[[str], "DiskWriter | None"]


def build_candidate_filters(
    config: FiltersConfig, exclusion_writer_factory: ExclusionWriterFactory | None = None
) -> list[BaseFilter]:
    """The configured chain: empty, copy, length_ratio, duplicates, language_id (disabled ones skipped).

    ``exclusion_writer_factory(group)`` is called once per built filter with its short name;
    with ``config.keep_excluded`` false it is not called and dropped candidates are not written.
    """

    def writer(group: str) -> DiskWriter | None:
        if exclusion_writer_factory is None or not config.keep_excluded:
            return None
        return exclusion_writer_factory(group)

    chain: list[BaseFilter] = []
    if config.empty:
        chain.append(EmptyCandidateFilter(exclusion_writer=writer("empty")))
    if config.copy:
        chain.append(CopyFilter(exclusion_writer=writer("copy")))
    if config.length_ratio is not None:
        lr = config.length_ratio
        chain.append(LengthRatioFilter(lr.min, lr.max, exclusion_writer=writer("length_ratio")))
    if config.duplicates:
        chain.append(DuplicateCandidateFilter(exclusion_writer=writer("duplicates")))
    identifier = make_identifier(config.language_id)
    if identifier is not None:
        chain.append(
            LanguageIdFilter(
                identifier, min_score=config.language_id.min_score, exclusion_writer=writer("language_id")
            )
        )
    return chain

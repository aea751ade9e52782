"""Candidate filters: drop sampled translations that cannot be a fair preference candidate.

Each filter is a datatrove ``BaseFilter`` returning ``True`` or ``(False, reason)``; datatrove
counts ``dropped_<reason>`` and, given an ``exclusion_writer``, writes the dropped candidate with
``metadata["filter_reason"]``. ``build_candidate_filters`` turns a recipe's ``FiltersConfig``
into the chain, cheapest checks first so the language-ID model sees as few candidates as possible.
This module holds the whole-candidate checks; ``quality_filters`` the content checks (partial
copies, script, sentence-level language, repetition, truncation, numbers).
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
from .quality_filters import (
    NumberConsistencyFilter,
    PartialCopyFilter,
    RepetitionFilter,
    ScriptFilter,
    SentenceLanguageIdFilter,
    TruncationFilter,
)
from .text_checks import weighted_length

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


# Typical weighted length of a translation relative to English (``weighted_length``), measured as
# the median human/English ratio over the 48 rows of eax_data/demo/multiway.jsonl (human ranges:
# de 0.87-1.39, fr 0.93-1.46, es 0.73-1.34, zh 0.65-1.12, ru 0.72-1.35). Languages not listed
# count as 1.0 (no measurement; add one with a median over at least a few dozen sentences).
TYPICAL_LENGTH_RATIO: dict[str, float] = {"en": 1.0, "de": 1.11, "fr": 1.12, "es": 1.11, "zh": 0.84, "ru": 0.96}


def expected_length_ratio(target: str, anchor: str) -> float:
    """Typical ``weighted_length(translation into target) / weighted_length(anchor text)``."""
    return TYPICAL_LENGTH_RATIO.get(target, 1.0) / TYPICAL_LENGTH_RATIO.get(anchor, 1.0)


class LengthRatioFilter(BaseFilter):
    """Drops candidates far longer or shorter than the English anchor (rambling, truncation, echoes).

    The ratio is ``weighted_length(candidate) / weighted_length(ref_text)``. Raw character counts
    would make every Chinese/Japanese/Korean translation look 2-3x too short next to English, so
    each CJK ideograph counts 3 Latin characters and each Hangul syllable or kana 2.5: one weight
    table applied to both sides, so the same bounds serve every direction, with CJK/Hangul on
    either side. With ``per_language`` the ratio is divided by the direction's typical ratio
    (``TYPICAL_LENGTH_RATIO``: French runs ~12% longer than English, Chinese ~16% shorter even
    weighted), so the bounds mean the same in every direction. An anchor of length 0 cannot be
    compared against, and the candidate is kept.
    """

    name = "Length ratio"
    reads = (REF_TEXT, REF_LANG, TRG_LANG)
    writes = ()

    def __init__(
        self,
        min_ratio: float = 0.3,
        max_ratio: float = 3.0,
        exclusion_writer: DiskWriter | None = None,
        per_language: bool = False,
    ):
        super().__init__(exclusion_writer)
        if not 0 < min_ratio < max_ratio:
            raise ValueError(f"length ratio needs 0 < min_ratio < max_ratio, got {min_ratio}, {max_ratio}")
        self.min_ratio = min_ratio
        self.max_ratio = max_ratio
        self.per_language = per_language
        self._anchor_cache: tuple[str | None, float] = (None, 0.0)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        anchor_text = doc.metadata[REF_TEXT] or ""
        if self._anchor_cache[0] != anchor_text:  # the N candidates of a task share one anchor
            self._anchor_cache = (anchor_text, weighted_length(anchor_text))
        anchor = self._anchor_cache[1]
        if anchor == 0:
            return True
        ratio = weighted_length(doc.text) / anchor
        if self.per_language:
            ratio /= expected_length_ratio(doc.metadata[TRG_LANG], doc.metadata[REF_LANG])
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
    """The configured chain, cheapest first so the language-ID model sees as few candidates as possible:
    empty, truncation, copy, length_ratio, duplicates, numbers, script, repetition, partial_copy,
    language_id, sentence_language_id (disabled ones skipped).

    ``exclusion_writer_factory(group)`` is called once per built filter with its short name;
    with ``config.keep_excluded`` false it is not called and dropped candidates are not written.
    Sentence-level language ID uses the ``language_id`` backend: with backend "none" it is off too.
    """

    def writer(group: str) -> DiskWriter | None:
        if exclusion_writer_factory is None or not config.keep_excluded:
            return None
        return exclusion_writer_factory(group)

    chain: list[BaseFilter] = []
    if config.empty:
        chain.append(EmptyCandidateFilter(exclusion_writer=writer("empty")))
    if config.truncation is not None:
        tr = config.truncation
        chain.append(
            TruncationFilter(tr.finish_reason, tr.brackets, tr.final_punctuation, exclusion_writer=writer("truncation"))
        )
    if config.copy:
        chain.append(CopyFilter(exclusion_writer=writer("copy")))
    if config.length_ratio is not None:
        lr = config.length_ratio
        chain.append(LengthRatioFilter(lr.min, lr.max, exclusion_writer=writer("length_ratio"), per_language=lr.per_language))
    if config.duplicates:
        chain.append(DuplicateCandidateFilter(exclusion_writer=writer("duplicates")))
    if config.numbers is not None:
        nu = config.numbers
        chain.append(NumberConsistencyFilter(nu.cjk_numerals, nu.roman_numerals, nu.added, exclusion_writer=writer("numbers")))
    if config.script is not None:
        chain.append(ScriptFilter(config.script.min_share, exclusion_writer=writer("script")))
    if config.repetition is not None:
        rp = config.repetition
        chain.append(
            RepetitionFilter(
                rp.max_repeats,
                rp.ngram,
                rp.max_duplicate_fraction,
                rp.min_compression_ratio,
                rp.compression_min_bytes,
                exclusion_writer=writer("repetition"),
            )
        )
    if config.partial_copy is not None:
        pc = config.partial_copy
        chain.append(PartialCopyFilter(pc.ngram, pc.max_share, pc.reference, pc.source, exclusion_writer=writer("partial_copy")))
    identifier = make_identifier(config.language_id)
    if identifier is not None:
        chain.append(
            LanguageIdFilter(
                identifier, min_score=config.language_id.min_score, exclusion_writer=writer("language_id")
            )
        )
        if config.sentence_language_id is not None:
            sl = config.sentence_language_id
            chain.append(
                SentenceLanguageIdFilter(
                    identifier, sl.min_chars, sl.min_score, exclusion_writer=writer("sentence_language_id")
                )
            )
    return chain
